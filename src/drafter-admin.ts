// Replacing a drafter while the server runs (PUT /v1/drafters/{name}): which folders a drafter may
// be loaded from, and what a failed load means to the operator. The engine does the swap itself
// (src/engine/drafter-pool.ts) and checks the model as at boot.
//
// A swap only replaces the model behind an existing name: routing.json, the routing policy and
// experiments name drafters, and they keep naming the same one. The folder must exist, be a
// directory, and lie inside the pack folder or one of FAIRSPEC_DRAFTER_DIRS after symbolic links
// are resolved (the lexical path is checked first, so a path outside says "not allowed" without
// telling whether it exists). Any failure is a FairspecError and leaves the old drafter serving.

import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { isEngineError, type DrafterInfo, type DrafterSwap, type Engine } from './engine/index.js';
import { FairspecError } from './errors.js';

/** `child` is `root` or lies below it. */
function within(child: string, root: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
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
  const realRoots = await Promise.all(roots.map((root) => realpath(root).catch(() => null)));
  if (!realRoots.some((root) => root !== null && within(real, root))) throw notAllowed();
  if (!(await stat(real)).isDirectory()) throw new FairspecError('FS_NOT_A_DIRECTORY', `'${raw}' is not a folder; give the model folder that holds config.json and onnx/.`);
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
      if (isEngineError(err, 'FS_VOCAB_MISMATCH')) throw new FairspecError('FS_VOCAB_MISMATCH', err.message, 'path');
      if (isEngineError(err, 'FS_MODEL_CONFIG') || isEngineError(err, 'FS_MODEL_IO') || isEngineError(err, 'FS_MODEL_LOAD')) {
        throw new FairspecError('FS_INVALID_DRAFTER_MODEL', `The folder '${path}' cannot be loaded as a drafter: ${err.message}`, 'path');
      }
      throw err;
    }
  }
}
