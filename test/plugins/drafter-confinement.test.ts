// PUT /v1/drafters/{name} confines a drafter folder file by file (issue 16): a folder inside the
// pack whose config.json, fairspec.json, tokenizer.json, onnx/ or a file in it is a symbolic link to a file
// outside is refused (path_not_allowed), so is a config.json that is not a regular file; links
// that stay inside are fine. A refused load's message names files relative to the folder, never
// by absolute path, and quotes nothing they hold. The old drafter serves throughout.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { ADMIN_TOKEN, buildTestApp, completionBody } from '../helpers/build-app.js';

const SWAP_PACK = fileURLToPath(new URL('../fixtures/swap-pack', import.meta.url));
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const SECRET = 'TOP-SECRET-CONTENT-4711';

/** A pack in a temporary folder: the swap-pack verifier, drafter-main (the slow drafter), and `candidates/`. */
function swapPack(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'fairspec-confine-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(SWAP_PACK, 'verifier'), join(dir, 'verifier'), { recursive: true });
  cpSync(join(SWAP_PACK, 'drafter-slow'), join(dir, 'drafter-main'), { recursive: true });
  mkdirSync(join(dir, 'candidates'));
  writeFileSync(join(dir, 'routing.json'), JSON.stringify({ default: { drafter: 'main', draft_length: 4 } }));
  return dir;
}

/** candidates/`name`: a copy of the fast drafter, then `change` applied to it. */
function candidate(dir: string, name: string, change: (folder: string) => void = () => {}): string {
  const folder = join(dir, 'candidates', name);
  cpSync(join(SWAP_PACK, 'drafter-fast'), folder, { recursive: true });
  change(folder);
  return `candidates/${name}`;
}

const swap = (app: FastifyInstance, path: string) => app.inject({ method: 'PUT', url: '/v1/drafters/main', payload: { path }, headers: auth });
const listed = async (app: FastifyInstance) => (await app.inject({ method: 'GET', url: '/v1/drafters', headers: auth })).json();

t.test('every file the engine reads must resolve inside the allowed folders', async (t) => {
  const dir = swapPack(t);
  const outside = mkdtempSync(join(tmpdir(), 'fairspec-outside-'));
  t.teardown(() => rmSync(outside, { recursive: true, force: true }));
  cpSync(join(SWAP_PACK, 'drafter-fast'), join(outside, 'fast'), { recursive: true });
  const out = (file: string) => join(outside, 'fast', file);
  const relink = (folder: string, file: string, target: string) => {
    rmSync(join(folder, file), { recursive: true });
    symlinkSync(target, join(folder, file));
  };

  const refused: [string, string][] = [
    [candidate(dir, 'onnx-link', (f) => relink(f, 'onnx/model.onnx', out('onnx/model.onnx'))), 'onnx/model.onnx'],
    [candidate(dir, 'onnx-dir-link', (f) => relink(f, 'onnx', out('onnx'))), 'onnx'],
    [candidate(dir, 'config-link', (f) => relink(f, 'config.json', out('config.json'))), 'config.json'],
    [candidate(dir, 'tokenizer-link', (f) => relink(f, 'tokenizer.json', out('tokenizer.json'))), 'tokenizer.json'],
    [candidate(dir, 'generation-link', (f) => relink(f, 'generation_config.json', '/etc/hostname')), 'generation_config.json'],
    [candidate(dir, 'settings-link', (f) => symlinkSync(out('config.json'), join(f, 'fairspec.json'))), 'fairspec.json'],
    [candidate(dir, 'external-weights-link', (f) => symlinkSync(out('onnx/model.onnx'), join(f, 'onnx', 'model.onnx_data'))), 'onnx/model.onnx_data'],
  ];
  // Links that stay inside the pack are fine.
  const inside = candidate(dir, 'inside-link', (f) => relink(f, 'onnx/model.onnx', join(dir, 'candidates', 'onnx-link', 'config.json')));
  candidate(dir, 'real', () => {});
  const insideOk = candidate(dir, 'inside-ok', (f) => relink(f, 'onnx/model.onnx', join(dir, 'candidates', 'real', 'onnx', 'model.onnx')));

  const app = await buildTestApp(t, { packDir: dir, adminToken: ADMIN_TOKEN });
  const before = await listed(app);
  for (const [path, file] of refused) {
    const res = await swap(app, path);
    t.equal(res.statusCode, 400, `${path}: ${res.body}`);
    t.match(res.json().error, { code: 'path_not_allowed', param: 'path', type: 'invalid_request_error' });
    t.equal(res.json().error.message, `'${path}/${file}' leads outside the model pack and FAIRSPEC_DRAFTER_DIRS (a symbolic link); every file of a drafter must lie there.`);
  }
  t.same(await listed(app), before, 'the old drafter still serves');

  const wrongInside = await swap(app, inside);
  t.equal(wrongInside.json().error.code, 'invalid_model', 'a link inside the pack passes the check; the file is then judged as a model');
  const ok = await swap(app, insideOk);
  t.equal(ok.statusCode, 200, ok.body);
  const completion = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt: 'Hi', speculative: { drafter: 'main', draft_length: 3 } }) });
  t.equal(completion.statusCode, 200, 'the swapped-in drafter serves');
});

