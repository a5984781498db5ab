// Whether one absolute path lies inside another, by their text alone: resolve symbolic links
// first (realpath) where they matter.

import { isAbsolute, relative, sep } from 'node:path';

/** `child` is `root` or lies below it. */
export function within(child: string, root: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
