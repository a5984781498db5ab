// The engine: one verifier and its named drafters, sharing the verifier's tokenizer.
//
// Requests run one at a time: each holds per-sequence caches for onnxruntime sessions that are
// not re-entrant for our state, so generate() queues behind the request in flight (the HTTP
// layer keeps its own queue for admission control; this one only guarantees exclusion).
//
// Drafters can be replaced while the engine runs (replaceDrafter: an operator rolls out a
// retrained drafter without a restart). The new folder is checked exactly as at boot (vocabulary,
// config, ONNX inputs and outputs) before anything changes, so a bad folder leaves the old
// drafter serving. A request takes its drafter when it starts running and keeps that model to
// its end; a replaced model's onnxruntime session is released as soon as no request holds it
// (at once when none does), not left to the garbage collector, since a session's native memory
// is invisible to V8's heap accounting. Every loaded model gets a new revision number, which each
// result carries, so the router can tell observations of the old model from the new one's.

import { access, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CausalLM, type CausalLMOptions } from './causal-lm.js';
import { Drafter } from './drafter.js';
import { EngineError } from './errors.js';
import { readModelConfig, type ModelConfig } from './model-config.js';
import { createRandom, randomSeed } from './random.js';
import { TokenSampler } from './sampling.js';
import { generateSpeculative } from './speculative.js';
import { TextTokenizer } from './tokenizer.js';
import type { GenerateOptions, GenerateResult } from './types.js';

export interface EngineModelPaths {
  verifier: string;
  /** drafter name -> model folder */
  drafters?: Readonly<Record<string, string>>;
  /** Model ids for results and metrics; default: the folder names. */
  verifierId?: string;
  drafterIds?: Readonly<Record<string, string>>;
}

export interface EngineOptions {
  /** onnxruntime intra-op threads of the verifier's session; default 2. */
  intraOpNumThreads?: number;
  /**
   * Intra-op threads of each drafter's session; default 1. A 2-layer drafter's step is too short
   * to split: on 2 vCPUs one thread drafted a token in 0.62 ms, two in 0.76-0.88 ms.
   */
  drafterIntraOpNumThreads?: number;
  /** KV cache compaction threshold, see kv-cache.ts; default 0.25. */
  compactDeadFraction?: number;
  /** Largest draftLength generate() accepts; default 16. */
  maxDraftLength?: number;
}

const DRAFTER_PREFIX = 'drafter-';

/**
 * The model folders of a pack: `verifier/` and every `drafter-NAME/` holding onnx/model.onnx,
 * with ids `PACK/verifier` and `PACK/drafter-NAME`.
 */
export async function packModelPaths(packDir: string): Promise<EngineModelPaths> {
  const dir = resolve(packDir);
  const pack = basename(dir);
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    throw new EngineError('FS_MODEL_LOAD', `cannot read model pack ${dir}: ${(err as Error).message}`, { path: dir }, { cause: err });
  }
  if (!entries.includes('verifier')) {
    throw new EngineError('FS_MODEL_LOAD', `model pack ${dir} has no verifier/ folder`, { path: dir });
  }
  const drafters: Record<string, string> = {};
  const drafterIds: Record<string, string> = {};
  for (const name of entries.filter((n) => n.startsWith(DRAFTER_PREFIX)).sort()) {
    try {
      await access(join(dir, name, 'onnx', 'model.onnx'));
    } catch {
      continue;
    }
    const drafter = name.slice(DRAFTER_PREFIX.length);
    drafters[drafter] = join(dir, name);
    drafterIds[drafter] = `${pack}/${name}`;
  }
  return { verifier: join(dir, 'verifier'), drafters, verifierId: `${pack}/verifier`, drafterIds };
}

/**
 * Checks that the model folder `dir` can draft for a verifier with `verifierConfig` and
 * `tokenizer`: same vocab_size, and the same vocabulary when the folder has its own
 * tokenizer.json. Runs before any onnxruntime session is created, at boot and on a swap alike.
 */
async function checkDrafterVocabulary(name: string, dir: string, verifierConfig: ModelConfig, tokenizer: TextTokenizer): Promise<void> {
  const config = await readModelConfig(dir);
  if (config.vocabSize !== verifierConfig.vocabSize) {
    throw new EngineError(
      'FS_VOCAB_MISMATCH',
      `drafter "${name}" has vocab_size ${config.vocabSize} but the verifier has ${verifierConfig.vocabSize}; a drafter must share the verifier's vocabulary`,
      { drafter: name, drafterVocab: config.vocabSize, verifierVocab: verifierConfig.vocabSize },
    );
  }
  let own: TextTokenizer | null = null;
  try {
    await access(join(dir, 'tokenizer.json'));
    own = await TextTokenizer.load(dir);
  } catch (err) {
    if (err instanceof EngineError) throw err;
  }
  if (own && !own.sameVocabulary(tokenizer)) {
    throw new EngineError('FS_VOCAB_MISMATCH', `drafter "${name}" has a tokenizer.json whose vocabulary differs from the verifier's`, {
      drafter: name,
    });
  }
}