t.test('a config.json that is not a regular file (a FIFO would block the loader) is refused', { skip: process.platform === 'win32' }, async (t) => {
  const dir = swapPack(t);
  const path = candidate(dir, 'fifo', (f) => {
    rmSync(join(f, 'config.json'));
    execFileSync('mkfifo', [join(f, 'config.json')]);
  });
  const app = await buildTestApp(t, { packDir: dir, adminToken: ADMIN_TOKEN });
  const res = await swap(app, path);
  t.equal(res.statusCode, 400, res.body);
  t.match(res.json().error, { code: 'invalid_model', message: `'${path}/config.json' is not a regular file.` });
});

t.test('a failed load names files relative to the folder and quotes none of their contents', async (t) => {
  const dir = swapPack(t);
  const config = (f: string) => JSON.parse(readFileSync(join(f, 'config.json'), 'utf8'));
  const cases: [string, RegExp][] = [
    [candidate(dir, 'bad-json', (f) => writeFileSync(join(f, 'config.json'), `${SECRET} {"n_layer": 1}`)), /: config\.json is not valid JSON$/],
    [candidate(dir, 'bad-field', (f) => writeFileSync(join(f, 'config.json'), JSON.stringify({ ...config(f), n_layer: SECRET }))), /: config\.json: field "n_layer" \(number of layers\) must be a positive integer$/],
    [candidate(dir, 'bad-generation', (f) => writeFileSync(join(f, 'generation_config.json'), `${SECRET}`)), /: generation_config\.json is not valid JSON$/],
    [candidate(dir, 'bad-tokenizer', (f) => writeFileSync(join(f, 'tokenizer.json'), `${SECRET} {`)), /: cannot read tokenizer file tokenizer\.json: not valid JSON$/],
    [candidate(dir, 'corrupt-onnx', (f) => writeFileSync(join(f, 'onnx', 'model.onnx'), `${SECRET} is not an onnx graph`)), /: onnxruntime could not load onnx\/model\.onnx$/],
    [candidate(dir, 'no-onnx', (f) => rmSync(join(f, 'onnx'), { recursive: true })), /: .*\bonnx\/model\.onnx\b/],
  ];
  const app = await buildTestApp(t, { packDir: dir, adminToken: ADMIN_TOKEN });
  const before = await listed(app);
  for (const [path, ending] of cases) {
    const res = await swap(app, path);
    t.equal(res.statusCode, 400, `${path}: ${res.body}`);
    const { message, code } = res.json().error;
    t.equal(code, 'invalid_model', path);
    t.ok(message.startsWith(`The folder '${path}' cannot be loaded as a drafter: `), message);
    t.notOk(message.includes(dir), `${path}: no absolute path of the pack (${message})`);
    t.notOk(message.includes(tmpdir()), `${path}: nothing of the temporary folder`);
    t.notOk(message.includes(SECRET), `${path}: none of the file's contents`);
    t.match(message, ending);
  }
  t.same(await listed(app), before, 'the old drafter still serves');
  const vocab = await swap(app, candidate(dir, 'vocab300', (f) => writeFileSync(join(f, 'config.json'), JSON.stringify({ ...config(f), vocab_size: 300 }))));
  t.equal(vocab.json().error.message, 'drafter "main" has vocab_size 300 but the verifier has 257; a drafter must share the verifier\'s vocabulary');
});
