// Which ONNX file of a model folder to load. onnx-community and transformers.js exports ship one
// file per weight precision (onnx/model.onnx, model_fp16.onnx, model_q4.onnx, ...), named by
// transformers.js' dtype suffixes (DEFAULT_DTYPE_SUFFIX_MAPPING in its src/utils/dtypes.js). The
// dtype comes from the folder's own fairspec.json ({"dtype": "q4f16"}), else from the engine's
// default (FAIRSPEC_DTYPE), else fp32.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from './errors.js';

const SUFFIXES = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
  q2: '_q2',
  q2f16: '_q2f16',
  q1: '_q1',
  q1f16: '_q1f16',
  bnb4: '_bnb4',
} as const;

export type ModelDtype = keyof typeof SUFFIXES;

export const MODEL_DTYPES = Object.keys(SUFFIXES) as ModelDtype[];

/** The per-folder settings file. */
export const FOLDER_SETTINGS_FILE = 'fairspec.json';

export function isModelDtype(value: unknown): value is ModelDtype {
  return typeof value === 'string' && Object.hasOwn(SUFFIXES, value);
}

/** `onnx/model${suffix}.onnx`, relative to the model folder. */
export function modelFileName(dtype: ModelDtype): string {
  return `model${SUFFIXES[dtype]}.onnx`;
}

/** The dtype whose file is `name` (model_q4.onnx -> q4), or undefined for any other name. */
export function dtypeOfFile(name: string): ModelDtype | undefined {
  return MODEL_DTYPES.find((d) => modelFileName(d) === name);
}

/** The dtype set by the folder's fairspec.json, or undefined when it has none. */
export async function readFolderDtype(dir: string): Promise<ModelDtype | undefined> {
  const path = join(dir, FOLDER_SETTINGS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EngineError('FS_MODEL_CONFIG', `cannot read ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch (err) {
    throw new EngineError('FS_MODEL_CONFIG', `${path} is not valid JSON: ${(err as Error).message}`, { path }, { cause: err });
  }
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new EngineError('FS_MODEL_CONFIG', `${path}: must be a JSON object`, { path, field: '' });
  }
  for (const field of Object.keys(settings)) {
    if (field !== 'dtype') throw new EngineError('FS_MODEL_CONFIG', `${path}: unknown field "${field}" (only "dtype")`, { path, field });
  }
  const dtype = (settings as { dtype?: unknown }).dtype;
  if (dtype === undefined) return undefined;
  if (!isModelDtype(dtype)) {
    throw new EngineError('FS_MODEL_CONFIG', `${path}: "dtype" must be one of ${MODEL_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`, {
      path,
      field: 'dtype',
      value: dtype,
    });
  }
  return dtype;
}

/** The model files onnx/ holds, by dtype; empty when the folder is missing or unreadable. */
export async function availableDtypes(dir: string): Promise<ModelDtype[]> {
  try {
    const names = new Set(await readdir(join(dir, 'onnx')));
    return MODEL_DTYPES.filter((d) => names.has(modelFileName(d)));
  } catch {
    return [];
  }
}

export interface ModelFile {
  dtype: ModelDtype;
  /** Where the dtype came from. */
  source: 'fairspec.json' | 'default';
  /** Absolute path of the ONNX graph. */
  path: string;
}

/**
 * The ONNX file to load from model folder `dir`: its fairspec.json dtype, else `defaultDtype`.
 * Throws FS_MODEL_LOAD naming the dtypes the folder does have when that file is missing.
 */
export async function resolveModelFile(dir: string, defaultDtype: ModelDtype = 'fp32', id = dir): Promise<ModelFile> {
  const own = await readFolderDtype(dir);
  const dtype = own ?? defaultDtype;
  const source = own === undefined ? 'default' : 'fairspec.json';
  const name = modelFileName(dtype);
  const available = await availableDtypes(dir);
  if (!available.includes(dtype)) {
    const why = source === 'fairspec.json' ? `its ${FOLDER_SETTINGS_FILE}` : 'the default dtype (FAIRSPEC_DTYPE)';
    const has = available.length === 0 ? 'no model*.onnx file at all' : available.map((d) => `${modelFileName(d)} (${d})`).join(', ');
    throw new EngineError('FS_MODEL_LOAD', `${id}: dtype ${dtype}, from ${why}, needs onnx/${name}; onnx/ has ${has}`, {
      model: id,
      dtype,
      available,
    });
  }
  return { dtype, source, path: join(dir, 'onnx', name) };
}
