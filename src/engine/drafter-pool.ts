// The engine's named drafters, which can be replaced while the engine runs (an operator rolls out
// a retrained drafter without a restart). The new folder is checked exactly as at boot
// (drafter-model.ts: vocabulary, config, ONNX inputs and outputs, or every n-gram table) before
// anything changes, so a bad folder leaves the old drafter serving. A generation takes its
// drafter when it starts running and keeps that model to its end; a replaced model's onnxruntime
// session is released as soon as no generation holds it (at once when none does), not left to
// the garbage collector, since a session's native memory is invisible to V8's heap accounting.
// Every loaded model gets a new revision number, which each result carries, so the router can
// tell observations of the old model from the new one's.

import { basename, dirname, resolve } from 'node:path';
import { loadDrafterModel, type DrafterKind, type DrafterLoadContext, type DrafterModel } from './drafter-model.js';
import { EngineError } from './errors.js';

/** A drafter as listed by Engine.drafters(). */
export interface DrafterInfo {
  name: string;
  /** Model id, for logs and results. */
  id: string;
  /** Absolute path of the model folder. */
  source: string;
  kind: DrafterKind;
  /** Increases with every model the engine loads; results name the revision that drafted them. */
  revision: number;
  /** When this model was loaded (ms since the epoch). */
  loadedAt: number;
  /** A neural drafter's shape; null for the other kinds. */
  numLayers: number | null;
  hiddenSize: number | null;
  vocabSize: number;
  contextLength: number;
  /** Bytes of the files loaded (a neural drafter's ONNX graph and weights, n-gram tables); null if unreadable. */
  bytes: number | null;
  /** Generations running with this model now. */
  inUse: number;
}

/** What Engine.replaceDrafter() did: the drafter's new model, and the one it replaced (inUse: at the switch). */
export interface DrafterSwap {
  current: DrafterInfo;
  replaced: DrafterInfo;
}

/** One loaded drafter model and the generations holding it. */
export interface DrafterSlot {
  readonly name: string;
  readonly model: DrafterModel;
  readonly revision: number;
  readonly loadedAt: number;
  users: number;
  /** Replaced: its session is released when the last user finishes. */
  retired: boolean;
}

