// A decoder-only language model exported to ONNX in the Optimum / transformers.js
// decoder-with-past layout, run with onnxruntime-node for a batch of one sequence.
//
//   inputs:  input_ids [1, n] int64, attention_mask [1, past + n] int64, position_ids [1, n] int64
//            (optional), past_key_values.{i}.key / .value [1, kvHeads, past, headDim]
//            (float32 or float16), use_cache_branch [1] bool (merged exports only),
//            num_logits_to_keep int64 scalar (exports that can trim logits; fed 0: every position)
//   outputs: logits [1, n, vocab], present.{i}.key / .value [1, kvHeads, past + n, headDim]
//
// The graph file is picked by dtype (model-dtype.ts). onnxruntime reads a graph's external data
// (model.onnx_data and the like) from the graph's own folder when the session is created from a
// path, which is how it is created here.

import { basename, resolve } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { EngineError } from './errors.js';
import { float16ToFloat32 } from './float16.js';
import { BatchKvCache, type BatchRow } from './batch-kv-cache.js';
import { KvCache, type KvCacheLayout } from './kv-cache.js';
import { readModelConfig, resolveKvDtype, type KvDtype, type ModelConfig } from './model-config.js';
import { resolveModelFile, type ModelDtype } from './model-dtype.js';

export interface CausalLMOptions {
  /** Name used in logs, errors and results; defaults to the folder name. */
  id?: string | undefined;
  /** onnxruntime intra-op threads; default 2. */
  intraOpNumThreads?: number | undefined;
  /** Let idle intra-op threads spin (lower latency for a model that runs alone); default false. */
  allowSpinning?: boolean | undefined;
  /** See KvCache: compact once dead slots exceed this fraction of the cache; default 0.25. */
  compactDeadFraction?: number | undefined;
  /** Which onnx/model*.onnx to load when the folder's fairspec.json names none; default fp32. */
  dtype?: ModelDtype | undefined;
}

const pastName = (layer: number, kind: 'key' | 'value') => `past_key_values.${layer}.${kind}`;
const presentName = (layer: number, kind: 'key' | 'value') => `present.${layer}.${kind}`;

/**
 * Checks the graph's declared inputs against what the engine can feed, and names what is wrong.
 * Returns which optional inputs are present.
 */
export function checkModelIo(
  inputNames: readonly string[],
  outputNames: readonly string[],
  numLayers: number,
  modelId: string,
): { positionIds: boolean; attentionMask: boolean; useCacheBranch: boolean; numLogitsToKeep: boolean } {
  const fed = new Set(['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch', 'num_logits_to_keep']);
  const pasts: string[] = [];
  const presents = ['logits'];
  for (let i = 0; i < numLayers; i++) {
    pasts.push(pastName(i, 'key'), pastName(i, 'value'));
    presents.push(presentName(i, 'key'), presentName(i, 'value'));
  }
  for (const name of inputNames) {
    if (!fed.has(name) && !pasts.includes(name)) {
      throw new EngineError('FS_MODEL_IO', `${modelId}: the ONNX graph requires input "${name}", which the engine cannot supply`, {
        model: modelId,
        input: name,
      });
    }
  }
  for (const name of ['input_ids', ...pasts]) {
    if (!inputNames.includes(name)) {
      throw new EngineError('FS_MODEL_IO', `${modelId}: the ONNX graph lacks the required input "${name}" (config says ${numLayers} layers)`, {
        model: modelId,
        input: name,
      });
    }
  }
  for (const name of presents) {
    if (!outputNames.includes(name)) {
      throw new EngineError('FS_MODEL_IO', `${modelId}: the ONNX graph lacks the required output "${name}"`, { model: modelId, output: name });
    }
  }
  return {
    positionIds: inputNames.includes('position_ids'),
    attentionMask: inputNames.includes('attention_mask'),
    useCacheBranch: inputNames.includes('use_cache_branch'),
    numLogitsToKeep: inputNames.includes('num_logits_to_keep'),
  };
}

export class CausalLM {
  readonly id: string;
  readonly dir: string;
  readonly config: ModelConfig;
  readonly kvDtype: KvDtype;
  /** The weight dtype whose file was loaded, and that file's absolute path. */
  readonly dtype: ModelDtype;
  readonly modelPath: string;
  readonly #session: InferenceSession;
  readonly #io: ReturnType<typeof checkModelIo>;
  readonly #compactDeadFraction: number;
  /** num_logits_to_keep's feed: 0 keeps the logits of every new token, which verification needs. */
  readonly #keepAllLogits: Tensor | null;