/** Loads a pack folder, or an explicit verifier and drafters. */
export async function loadEngine(source: string | EngineModelPaths, options: EngineOptions = {}): Promise<Engine> {
  const paths = typeof source === 'string' ? await packModelPaths(source) : source;
  const tokenizer = await TextTokenizer.load(paths.verifier);
  const verifierConfig = await readModelConfig(paths.verifier);
  const drafterEntries = Object.entries(paths.drafters ?? {});

  // Vocabulary check before any onnxruntime session is created: a mismatch is a pack error.
  for (const [name, dir] of drafterEntries) await checkDrafterVocabulary(name, dir, verifierConfig, tokenizer);

  const modelOptions = { intraOpNumThreads: options.intraOpNumThreads, compactDeadFraction: options.compactDeadFraction };
  const drafterOptions = { ...modelOptions, intraOpNumThreads: options.drafterIntraOpNumThreads ?? 1 };
  const loaded: CausalLM[] = [];
  try {
    const verifier = await CausalLM.load(paths.verifier, { ...modelOptions, id: paths.verifierId });
    loaded.push(verifier);
    const drafters = new Map<string, CausalLM>();
    for (const [name, dir] of drafterEntries) {
      const model = await CausalLM.load(dir, { ...drafterOptions, id: paths.drafterIds?.[name] });
      loaded.push(model);
      drafters.set(name, model);
    }
    return new Engine(tokenizer, verifier, drafters, options.maxDraftLength ?? 16, drafterOptions);
  } catch (err) {
    await Promise.all(loaded.map((m) => m.release()));
    throw err;
  }
}

/** A drafter as listed by Engine.drafters(). */
export interface DrafterInfo {
  name: string;
  /** Model id, for logs and results. */
  id: string;
  /** Absolute path of the model folder. */
  source: string;
  /** Increases with every model the engine loads; results name the revision that drafted them. */
  revision: number;
  /** When this model was loaded (ms since the epoch). */
  loadedAt: number;
  numLayers: number;
  hiddenSize: number;
  vocabSize: number;
  contextLength: number;
  /** Bytes of the folder's onnx/ files (graph and external weights); null if unreadable. */
  onnxBytes: number | null;
  /** Generations running with this model now. */
  inUse: number;
}

/** What Engine.replaceDrafter() did: the drafter's new model, and the one it replaced (inUse: at the switch). */
export interface DrafterSwap {
  current: DrafterInfo;
  replaced: DrafterInfo;
}

/** One loaded drafter model and the requests holding it. */
interface DrafterSlot {
  readonly name: string;
  readonly model: CausalLM;
  readonly revision: number;
  readonly loadedAt: number;
  users: number;
  /** Replaced: its session is released when the last user finishes. */
  retired: boolean;
}

type ModelLoadOptions = Pick<CausalLMOptions, 'intraOpNumThreads' | 'compactDeadFraction'>;

export class Engine {
  readonly tokenizer: TextTokenizer;
  readonly verifier: CausalLM;
  readonly eosTokenIds: readonly number[];
  readonly maxDraftLength: number;
  readonly #drafters = new Map<string, DrafterSlot>();
  /** Replaced drafters still held by a running request. */
  readonly #retiring = new Set<DrafterSlot>();
  readonly #modelOptions: ModelLoadOptions;
  readonly #replacedListeners: ((name: string, revision: number) => void)[] = [];
  #revision = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #swaps: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #closed = false;

  constructor(
    tokenizer: TextTokenizer,
    verifier: CausalLM,
    drafters: ReadonlyMap<string, CausalLM>,
    maxDraftLength = 16,
    /** How replaceDrafter() loads a drafter's session. */
    modelOptions: ModelLoadOptions = {},
  ) {
    this.tokenizer = tokenizer;
    this.verifier = verifier;
    for (const [name, model] of drafters) this.#drafters.set(name, this.#slot(name, model));
    this.maxDraftLength = maxDraftLength;
    this.#modelOptions = modelOptions;
    const fromConfig = verifier.config.eosTokenIds;
    this.eosTokenIds = fromConfig.length > 0 ? fromConfig : tokenizer.eosTokenId === null ? [] : [tokenizer.eosTokenId];
  }

  /** Maximum prompt + completion tokens. */
  get contextLength(): number {
    return this.verifier.config.contextLength;
  }

