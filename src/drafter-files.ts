// The files of a drafter's model folder, each confined like the folder itself. A folder inside the
// allowed roots may still hold symbolic links (config.json, onnx/model.onnx, onnx/ itself) to
// files anywhere; the engine would follow them. So before a swap loads anything, every file the
// engine reads must resolve, symbolic links followed, inside one of the roots and be a regular
// file: a FIFO or device would block or feed the loader forever.
//
// This narrows, but cannot close, the window between the check and the engine's reads: whoever can
// rewrite files inside the allowed folders while a swap runs is already trusted with them.

import { readdir, realpath, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { within } from './path-within.js';
import { FairspecError } from './errors.js';

/**
 * What the engine reads from a drafter folder besides onnx/ and tables/ (src/engine/model-config.ts,
 * tokenizer.ts, model-pack.ts, model-dtype.ts, and the manifests of src/engine/drafter-model.ts).
 */
export const MODEL_FILES: readonly string[] = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'fairspec.json',
  'ngram.json',
  'prompt-lookup.json',
];
/** Folders read whole: onnx/ (the graph and the external weights it names) and tables/ (n-gram tables). */
const MODEL_DIRS: readonly string[] = ['onnx', 'tables'];
/** Every entry of those counts, at most this many levels and entries. */
const MAX_ONNX_DEPTH = 4;
const MAX_ONNX_ENTRIES = 1000;

/**
 * Throws FS_PATH_NOT_ALLOWED when a file of the model folder `folder` (a real path) resolves
 * outside `realRoots`, and FS_INVALID_DRAFTER_MODEL when one is not a regular file. Missing
 * files pass: the engine names them. `shownAs` is how messages name the folder (the client's path).
 */
export async function confineModelFiles(folder: string, realRoots: readonly string[], shownAs: string): Promise<void> {
  const show = (relativePath: string) => posix.join(shownAs, relativePath);
  const check = async (relativePath: string, kind: 'file' | 'any'): Promise<string | null> => {
    let real: string;
    try {
      real = await realpath(join(folder, relativePath));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new FairspecError('FS_INVALID_DRAFTER_MODEL', `'${show(relativePath)}' cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, 'path');
    }
    if (!realRoots.some((root) => within(real, root))) {
      throw new FairspecError(
        'FS_PATH_NOT_ALLOWED',
        `'${show(relativePath)}' leads outside the model pack and FAIRSPEC_DRAFTER_DIRS (a symbolic link); every file of a drafter must lie there.`,
        'path',
      );
    }
    const stats = await stat(real);
    if (kind === 'file' ? !stats.isFile() : !stats.isFile() && !stats.isDirectory()) {
      throw new FairspecError('FS_INVALID_DRAFTER_MODEL', `'${show(relativePath)}' is not a regular file.`, 'path');
    }
    return stats.isDirectory() ? real : null;
  };

  for (const name of MODEL_FILES) await check(name, 'file');
  let entries = 0;
  const walk = async (relativeDir: string, depth: number): Promise<void> => {
    for (const entry of await readdir(join(folder, relativeDir))) {
      if (++entries > MAX_ONNX_ENTRIES || depth > MAX_ONNX_DEPTH) {
        throw new FairspecError('FS_INVALID_DRAFTER_MODEL', `'${show(relativeDir)}' holds more than ${MAX_ONNX_ENTRIES} entries or ${MAX_ONNX_DEPTH} levels.`, 'path');
      }
      const child = posix.join(relativeDir, entry);
      if ((await check(child, 'any')) !== null) await walk(child, depth + 1);
    }
  };
  // Missing, or a file where the folder should be: the engine says so.
  for (const dir of MODEL_DIRS) if ((await check(dir, 'any')) !== null) await walk(dir, 1);
}