  private constructor(
    id: string,
    dir: string,
    config: ModelConfig,
    session: InferenceSession,
    io: ReturnType<typeof checkModelIo>,
    kvDtype: KvDtype,
    compactDeadFraction: number,
    file: { dtype: ModelDtype; path: string },
  ) {
    this.id = id;
    this.dir = dir;
    this.config = config;
    this.#session = session;
    this.#io = io;
    this.kvDtype = kvDtype;
    this.#compactDeadFraction = compactDeadFraction;
    this.dtype = file.dtype;
    this.modelPath = file.path;
    this.#keepAllLogits = io.numLogitsToKeep ? CausalLM.#zeroFeed(session) : null;
  }

  /** An int64 0 shaped as the graph declares num_logits_to_keep: a scalar (transformers.js feeds []) or [1]. */
  static #zeroFeed(session: InferenceSession): Tensor {
    const meta = session.inputMetadata.find((m) => m.name === 'num_logits_to_keep');
    const dims = meta?.isTensor && meta.shape.length === 1 ? [1] : [];
    return new Tensor('int64', new BigInt64Array(1), dims);
  }

  static async load(dir: string, options: CausalLMOptions = {}): Promise<CausalLM> {
    const folder = resolve(dir);
    const id = options.id ?? basename(folder);
    const config = await readModelConfig(folder);
    const file = await resolveModelFile(folder, options.dtype, id);
    const modelPath = file.path;
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(modelPath, {
        intraOpNumThreads: options.intraOpNumThreads ?? 2,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // The verifier and every drafter own an intra-op pool and run by turns. Spinning workers
        // of the idle pool would take the cores the running one needs (measured on 2 vCPUs:
        // verifying 5 drafts took 13-16 ms with spinning, against 6 ms for the session alone).
        extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } },
      });
    } catch (err) {
      throw new EngineError('FS_MODEL_LOAD', `${id}: onnxruntime could not load ${modelPath}: ${(err as Error).message}`, { model: id }, { cause: err });
    }
    try {
      const io = checkModelIo(session.inputNames, session.outputNames, config.numLayers, id);
      const kvDtype = CausalLM.#checkPastMetadata(session, config, id);
      return new CausalLM(id, folder, config, session, io, kvDtype, options.compactDeadFraction ?? 0.25, file);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** The cache dtype from the graph's declared past inputs; also checks their shapes against config.json. */
  static #checkPastMetadata(session: InferenceSession, config: ModelConfig, id: string): KvDtype {
    const name = pastName(0, 'key');
    const meta = session.inputMetadata.find((m) => m.name === name);
    if (!meta?.isTensor) return config.kvDtype;
    const [, kvHeads, , headDim] = meta.shape;
    const mismatch = (field: string, fromConfig: number, fromGraph: number) =>
      new EngineError('FS_MODEL_CONFIG', `${id}: config.json gives ${field} = ${fromConfig} but ONNX input "${name}" has ${fromGraph}`, {
        model: id,
        field,
        value: fromConfig,
      });
    if (typeof kvHeads === 'number' && kvHeads !== config.numKvHeads) throw mismatch('num_key_value_heads', config.numKvHeads, kvHeads);
    if (typeof headDim === 'number' && headDim !== config.headDim) throw mismatch('head_dim', config.headDim, headDim);
    return resolveKvDtype(meta.type, config, name);
  }

  get inputNames(): readonly string[] {
    return this.#session.inputNames;
  }

  newCache(): KvCache {
    return new KvCache(this.#cacheLayout());
  }

  /** An empty cache for sequences decoded together (batch-kv-cache.ts). */
  newBatchCache(): BatchKvCache {
    return new BatchKvCache(this.#cacheLayout());
  }

  /** Whether several sequences can share a pass: rows need attention_mask and position_ids. */
  get batchable(): boolean {
    return this.#io.attentionMask && this.#io.positionIds;
  }

  #cacheLayout(): KvCacheLayout {
    return {
      numLayers: this.config.numLayers,
      numKvHeads: this.config.numKvHeads,
      headDim: this.config.headDim,
      dtype: this.kvDtype,
      maxPhysicalLength: this.config.contextLength,
      // Without both inputs the graph derives positions or visibility from physical slots.
      allowHoles: this.#io.attentionMask && this.#io.positionIds,
      compactDeadFraction: this.#compactDeadFraction,
    };
  }

  /**
   * One pass over the rows of `cache` (after its prepare()): `tokens[i]` are row i's new tokens,
   * possibly none. Appends them to the cache and returns, per row, one logits row per new token:
   * [rows][tokens[i].length][vocab].
   */
  async forwardBatch(cache: BatchKvCache, tokens: readonly (readonly number[])[]): Promise<Float32Array[][]> {
    for (const ids of tokens) this.#checkIds(ids);
    const kv = cache.feeds(tokens);
    const rows = tokens.length;
    const n = kv.width;
    const { data, presents } = await this.#run(rows, n, kv.inputIds, kv.attentionMask, kv.positionIds, kv.past, cache.slots > 0);
    cache.append(presents, kv);
    const { vocabSize } = this.config;
    return tokens.map((ids, b) => Array.from({ length: ids.length }, (_, i) => data.subarray((b * n + i) * vocabSize, (b * n + i + 1) * vocabSize)));
  }

  /** One session run: [rows, n] new tokens after `past`; returns the logits [rows, n, vocab] as float32 and the present tensors. */
  async #run(
    rows: number,
    n: number,
    inputIds: BigInt64Array,
    attentionMask: BigInt64Array,
    positionIds: BigInt64Array,
    past: readonly Tensor[],
    hasPast: boolean,
  ): Promise<{ data: Float32Array; presents: Tensor[] }> {
    const { numLayers } = this.config;
    const feeds: Record<string, Tensor> = { input_ids: new Tensor('int64', inputIds, [rows, n]) }; // [rows, n]
    if (this.#io.attentionMask) feeds['attention_mask'] = new Tensor('int64', attentionMask, [rows, attentionMask.length / rows]); // [rows, past + n]
    if (this.#io.positionIds) feeds['position_ids'] = new Tensor('int64', positionIds, [rows, n]); // [rows, n]
    // A merged export's If must run its with-past branch over a past and its no-past branch (which takes none) on the first step.
    if (this.#io.useCacheBranch) feeds['use_cache_branch'] = new Tensor('bool', [hasPast], [1]);
    if (this.#keepAllLogits) feeds['num_logits_to_keep'] = this.#keepAllLogits;
    for (let i = 0; i < numLayers; i++) {
      feeds[pastName(i, 'key')] = past[2 * i]!;
      feeds[pastName(i, 'value')] = past[2 * i + 1]!;
    }
    const out = await this.#session.run(feeds);
    const data = this.#logitsData(out['logits']!, rows, n); // [rows, n, vocab]
    const presents: Tensor[] = [];
    for (let i = 0; i < numLayers; i++) presents.push(out[presentName(i, 'key')]!, out[presentName(i, 'value')]!);
    return { data, presents };
  }

  /**
   * A prompt prefilled alone: a one-row cache holding `ids`, ready to be adopted by a batch, and
   * the logits after its last token (null for no ids).
   */
  async prefill(ids: readonly number[]): Promise<{ row: BatchRow; logits: Float32Array | null }> {
    const cache = this.newBatchCache();
    const row = cache.addRow();
    cache.prepare(Math.max(1, ids.length));
    if (ids.length === 0) return { row, logits: null };
    const [rows] = await this.forwardBatch(cache, [ids]);
    return { row, logits: rows![rows!.length - 1]! };
  }

  #checkIds(ids: readonly number[]): void {
    const { vocabSize } = this.config;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new RangeError(`${this.id}: token id ${id} outside [0, ${vocabSize})`);
    }
  }

  #logitsData(logits: Tensor, rows: number, n: number): Float32Array {
    const { vocabSize } = this.config;
    if (logits.dims.length !== 3 || logits.dims[0] !== rows || logits.dims[1] !== n || logits.dims[2] !== vocabSize) {
      throw new EngineError('FS_MODEL_IO', `${this.id}: logits have dims [${logits.dims.join(', ')}], expected [${rows}, ${n}, ${vocabSize}]`, {
        model: this.id,
      });
    }
    if (logits.type !== 'float32' && logits.type !== 'float16') {
      throw new EngineError('FS_MODEL_IO', `${this.id}: logits have element type ${logits.type}`, { model: this.id });
    }
    return logits.type === 'float16' ? float16ToFloat32(logits.data as Uint16Array) : (logits.data as Float32Array);
  }

  /**
   * Runs the model over `tokenIds` after the tokens already in `cache`, appends their keys and
   * values to the cache, and returns one logits row per new token: [n][vocab].
   */
  async forward(cache: KvCache, tokenIds: readonly number[]): Promise<Float32Array[]> {
    const n = tokenIds.length;
    this.#checkIds(tokenIds);
    const kv = cache.feeds(n);
    const inputIds = BigInt64Array.from(tokenIds, BigInt); // [1, n]
    const { data, presents } = await this.#run(1, n, inputIds, kv.attentionMask, kv.positionIds, kv.past, cache.physicalLength > 0);
    cache.append(presents, n);
    const { vocabSize } = this.config;
    return Array.from({ length: n }, (_, i) => data.subarray(i * vocabSize, (i + 1) * vocabSize)); // [n][vocab]
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}
