// The engine: one verifier and its named drafters (drafter-pool.ts), sharing the verifier's
// tokenizer. Generations run together: each is a sequence of the scheduler (scheduler.ts), which
// steps all of them in one verifier pass per step (continuous batching).

import { CausalLM } from './causal-lm.js';
import { assertFitsContext } from './context-window.js';
import type { Drafter } from './drafter.js';
import { loadDrafterModel, type DrafterModel, type ModelLoadOptions } from './drafter-model.js';
import { DrafterPool, type DrafterInfo, type DrafterSlot, type DrafterSwap } from './drafter-pool.js';
import { EngineError } from './errors.js';
import { readPack, type EngineModelPaths } from './model-pack.js';
import type { ModelDtype } from './model-dtype.js';
import { createRandom, randomSeed } from './random.js';
import { TokenSampler } from './sampling.js';
import { Scheduler, type StepReport } from './scheduler.js';
import { promptLogprobs } from './prompt-logprobs.js';
import { MAX_LOGPROBS, tokenLogprob } from './token-logprobs.js';
import type { TextTokenizer } from './tokenizer.js';
import { TokenizerWorker } from './tokenizer-worker.js';
import type { GenerateOptions, GenerateResult, TokenLogprob } from './types.js';

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
  /** Weight dtype (which onnx/model*.onnx) of every model whose folder's fairspec.json names none; default fp32. */
  dtype?: ModelDtype;
  /** Sequences in one verifier pass (continuous batching); default 2, see FAIRSPEC_MAX_BATCH_ROWS. */
  maxBatchRows?: number;
  /** Cap γ by the measured cost of the batch when several rows run (step-cost.ts); default true. */
  adaptDraftLengthToLoad?: boolean;
}

