// Replacing a drafter while the server runs (PUT /v1/drafters/{name}): which folders a drafter may
// be loaded from, and what a failed load means to the operator. The engine does the swap itself
// (src/engine/drafter-pool.ts) and checks the model as at boot.
//
// A swap only replaces the model behind an existing name: routing.json, the routing policy and
// experiments name drafters, and they keep naming the same one. The folder must exist, be a
// directory, and lie inside the pack folder or one of FAIRSPEC_DRAFTER_DIRS after symbolic links
// are resolved (the lexical path is checked first, so a path outside says "not allowed" without
// telling whether it exists), and so must every file in it the engine will read
// (src/drafter-files.ts). Any failure is a FairspecError and leaves the old drafter serving; its
// message names files relative to the folder and quotes none of their contents
// (src/load-error-message.ts), the engine's own error riding along as its `cause` for the log.

import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { confineModelFiles } from './drafter-files.js';
import { isEngineError, type DrafterInfo, type DrafterSwap, type Engine } from './engine/index.js';
import { FairspecError } from './errors.js';
import { loadErrorMessage } from './load-error-message.js';
import { within } from './path-within.js';

/** The real paths of the roots that exist. */
async function realRoots(roots: readonly string[]): Promise<string[]> {
  const real = await Promise.all(roots.map((root) => realpath(root).catch(() => null)));
  return real.filter((root): root is string => root !== null);
}

/**
 * The real path of the model folder `raw` names (relative: from the pack folder), if it lies in
 * one of `roots` (the pack folder first); FairspecError otherwise.
 */
export async function resolveDrafterFolder(raw: string, roots: readonly string[]): Promise<string> {
  const notAllowed = () =>
    new FairspecError('FS_PATH_NOT_ALLOWED', `The path '${raw}' is outside the model pack and FAIRSPEC_DRAFTER_DIRS; a drafter can only be loaded from there.`);
  if (raw.includes('\0')) throw notAllowed();
  const absolute = resolve(roots[0]!, raw);
  if (!roots.some((root) => within(absolute, resolve(root)))) throw notAllowed();
  let real: string;
  try {
    real = await realpath(absolute);
  } catch {
    throw new FairspecError('FS_PATH_NOT_FOUND', `There is no folder at '${raw}'.`);
  }
  // A symbolic link inside an allowed folder may point anywhere: judge where it leads.
  const allowed = await realRoots(roots);
  if (!allowed.some((root) => within(real, root))) throw notAllowed();
  if (!(await stat(real)).isDirectory()) throw new FairspecError('FS_NOT_A_DIRECTORY', `'${raw}' is not a folder; give the model folder that holds config.json and onnx/.`);
  await confineModelFiles(real, allowed, raw);
  return real;
}

export class DrafterAdmin {
  readonly #engine: Engine;
  readonly #roots: string[];

  /** `roots`: the pack folder, then the other folders drafters may come from. */
  constructor(engine: Engine, roots: readonly string[]) {
    this.#engine = engine;
    this.#roots = roots.map((root) => resolve(root));
  }

  list(): Promise<DrafterInfo[]> {
    return this.#engine.drafters();
  }

  get retiring(): number {
    return this.#engine.retiringDrafters;
  }

  /** Makes the model in folder `path` drafter `name` for the generations that start from now on. */
  async swap(name: string, path: string): Promise<DrafterSwap> {
    const engine = this.#engine;
    if (!engine.drafterNames.includes(name)) {
      throw new FairspecError('FS_DRAFTER_NOT_FOUND', `No drafter '${name}'; this server has ${engine.drafterNames.join(', ') || 'none'}.`, 'name');
    }
    const folder = await resolveDrafterFolder(path, this.#roots);
    try {
      return await engine.replaceDrafter(name, folder);
    } catch (err) {
      // The engine's id of a swapped-in model (src/engine/drafter-pool.ts), which prefixes its messages.
      const told = (e: Error) => loadErrorMessage(e, [folder, resolve(this.#roots[0]!, path)], `${basename(dirname(folder))}/${basename(folder)}`);
      if (isEngineError(err, 'FS_VOCAB_MISMATCH')) throw withCause(new FairspecError('FS_VOCAB_MISMATCH', told(err), 'path'), err);
      if (isEngineError(err, 'FS_MODEL_CONFIG') || isEngineError(err, 'FS_MODEL_IO') || isEngineError(err, 'FS_MODEL_LOAD')) {
        throw withCause(new FairspecError('FS_INVALID_DRAFTER_MODEL', `The folder '${path}' cannot be loaded as a drafter: ${told(err)}`, 'path'), err);
      }
      throw err;
    }
  }
}

function withCause(error: FairspecError, cause: unknown): FairspecError {
  error.cause = cause;
  return error;
}