  get drafterNames(): string[] {
    return [...this.#drafters.keys()];
  }

  get verifierId(): string {
    return this.verifier.id;
  }

  /** drafter name -> model id */
  get drafterIds(): Record<string, string> {
    return Object.fromEntries([...this.#drafters].map(([name, slot]) => [name, slot.model.id]));
  }

  /** The current revision of a drafter (see DrafterInfo.revision); undefined for an unknown name. */
  drafterRevision(name: string): number | undefined {
    return this.#drafters.get(name)?.revision;
  }

  /** Replaced drafter models whose sessions wait for a running request to finish. */
  get retiringDrafters(): number {
    return this.#retiring.size;
  }

  /** The loaded drafters, by name. */
  async drafters(): Promise<DrafterInfo[]> {
    return Promise.all([...this.#drafters.values()].map((slot) => this.#info(slot)));
  }

  /**
   * Replaces drafter `name` with the model in folder `dir`. The folder is checked as at boot
   * (vocabulary against the verifier's, config, ONNX inputs and outputs) and its session created
   * before anything changes: on any error (EngineError FS_VOCAB_MISMATCH, FS_MODEL_CONFIG,
   * FS_MODEL_IO, FS_MODEL_LOAD) the old drafter keeps serving. Requests that start after this
   * resolves draft with the new model; running ones finish with the old one, whose session is
   * released when the last of them ends. Swaps run one at a time, in call order.
   */
  async replaceDrafter(name: string, dir: string, options: { id?: string } = {}): Promise<DrafterSwap> {
    if (this.#closed) throw new EngineError('FS_ENGINE_CLOSED', 'the engine is closed');
    if (!this.#drafters.has(name)) throw this.#unknownDrafter(name);
    const job = this.#swaps.then(() => this.#replace(name, resolve(dir), options.id));
    this.#swaps = job.catch(() => undefined);
    return job;
  }

  async #replace(name: string, folder: string, id: string | undefined): Promise<DrafterSwap> {
    if (this.#closed) throw new EngineError('FS_ENGINE_CLOSED', 'the engine is closed');
    await checkDrafterVocabulary(name, folder, this.verifier.config, this.tokenizer);
    const model = await CausalLM.load(folder, { ...this.#modelOptions, id: id ?? `${basename(dirname(folder))}/${basename(folder)}` });
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

  /**
   * Calls `listener` with the drafter's name and new revision whenever replaceDrafter() switches
   * a drafter to a new model, synchronously with the switch. Listeners must not throw.
   */
  onDrafterReplaced(listener: (name: string, revision: number) => void): void {
    this.#replacedListeners.push(listener);
  }

  #slot(name: string, model: CausalLM): DrafterSlot {
    return { name, model, revision: ++this.#revision, loadedAt: Date.now(), users: 0, retired: false };
  }

  /** The slot as of now (inUse is read before the file sizes are). */
  async #info(slot: DrafterSlot): Promise<DrafterInfo> {
    const { model } = slot;
    const info = {
      name: slot.name,
      id: model.id,
      source: model.dir,
      revision: slot.revision,
      loadedAt: slot.loadedAt,
      numLayers: model.config.numLayers,
      hiddenSize: model.config.hiddenSize,
      vocabSize: model.config.vocabSize,
      contextLength: model.config.contextLength,
      inUse: slot.users,
    };
    return { ...info, onnxBytes: await onnxBytes(model.dir) };
  }

  /** Takes the current model of drafter `name` for one generation. */
  #acquire(name: string): DrafterSlot {
    const slot = this.#drafters.get(name);
    if (!slot) throw this.#unknownDrafter(name);
    slot.users++;
    return slot;
  }

  async #unuse(slot: DrafterSlot): Promise<void> {
    slot.users--;
    if (slot.retired && slot.users === 0 && this.#retiring.delete(slot)) await releaseQuietly(slot.model);
  }

  #unknownDrafter(name: string): EngineError {
    return new EngineError('FS_UNKNOWN_DRAFTER', `unknown drafter ${JSON.stringify(name)}; this engine has ${this.drafterNames.join(', ') || 'none'}`, {
      drafter: name,
      available: this.drafterNames,
    });
  }

  /** The verifier's and each drafter's model id, for results and metrics labels. */
  get modelIds(): { verifier: string; drafters: Record<string, string> } {
    return { verifier: this.verifierId, drafters: this.drafterIds };
  }

  /** Requests queued or running. */
  get pending(): number {
    return this.#pending;
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text).length;
  }

  /**
   * Generates a completion of `prompt`. Bad options and prompts reject at once with an
   * EngineError; a valid request then waits for the ones before it.
   */
  async generate(prompt: string, options: GenerateOptions): Promise<GenerateResult> {
    if (this.#closed) throw new EngineError('FS_ENGINE_CLOSED', 'the engine is closed');
    this.#validate(options);
    const promptIds = this.#promptIds(prompt);
    const drafterName = options.drafter === null || options.draftLength === 0 ? null : options.drafter;
    this.#pending++;
    const run = this.#queue.then(async (): Promise<GenerateResult> => {
      if (this.#closed) throw new EngineError('FS_ENGINE_CLOSED', 'the engine is closed');
      // The drafter's model as of now (a swap may have happened while this request queued),
      // kept to the end of the generation whatever swaps happen meanwhile.
      const slot = drafterName === null ? null : this.#acquire(drafterName);
      try {
        const sampler = new TokenSampler(options, createRandom(options.seed ?? randomSeed()));
        const result = await generateSpeculative({
          verifier: this.verifier,
          drafter: slot ? new Drafter(slot.name, slot.model) : null,
          draftLength: slot ? options.draftLength : 0,
          promptIds,
          sampler,
          maxTokens: options.maxTokens,
          stop: options.stop,
          eosTokenIds: this.eosTokenIds,
          decode: (ids) => this.tokenizer.decode(ids),
          signal: options.signal,
          onText: options.onText,
        });
        return slot ? { ...result, drafterRevision: slot.revision } : result;
      } finally {
        if (slot) await this.#unuse(slot);
      }
    });
    this.#queue = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      this.#pending--;
    }
  }

  /** Waits for queued requests, then releases the sessions. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#swaps;
    // Every generation has ended, so no retired model is still held.
    await Promise.all([this.verifier, ...[...this.#drafters.values()].map((s) => s.model)].map((m) => m.release()));
  }

  #promptIds(prompt: string): number[] {
    const ids = this.tokenizer.encode(prompt);
    if (ids.length === 0) {
      // An empty prompt starts from BOS, or from EOS as GPT-2 does ("<|endoftext|>" opens documents).
      const start = this.verifier.config.bosTokenId ?? this.tokenizer.bosTokenId ?? this.eosTokenIds[0];
      if (start === undefined || start === null) {
        throw new EngineError('FS_EMPTY_PROMPT', 'the prompt is empty and the model has no BOS or EOS token to start from');
      }
      ids.push(start);
    }
    if (ids.length >= this.contextLength) {
      throw new EngineError(
        'FS_PROMPT_TOO_LONG',
        `the prompt has ${ids.length} tokens; the context holds ${this.contextLength}, prompt and completion together`,
        { promptTokens: ids.length, contextLength: this.contextLength },
      );
    }
    return ids;
  }

  #validate(o: GenerateOptions): void {
    const bad = (field: string, value: unknown, rule: string): never => {
      throw new EngineError('FS_INVALID_OPTION', `${field} ${rule}, got ${JSON.stringify(value)}`, { field, value });
    };
    if (!(Number.isFinite(o.temperature) && o.temperature >= 0)) bad('temperature', o.temperature, 'must be a finite number >= 0');
    if (!(o.topP > 0 && o.topP <= 1)) bad('topP', o.topP, 'must be in (0, 1]');
    if (!(Number.isInteger(o.topK) && o.topK >= 0)) bad('topK', o.topK, 'must be an integer >= 0');
    if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) bad('seed', o.seed, 'must be a safe integer');
    if (!(Number.isInteger(o.maxTokens) && o.maxTokens >= 1)) bad('maxTokens', o.maxTokens, 'must be an integer >= 1');
    if (!Array.isArray(o.stop) || o.stop.some((s) => typeof s !== 'string' || s.length === 0)) {
      bad('stop', o.stop, 'must be a list of non-empty strings');
    }
    if (!(Number.isInteger(o.draftLength) && o.draftLength >= 0 && o.draftLength <= this.maxDraftLength)) {
      bad('draftLength', o.draftLength, `must be an integer in [0, ${this.maxDraftLength}]`);
    }
    if (o.drafter !== null && !this.#drafters.has(o.drafter)) throw this.#unknownDrafter(o.drafter);
  }
}

/** Total size of the files in `dir`/onnx (model.onnx and any external weights); null if unreadable. */
async function onnxBytes(dir: string): Promise<number | null> {
  try {
    const onnx = join(dir, 'onnx');
    const names = await readdir(onnx);
    const sizes = await Promise.all(names.map(async (n) => {
      const s = await stat(join(onnx, n));
      return s.isFile() ? s.size : 0;
    }));
    return sizes.reduce((a, b) => a + b, 0);
  } catch {
    return null;
  }
}

/**
 * Releases a replaced model's session. The swap (or the generation that held the model) has
 * already succeeded; a failure to free native memory must not turn it into an error.
 */
async function releaseQuietly(model: CausalLM): Promise<void> {
  try {
    await model.release();
  } catch {
    // nothing to recover: the session is unreachable from here on either way
  }
}