/** Loads a pack folder, or an explicit verifier and drafters. */
export async function loadEngine(source: string | EngineModelPaths, options: EngineOptions = {}): Promise<Engine> {
  const { paths, tokenizer } = await readPack(source);
  const modelOptions = { intraOpNumThreads: options.intraOpNumThreads, compactDeadFraction: options.compactDeadFraction, dtype: options.dtype };
  const drafterOptions = { ...modelOptions, intraOpNumThreads: options.drafterIntraOpNumThreads ?? 1 };
  const loaded: Array<{ release(): Promise<void> }> = [];
  try {
    const verifier = await CausalLM.load(paths.verifier, { ...modelOptions, id: paths.verifierId });
    loaded.push(verifier);
    const drafters = new Map<string, DrafterModel>();
    const context = { verifierConfig: verifier.config, tokenizer, modelOptions: drafterOptions };
    for (const [name, dir] of Object.entries(paths.drafters ?? {})) {
      const model = await loadDrafterModel(name, dir, paths.drafterIds?.[name] ?? dir, context);
      loaded.push(model);
      drafters.set(name, model);
    }
    return new Engine(tokenizer, verifier, drafters, options.maxDraftLength ?? 16, drafterOptions, {
      maxRows: options.maxBatchRows ?? 2,
      adaptDraftLength: options.adaptDraftLengthToLoad ?? true,
    });
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
  readonly #pool: DrafterPool;
  readonly #tokenizerWorker: TokenizerWorker;
  readonly #scheduler: Scheduler;
  /** One batched drafter per drafter model in use, and how many generations use it. */
  readonly #drafters = new Map<DrafterModel, { drafter: Drafter; users: number }>();
  readonly #stepListeners: Array<(step: StepReport) => void> = [];
  #pending = 0;
  #closed = false;
  readonly #tokenTexts = new Map<number, string>();

  constructor(
    tokenizer: TextTokenizer,
    verifier: CausalLM,
    drafters: ReadonlyMap<string, DrafterModel>,
    maxDraftLength = 16,
    /** How replaceDrafter() loads a drafter's session. */
    modelOptions: ModelLoadOptions = {},
    batching: { maxRows: number; adaptDraftLength?: boolean } = { maxRows: 2 },
  ) {
    this.tokenizer = tokenizer;
    this.verifier = verifier;
    this.#pool = new DrafterPool(drafters, { verifierConfig: verifier.config, tokenizer, modelOptions });
    this.#tokenizerWorker = new TokenizerWorker(tokenizer.source.json, tokenizer.source.config);
    this.maxDraftLength = maxDraftLength;
    this.#scheduler = new Scheduler(verifier, {
      ...batching,
      onStep: (step) => {
        for (const listener of this.#stepListeners) listener(step);
      },
    });
    const fromConfig = verifier.config.eosTokenIds;
    this.eosTokenIds = fromConfig.length > 0 ? fromConfig : tokenizer.eosTokenId === null ? [] : [tokenizer.eosTokenId];
  }

  /** Maximum prompt + completion tokens. */
  get contextLength(): number {
    return this.verifier.config.contextLength;
  }

  get drafterNames(): string[] {
    return this.#pool.names;
  }

  get verifierId(): string {
    return this.verifier.id;
  }

  /** drafter name -> model id */
  get drafterIds(): Record<string, string> {
    return this.#pool.ids;
  }

  /** The current revision of a drafter (see DrafterInfo.revision); undefined for an unknown name. */
  drafterRevision(name: string): number | undefined {
    return this.#pool.revision(name);
  }

  /** Replaced drafter models whose sessions wait for a running request to finish. */
  get retiringDrafters(): number {
    return this.#pool.retiring;
  }

  /** The loaded drafters, by name. */
  async drafters(): Promise<DrafterInfo[]> {
    return this.#pool.infos();
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
    return this.#pool.replace(name, dir, options.id);
  }

  /**
   * Calls `listener` with the drafter's name and new revision whenever replaceDrafter() switches
   * a drafter to a new model, synchronously with the switch. Listeners must not throw.
   */
  onDrafterReplaced(listener: (name: string, revision: number) => void): void {
    this.#pool.onReplaced(listener);
  }

  /** The verifier's and each drafter's model id, for results and metrics labels. */
  get modelIds(): { verifier: string; drafters: Record<string, string> } {
    return { verifier: this.verifierId, drafters: this.drafterIds };
  }

  /** Generations queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Sequences in the batch, and waiting for a row. */
  get sequences(): { running: number; waiting: number } {
    return { running: this.#scheduler.running, waiting: this.#scheduler.waiting };
  }

  /** Calls `listener` after every scheduler step (metrics). Listeners must not throw. */
  onStep(listener: (step: StepReport) => void): void {
    this.#stepListeners.push(listener);
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text).length;
  }

  /**
   * Token ids of `text`, encoded on a worker thread (tokenizer-worker.ts), so a long prompt does
   * not hold up the event loop. Rejects with the signal's reason if it fires before the work starts.
   */
  tokenize(text: string, signal?: AbortSignal, addSpecialTokens = true): Promise<number[]> {
    return this.#tokenizerWorker.encode(text, signal, addSpecialTokens);
  }

  /** Text of `ids`, special tokens skipped. */
  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids);
  }

  /** One token's own text, special tokens included (logprobs' token strings). */
  tokenText(id: number): string {
    let text = this.#tokenTexts.get(id);
    if (text === undefined) {
      text = this.tokenizer.decode([id], false);
      this.#tokenTexts.set(id, text);
    }
    return text;
  }

  /** Verifier vocabulary size: token ids are in [0, vocabSize). */
  get vocabSize(): number {
    return this.verifier.config.vocabSize;
  }

  /**
   * The verifier's log-probability of each prompt token after the ones before it, with `top`
   * alternatives (prompt-logprobs.ts); the first is null. A pass of its own beside the batch's
   * (onnxruntime sessions run re-entrantly; the cache is its own).
   */
  async promptLogprobs(promptIds: readonly number[], top: number): Promise<Array<TokenLogprob | null>> {
    if (this.#closed) throw new EngineError('FS_ENGINE_CLOSED', 'the engine is closed');
    this.#validateLogprobs(top);
    this.#promptIds(promptIds);
    return promptLogprobs(this.verifier, promptIds, top);
  }

  /** At most how many characters one token stands for (TextTokenizer.maxTokenChars). */
  get maxTokenChars(): number {
    return this.tokenizer.maxTokenChars;
  }

  /**
   * Generates a completion of `prompt`. Bad options and prompts reject at once with an
   * EngineError; a valid request then joins the batch as soon as a row is free.
   */
  async generate(prompt: string, options: GenerateOptions): Promise<GenerateResult> {
    if (this.#closed) throw new EngineError('FS_ENGINE_CLOSED', 'the engine is closed');
    this.#validate(options);
    const promptIds = this.#promptIds(options.promptIds ?? this.tokenizer.encode(prompt));
    const drafterName = options.drafter === null || options.draftLength === 0 ? null : options.drafter;
    // The drafter's model as of now, kept to the end of the generation whatever swaps happen meanwhile.
    const slot = drafterName === null ? null : this.#pool.acquire(drafterName);
    const drafter = slot ? this.#useDrafter(slot) : null;
    this.#pending++;
    try {
      const sampler = new TokenSampler(options, createRandom(options.seed ?? randomSeed()), { promptLength: promptIds.length, eosTokenIds: this.eosTokenIds });
      // Logprobs of the tokens since the last text delta travel with the next one.
      const logprobs: TokenLogprob[] | undefined = options.logprobs === undefined ? undefined : [];
      let unsent = 0;
      const result = await this.#scheduler.submit({
        group: options.group ?? {},
        drafter,
        steadyDraftLength: options.seed !== undefined && options.temperature > 0,
        draftLength: slot ? options.draftLength : 0,
        promptIds,
        sampler,
        language: options.language ?? null,
        maxTokens: options.maxTokens,
        stop: options.stop,
        eosTokenIds: options.ignoreEos ? [] : this.eosTokenIds,
        contextLength: this.contextLength,
        decode: (ids) => this.tokenizer.decode(ids),
        signal: options.signal,
        onText:
          options.onText && logprobs
            ? (delta) => {
                const since = logprobs.slice(unsent);
                unsent = logprobs.length;
                return options.onText!(delta, since);
              }
            : options.onText,
        onToken: logprobs ? (token, row) => void logprobs.push(tokenLogprob(row, token, options.logprobs!)) : undefined,
        onDrafterError: slot && options.onDrafterError ? (name, error) => options.onDrafterError!(name, error, slot.revision) : undefined,
      });
      return { ...result, ...(logprobs && { logprobs }), ...(slot && { drafterRevision: slot.revision }) };
    } finally {
      this.#pending--;
      if (slot) {
        this.#doneWithDrafter(slot);
        await this.#pool.unuse(slot);
      }
    }
  }

  #useDrafter(slot: DrafterSlot): Drafter {
    let entry = this.#drafters.get(slot.model);
    if (!entry) {
      entry = { drafter: slot.model.newDrafter(slot.name), users: 0 };
      this.#drafters.set(slot.model, entry);
    }
    entry.users++;
    return entry.drafter;
  }

  #doneWithDrafter(slot: DrafterSlot): void {
    const entry = this.#drafters.get(slot.model);
    if (entry && --entry.users === 0) this.#drafters.delete(slot.model);
  }

  /** Waits for queued requests, then releases the sessions. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const swapsEnded = this.#pool.close();
    await this.#tokenizerWorker.close();
    await this.#scheduler.idle();
    await swapsEnded;
    // Every generation has ended, so no retired model is still held.
    await Promise.all([this.verifier, ...this.#pool.models].map((m) => m.release()));
  }

  #promptIds(encoded: readonly number[]): number[] {
    const ids = [...encoded];
    if (ids.length === 0) {
      // An empty prompt starts from BOS, or from EOS as GPT-2 does ("<|endoftext|>" opens documents).
      const start = this.verifier.config.bosTokenId ?? this.tokenizer.bosTokenId ?? this.eosTokenIds[0];
      if (start === undefined || start === null) {
        throw new EngineError('FS_EMPTY_PROMPT', 'the prompt is empty and the model has no BOS or EOS token to start from');
      }
      ids.push(start);
    }
    assertFitsContext(ids.length, 1, this.contextLength);
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
    if (o.drafter !== null) this.#pool.assertKnown(o.drafter);
    const vocab = this.verifier.config.vocabSize;
    if (o.promptIds !== undefined && !o.promptIds.every((id) => Number.isInteger(id) && id >= 0 && id < vocab)) {
      bad('promptIds', `[${o.promptIds.length} ids]`, `must be token ids in [0, ${vocab})`);
    }
    const finite = (field: keyof GenerateOptions, value: number | undefined, min: number, max: number): void => {
      if (value !== undefined && !(Number.isFinite(value) && value >= min && value <= max)) bad(field, value, `must be a number in [${min}, ${max}]`);
    };
    finite('presencePenalty', o.presencePenalty, -2, 2);
    finite('frequencyPenalty', o.frequencyPenalty, -2, 2);
    finite('minP', o.minP, 0, 1);
    if (o.repetitionPenalty !== undefined && !(Number.isFinite(o.repetitionPenalty) && o.repetitionPenalty > 0)) {
      bad('repetitionPenalty', o.repetitionPenalty, 'must be a finite number > 0');
    }
    if (o.minTokens !== undefined && !(Number.isInteger(o.minTokens) && o.minTokens >= 0 && o.minTokens <= o.maxTokens)) {
      bad('minTokens', o.minTokens, 'must be an integer in [0, maxTokens]');
    }
    for (const [token, bias] of Object.entries(o.logitBias ?? {})) {
      const id = Number(token);
      if (!(Number.isInteger(id) && id >= 0 && id < vocab)) bad('logitBias', token, `keys must be token ids in [0, ${vocab})`);
      if (!(Number.isFinite(bias) && bias >= -100 && bias <= 100)) bad('logitBias', bias, 'values must be in [-100, 100]');
    }
    if (o.logprobs !== undefined) this.#validateLogprobs(o.logprobs);
  }

  #validateLogprobs(top: number): void {
    if (!(Number.isInteger(top) && top >= 0 && top <= MAX_LOGPROBS)) {
      throw new EngineError('FS_INVALID_OPTION', `logprobs must be an integer in [0, ${MAX_LOGPROBS}], got ${JSON.stringify(top)}`, { field: 'logprobs', value: top });
    }
  }
}