export class DrafterPool {
  readonly #drafters = new Map<string, DrafterSlot>();
  /** Replaced drafters still held by a running generation. */
  readonly #retiring = new Set<DrafterSlot>();
  readonly #context: DrafterLoadContext;
  readonly #replacedListeners: ((name: string, revision: number) => void)[] = [];
  #revision = 0;
  #swaps: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(
    drafters: ReadonlyMap<string, DrafterModel>,
    /** A new drafter is checked against the verifier's config and tokenizer, and loaded with its model options. */
    context: DrafterLoadContext,
  ) {
    for (const [name, model] of drafters) this.#drafters.set(name, this.#slot(name, model));
    this.#context = context;
  }

  get names(): string[] {
    return [...this.#drafters.keys()];
  }

  /** drafter name -> model id */
  get ids(): Record<string, string> {
    return Object.fromEntries([...this.#drafters].map(([name, slot]) => [name, slot.model.id]));
  }

  /** The current models; at close, once every generation has ended, the only ones loaded. */
  get models(): DrafterModel[] {
    return [...this.#drafters.values()].map((s) => s.model);
  }

  /** The current revision of a drafter; undefined for an unknown name. */
  revision(name: string): number | undefined {
    return this.#drafters.get(name)?.revision;
  }

  /** Replaced models whose sessions wait for a running generation to finish. */
  get retiring(): number {
    return this.#retiring.size;
  }

  async infos(): Promise<DrafterInfo[]> {
    return Promise.all([...this.#drafters.values()].map((slot) => this.#info(slot)));
  }

  /** Throws FS_UNKNOWN_DRAFTER unless `name` is one of the drafters. */
  assertKnown(name: string): void {
    if (!this.#drafters.has(name)) throw this.#unknown(name);
  }

  /** Engine.replaceDrafter(): swaps run one at a time, in call order. */
  async replace(name: string, dir: string, id: string | undefined): Promise<DrafterSwap> {
    if (this.#closed) throw new EngineError('FS_ENGINE_CLOSED', 'the engine is closed');
    this.assertKnown(name);
    const job = this.#swaps.then(() => this.#replace(name, resolve(dir), id));
    this.#swaps = job.catch(() => undefined);
    return job;
  }

  async #replace(name: string, folder: string, id: string | undefined): Promise<DrafterSwap> {
    if (this.#closed) throw new EngineError('FS_ENGINE_CLOSED', 'the engine is closed');
    const model = await loadDrafterModel(name, folder, id ?? `${basename(dirname(folder))}/${basename(folder)}`, this.#context);
    if (this.#closed) {
      await model.release();
      throw new EngineError('FS_ENGINE_CLOSED', 'the engine is closed');
    }
    const old = this.#drafters.get(name)!;
    const slot = this.#slot(name, model);
    this.#drafters.set(name, slot);
    // In the same turn as the switch: no generation can start or end in between.
    for (const listener of this.#replacedListeners) listener(name, slot.revision);
    old.retired = true;
    // Decided in the same turn too: a generation holding the old model releases it when it ends.
    const released = old.users === 0 ? releaseQuietly(old.model) : (this.#retiring.add(old), Promise.resolve());
    const [current, replaced] = await Promise.all([this.#info(slot), this.#info(old)]);
    await released;
    return { current, replaced };
  }

  /** Engine.onDrafterReplaced(). */
  onReplaced(listener: (name: string, revision: number) => void): void {
    this.#replacedListeners.push(listener);
  }

  /** Refuses swaps from now on; resolves when the swaps already queued have ended. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#swaps;
  }

  /** Takes the current model of drafter `name` for one generation. */
  acquire(name: string): DrafterSlot {
    const slot = this.#drafters.get(name);
    if (!slot) throw this.#unknown(name);
    slot.users++;
    return slot;
  }

  /** Gives back a slot taken by acquire(). */
  async unuse(slot: DrafterSlot): Promise<void> {
    slot.users--;
    if (slot.retired && slot.users === 0 && this.#retiring.delete(slot)) await releaseQuietly(slot.model);
  }

  #slot(name: string, model: DrafterModel): DrafterSlot {
    return { name, model, revision: ++this.#revision, loadedAt: Date.now(), users: 0, retired: false };
  }

  /** The slot as of now (inUse is read before the file sizes are). */
  async #info(slot: DrafterSlot): Promise<DrafterInfo> {
    const { model } = slot;
    const config = model.lm?.config;
    const info = {
      name: slot.name,
      id: model.id,
      source: model.dir,
      kind: model.kind,
      revision: slot.revision,
      loadedAt: slot.loadedAt,
      numLayers: config?.numLayers ?? null,
      hiddenSize: config?.hiddenSize ?? null,
      vocabSize: config?.vocabSize ?? this.#context.verifierConfig.vocabSize,
      contextLength: config?.contextLength ?? this.#context.verifierConfig.contextLength,
      inUse: slot.users,
    };
    return { ...info, bytes: await model.bytes() };
  }

  #unknown(name: string): EngineError {
    return new EngineError('FS_UNKNOWN_DRAFTER', `unknown drafter ${JSON.stringify(name)}; this engine has ${this.names.join(', ') || 'none'}`, {
      drafter: name,
      available: this.names,
    });
  }
}

/**
 * Releases a replaced model's session. The swap (or the generation that held the model) has
 * already succeeded; a failure to free native memory must not turn it into an error.
 */
async function releaseQuietly(model: DrafterModel): Promise<void> {
  try {
    await model.release();
  } catch {
    // nothing to recover: the session is unreachable from here on either way
  }
}
