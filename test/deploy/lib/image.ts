// What the image sets for the server, read from the Dockerfile's runtime (last) stage: the ENV
// values (HOST, PORT, FAIRSPEC_PACK, ...) a container inherits unless its environment overrides.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './render.js';

export function imageEnvironment(dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8')): Map<string, string> {
  const instructions = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const lastStage = instructions.slice(instructions.findLastIndex((l) => /^FROM\s/i.test(l)));
  const env = new Map<string, string>();
  for (const line of lastStage.filter((l) => /^ENV\s/i.test(l))) {
    for (const m of line.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
      env.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
    }
  }
  return env;
}
