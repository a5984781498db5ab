// Regenerates deploy/base/generated/ from grafana/ (deploy/generated.ts):
//   npx tsx deploy/generate.ts

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from './generated.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
for (const [path, content] of generatedFiles(repo)) {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), content);
  process.stdout.write(`wrote ${path}\n`);
}
