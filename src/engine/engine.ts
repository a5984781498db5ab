// The engine: one verifier and its named drafters, sharing the verifier's tokenizer.
//
// Requests run one at a time: each holds per-sequence caches for onnxruntime sessions that are
// not re-entrant for our state, so generate() queues behind the request in flight (the HTTP
// layer keeps its own queue for admission control; this one only guarantees exclusion).

import { access, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { CausalLM } from './causal-lm.js';
import { Drafter } from './drafter.js';
import { EngineError } from './errors.js';
import { readModelConfig } from './model-config.js';
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
  /** onnxruntime intra-op threads per session; default 2. */
  intraOpNumThreads?: number;
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

/** Loads a pack folder, or an explicit verifier and drafters. */
export async function loadEngine(source: string | EngineModelPaths, options: EngineOptions = {}): Promise<Engine> {
  const paths = typeof source === 'string' ? await packModelPaths(source) : source;
  const tokenizer = await TextTokenizer.load(paths.verifier);
  const verifierConfig = await readModelConfig(paths.verifier);
  const drafterEntries = Object.entries(paths.drafters ?? {});

  // Vocabulary check before any onnxruntime session is created: a mismatch is a pack error.
  for (const [name, dir] of drafterEntries) {
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

  const modelOptions = { intraOpNumThreads: options.intraOpNumThreads, compactDeadFraction: options.compactDeadFraction };
  const loaded: CausalLM[] = [];
  try {
    const verifier = await CausalLM.load(paths.verifier, { ...modelOptions, id: paths.verifierId });
    loaded.push(verifier);
    const drafters = new Map<string, CausalLM>();
    for (const [name, dir] of drafterEntries) {
      const model = await CausalLM.load(dir, { ...modelOptions, id: paths.drafterIds?.[name] });
      loaded.push(model);
      drafters.set(name, model);
    }
    return new Engine(tokenizer, verifier, drafters, options.maxDraftLength ?? 16);
  } catch (err) {
    await Promise.all(loaded.map((m) => m.release()));
    throw err;
  }
}

export class Engine {
  readonly tokenizer: TextTokenizer;
  readonly verifier: CausalLM;
  readonly eosTokenIds: readonly number[];
  readonly maxDraftLength: number;
  readonly #drafters: ReadonlyMap<string, CausalLM>;
  #queue: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #closed = false;

  constructor(tokenizer: TextTokenizer, verifier: CausalLM, drafters: ReadonlyMap<string, CausalLM>, maxDraftLength = 16) {
    this.tokenizer = tokenizer;
    this.verifier = verifier;
    this.#drafters = drafters;
    this.maxDraftLength = maxDraftLength;
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
    return Object.fromEntries([...this.#drafters].map(([name, model]) => [name, model.id]));
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
    const drafterModel = options.drafter === null || options.draftLength === 0 ? null : this.#drafters.get(options.drafter)!;
    this.#pending++;
    const run = this.#queue.then(() => {
      if (this.#closed) throw new EngineError('FS_ENGINE_CLOSED', 'the engine is closed');
      const sampler = new TokenSampler(options, createRandom(options.seed ?? randomSeed()));
      return generateSpeculative({
        verifier: this.verifier,
        drafter: drafterModel ? new Drafter(options.drafter!, drafterModel) : null,
        draftLength: drafterModel ? options.draftLength : 0,
        promptIds,
        sampler,
        maxTokens: options.maxTokens,
        stop: options.stop,
        eosTokenIds: this.eosTokenIds,
        decode: (ids) => this.tokenizer.decode(ids),
        signal: options.signal,
        onText: options.onText,
      });
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
    await Promise.all([this.verifier, ...this.#drafters.values()].map((m) => m.release()));
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
    if (o.drafter !== null && !this.#drafters.has(o.drafter)) {
      throw new EngineError('FS_UNKNOWN_DRAFTER', `unknown drafter ${JSON.stringify(o.drafter)}; this engine has ${this.drafterNames.join(', ') || 'none'}`, {
        drafter: o.drafter,
        available: this.drafterNames,
      });
    }
  }
}
