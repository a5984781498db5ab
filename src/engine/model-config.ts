// Reads the shape of a causal LM from a Hugging Face model folder (config.json and the optional
// generation_config.json), for GPT-2 style and Llama / Qwen2 / Mistral style field names.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from './errors.js';

export type KvDtype = 'float32' | 'float16';

export interface ModelConfig {
  modelType: string;
  numLayers: number;
  numHeads: number;
  /** Fewer than numHeads with grouped-query attention. */
  numKvHeads: number;
  headDim: number;
  hiddenSize: number;
  /** Maximum number of positions (prompt + completion). */
  contextLength: number;
  vocabSize: number;
  /** Empty when neither config declares one. */
  eosTokenIds: number[];
  bosTokenId: number | null;
  /** From config `torch_dtype`; the ONNX input metadata overrides it (see resolveKvDtype). */
  kvDtype: KvDtype;
}

type Json = Record<string, unknown>;

function fail(source: string, message: string, field: string, value?: unknown): never {
  throw new EngineError('FS_MODEL_CONFIG', `${source}: ${message}`, { source, field, value });
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** The first present field among `names`, which must be a positive integer. */
function pickInt(config: Json, names: string[], what: string, source: string): number;
function pickInt(config: Json, names: string[], what: string, source: string, optional: true): number | undefined;
function pickInt(config: Json, names: string[], what: string, source: string, optional = false): number | undefined {
  for (const name of names) {
    const value = config[name];
    if (value === undefined || value === null) continue;
    if (!isPositiveInt(value)) fail(source, `field "${name}" (${what}) must be a positive integer, got ${JSON.stringify(value)}`, name, value);
    return value;
  }
  if (optional) return undefined;
  return fail(source, `missing ${names.map((n) => `"${n}"`).join(' or ')} (${what})`, names[0]!);
}

function tokenIds(value: unknown, field: string, source: string): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  const ids = Array.isArray(value) ? value : [value];
  for (const id of ids) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      fail(source, `field "${field}" must be a token id or a list of token ids, got ${JSON.stringify(value)}`, field, value);
    }
  }
  return ids as number[];
}

export function parseModelConfig(config: unknown, generationConfig: unknown = {}, source = 'config.json'): ModelConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) fail(source, 'must be a JSON object', '');
  const c = config as Json;
  const g = (typeof generationConfig === 'object' && generationConfig !== null ? generationConfig : {}) as Json;

  const numLayers = pickInt(c, ['num_hidden_layers', 'n_layer'], 'number of layers', source);
  const numHeads = pickInt(c, ['num_attention_heads', 'n_head'], 'number of attention heads', source);
  const hiddenSize = pickInt(c, ['hidden_size', 'n_embd'], 'hidden size', source);
  const numKvHeads = pickInt(c, ['num_key_value_heads'], 'number of key/value heads', source, true) ?? numHeads;
  const contextLength = pickInt(c, ['max_position_embeddings', 'n_positions', 'n_ctx'], 'context length', source);
  const vocabSize = pickInt(c, ['vocab_size'], 'vocabulary size', source);
  let headDim = pickInt(c, ['head_dim'], 'attention head size', source, true);
  if (headDim === undefined) {
    if (hiddenSize % numHeads !== 0) {
      fail(source, `hidden size ${hiddenSize} is not a multiple of ${numHeads} heads; set "head_dim"`, 'head_dim');
    }
    headDim = hiddenSize / numHeads;
  }
  if (numHeads % numKvHeads !== 0) {
    fail(source, `${numHeads} attention heads cannot share ${numKvHeads} key/value heads`, 'num_key_value_heads', numKvHeads);
  }

  // generation_config.json wins, as in transformers' GenerationConfig.
  const eosTokenIds =
    tokenIds(g['eos_token_id'], 'eos_token_id', 'generation_config.json') ?? tokenIds(c['eos_token_id'], 'eos_token_id', source) ?? [];
  const bos = tokenIds(g['bos_token_id'], 'bos_token_id', 'generation_config.json') ?? tokenIds(c['bos_token_id'], 'bos_token_id', source);
  for (const id of [...eosTokenIds, ...(bos ?? [])]) {
    if (id >= vocabSize) fail(source, `special token id ${id} is outside the vocabulary (${vocabSize})`, 'eos_token_id', id);
  }

  const torchDtype = c['torch_dtype'] ?? c['dtype'];
  return {
    modelType: typeof c['model_type'] === 'string' ? c['model_type'] : 'unknown',
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    hiddenSize,
    contextLength,
    vocabSize,
    eosTokenIds: [...new Set(eosTokenIds)],
    bosTokenId: bos?.[0] ?? null,
    kvDtype: torchDtype === 'float16' ? 'float16' : 'float32',
  };
}

/** The KV dtype from an ONNX past input's element type, falling back to the config's torch_dtype. */
export function resolveKvDtype(onnxType: string | undefined, config: ModelConfig, inputName: string): KvDtype {
  if (onnxType === undefined) return config.kvDtype;
  if (onnxType === 'float32' || onnxType === 'float16') return onnxType;
  throw new EngineError('FS_MODEL_IO', `ONNX input "${inputName}" has element type ${onnxType}; only float32 and float16 caches are supported`, {
    input: inputName,
    type: onnxType,
  });
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EngineError('FS_MODEL_CONFIG', `cannot read ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new EngineError('FS_MODEL_CONFIG', `${path} is not valid JSON: ${(err as Error).message}`, { path }, { cause: err });
  }
}

export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const configPath = join(dir, 'config.json');
  const config = await readJson(configPath, true);
  const generation = await readJson(join(dir, 'generation_config.json'), false);
  return parseModelConfig(config, generation ?? {}, configPath);
}
