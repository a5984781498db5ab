// A model pack on disk: a folder holding `verifier/` and any number of `drafter-NAME/` model
// folders, found and checked here. Nothing here creates an onnxruntime session, so a folder that
// fails a check costs no native memory and leaves a running engine as it was.

import { access, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { EngineError } from './errors.js';
import { readModelConfig, type ModelConfig } from './model-config.js';
import { availableDtypes } from './model-dtype.js';
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
 * The model folders of a pack: `verifier/` and every `drafter-NAME/` holding an ONNX model of any
 * dtype (onnx/model.onnx, model_fp16.onnx, ...: model-dtype.ts), with ids `PACK/verifier` and
 * `PACK/drafter-NAME`. A drafter without the file of its dtype then fails to load, naming it.
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
    if ((await availableDtypes(join(dir, name))).length === 0) continue;
    const drafter = name.slice(DRAFTER_PREFIX.length);
    drafters[drafter] = join(dir, name);
    drafterIds[drafter] = `${pack}/${name}`;
  }
  return { verifier: join(dir, 'verifier'), drafters, verifierId: `${pack}/verifier`, drafterIds };
}

/**
 * The model folders of a pack folder (or the explicit ones) and the verifier's tokenizer, once
 * every drafter has passed checkDrafterVocabulary.
 */
export async function readPack(source: string | EngineModelPaths): Promise<{ paths: EngineModelPaths; tokenizer: TextTokenizer }> {
  const paths = typeof source === 'string' ? await packModelPaths(source) : source;
  const tokenizer = await TextTokenizer.load(paths.verifier);
  const verifierConfig = await readModelConfig(paths.verifier);
  // Vocabulary check before any onnxruntime session is created: a mismatch is a pack error.
  for (const [name, dir] of Object.entries(paths.drafters ?? {})) await checkDrafterVocabulary(name, dir, verifierConfig, tokenizer);
  return { paths, tokenizer };
}

/**
 * Checks that the model folder `dir` can draft for a verifier with `verifierConfig` and
 * `tokenizer`: same vocab_size, and the same vocabulary when the folder has its own
 * tokenizer.json. Runs before any onnxruntime session is created, at boot and on a swap alike.
 */
export async function checkDrafterVocabulary(name: string, dir: string, verifierConfig: ModelConfig, tokenizer: TextTokenizer): Promise<void> {
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
