// The layering of issue 13: the domain (src/) knows nothing of HTTP. Nothing under src/ imports
// Fastify, a Fastify plugin package, or the HTTP layer (app.ts, server.ts, plugins/).

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every module specifier of static imports, re-exports and dynamic imports. */
function specifiers(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)) {
    found.push((m[1] ?? m[2] ?? m[3])!);
  }
  return found;
}

function forbidden(file: string, specifier: string): string | null {
  if (/^(fastify|fastify-plugin)$|^@fastify\//.test(specifier)) return `imports ${specifier}`;
  if (!specifier.startsWith('.')) return null;
  const target = relative(root, resolve(dirname(file), specifier));
  if (target.startsWith('plugins/') || /^(app|server)\.(js|ts)$/.test(target)) return `imports the HTTP layer (${target})`;
  return null;
}

t.test('the specifier scan finds every form of import', async (t) => {
  t.same(specifiers("import Fastify from 'fastify';\nimport type { X } from '../plugins/x.js';\nexport { y } from './y.js';\nconst m = await import('@fastify/swagger');\nimport './side.js';"), [
    'fastify',
    '../plugins/x.js',
    './y.js',
    '@fastify/swagger',
    './side.js',
  ]);
  t.equal(forbidden(join(SRC, 'a.ts'), '../plugins/errors.js'), 'imports the HTTP layer (plugins/errors.js)');
  t.equal(forbidden(join(SRC, 'engine', 'a.ts'), '../../app.js'), 'imports the HTTP layer (app.js)');
  t.equal(forbidden(join(SRC, 'a.ts'), 'fastify-plugin'), 'imports fastify-plugin');
  t.equal(forbidden(join(SRC, 'a.ts'), './engine/index.js'), null);
});

t.test('src/ imports neither Fastify nor the HTTP layer', async (t) => {
  const files = sources(SRC);
  t.ok(files.length > 50, `${files.length} source files under src/`);
  const problems = files.flatMap((file) =>
    specifiers(readFileSync(file, 'utf8')).flatMap((s) => {
      const why = forbidden(file, s);
      return why ? [`${relative(root, file)} ${why}`] : [];
    }),
  );
  t.same(problems, []);
});
