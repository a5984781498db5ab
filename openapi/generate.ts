// Writes openapi/openapi.json from the routes' own schemas (npm run openapi).
// `--check` exits 1 instead when the checked-in file differs (test/plugins/openapi.test.ts
// does the same comparison). No model pack is needed: the app is built without loading one,
// and with default settings, so the spec does not depend on the environment.

import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../app.js';
import { loadConfig } from '../src/config.js';

export const SPEC_PATH = fileURLToPath(new URL('./openapi.json', import.meta.url));

export async function generateSpec(): Promise<string> {
  const app = await buildApp(loadConfig({}), { loadModels: false, logger: false });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const spec = await generateSpec();
  if (process.argv.includes('--check')) {
    const current = await readFile(SPEC_PATH, 'utf8').catch(() => '');
    if (current !== spec) {
      process.stderr.write(`${SPEC_PATH} is stale: run npm run openapi\n`);
      process.exit(1);
    }
    process.stdout.write(`${SPEC_PATH} is up to date\n`);
  } else {
    await writeFile(SPEC_PATH, spec);
    process.stdout.write(`wrote ${SPEC_PATH}\n`);
  }
}
