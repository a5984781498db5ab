// A model pack on disk: a folder holding `verifier/` and any number of `drafter-NAME/` model
// folders, found and checked here. Nothing here creates an onnxruntime session, so a folder that
// fails a check costs no native memory and leaves a running engine as it was.

import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { checkDrafterFolder, drafterKindOf } from './drafter-model.js';
import { EngineError } from './errors.js';
import { readModelConfig } from './model-config.js';
import { TextTokenizer } from './tokenizer.js';

export interface EngineModelPaths {
  verifier: string;
  /** drafter name -> model folder */
  drafters?: Readonly<Record<string, string>>;
  /** Model ids for results and metrics; default: the folder names. */
  verifierId?: string;
  drafterIds?: Readonly<Record<string, string>>;
}

const DRAFTER_PREFIX = 'drafter-';

/**
 * The model folders of a pack: `verifier/` and every `drafter-NAME/` holding a drafter of any kind
 * (drafter-model.ts: an ONNX model of any dtype, n-gram tables, prompt lookup), with ids
 * `PACK/verifier` and `PACK/drafter-NAME`. A drafter without the file of its dtype then fails to
 * load, naming it.
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
    if ((await drafterKindOf(join(dir, name))) === null) continue;
    const drafter = name.slice(DRAFTER_PREFIX.length);
    drafters[drafter] = join(dir, name);
    drafterIds[drafter] = `${pack}/${name}`;
  }
  return { verifier: join(dir, 'verifier'), drafters, verifierId: `${pack}/verifier`, drafterIds };
}

/**
 * The model folders of a pack folder (or the explicit ones) and the verifier's tokenizer, once
 * every drafter has passed checkDrafterFolder.
 */
export async function readPack(source: string | EngineModelPaths): Promise<{ paths: EngineModelPaths; tokenizer: TextTokenizer }> {
  const paths = typeof source === 'string' ? await packModelPaths(source) : source;
  const tokenizer = await TextTokenizer.load(paths.verifier);
  const verifierConfig = await readModelConfig(paths.verifier);
  // Checked before any onnxruntime session is created: a mismatch is a pack error.
  for (const [name, dir] of Object.entries(paths.drafters ?? {})) await checkDrafterFolder(name, dir, { verifierConfig, tokenizer });
  return { paths, tokenizer };
}
