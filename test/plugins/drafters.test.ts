// The drafters admin API (GET /v1/drafters, PUT /v1/drafters/{name}) on the swap fixture pack
// (test/fixtures/swap-pack, made by make-fixtures.py): the token, the path checks and the model
// checks, each leaving the old drafter serving; a generation running through a swap; and the
// routing issue's acceptance point: in adaptive mode a language whose drafter cannot pay ends at
// draft length 0, and after the drafter is swapped for one that pays it returns to speculation
// through exploration, without the policy's estimates being reset.
//
// swap-pack: a 12-layer verifier (one block, then one near-silent block 11 times); drafter-fast is
// its first block alone (1 layer: alpha ~0.97, c ~0.2-0.5 here, S ~1.5-2.5 at gamma 2-4),
// drafter-slow the verifier plus 24 more near-silent passes (36 layers: alpha ~0.94, but c ~2-4,
// so S < 1 at every gamma). Margins this wide keep the signs of the speed-ups when other work
// shares the CPU.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { CausalLM } from '../../src/engine/causal-lm.js';
import { createRandom } from '../../src/engine/random.js';
import { ADMIN_TOKEN, buildTestApp, completionBody } from '../helpers/build-app.js';

const SWAP_PACK = fileURLToPath(new URL('../fixtures/swap-pack', import.meta.url));
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const ROUTING = { default: { drafter: 'main', draft_length: 4 }, languages: { en: { drafter: 'main', draft_length: 4 } } };

// About 20 s on an idle machine (the slow fixture drafter has 36 layers); the margin is for CI sharing two cores.
t.setTimeout(120_000);

/**
 * A pack in a temporary folder: the swap-pack verifier, drafter-main = `initial`, and candidate
 * model folders under candidates/ (inside the pack, so a swap may load them).
 */
function swapPack(t: Test, initial: 'slow' | 'fast' = 'slow'): string {
  const dir = mkdtempSync(join(tmpdir(), 'fairspec-swap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(SWAP_PACK, 'verifier'), join(dir, 'verifier'), { recursive: true });
  cpSync(join(SWAP_PACK, `drafter-${initial}`), join(dir, 'drafter-main'), { recursive: true });
  for (const name of ['fast', 'slow']) cpSync(join(SWAP_PACK, `drafter-${name}`), join(dir, 'candidates', name), { recursive: true });
  writeFileSync(join(dir, 'routing.json'), JSON.stringify(ROUTING));
  return dir;
}

async function drafters(app: FastifyInstance) {
  const res = await app.inject({ method: 'GET', url: '/v1/drafters', headers: auth });
  if (res.statusCode !== 200) throw new Error(`GET /v1/drafters: ${res.body}`);
  return res.json() as { object: 'list'; retiring: number; data: { name: string; id: string; source: string; revision: number; in_use: number }[] };
}

const swap = (app: FastifyInstance, name: string, path: string, headers: Record<string, string> = auth) =>
  app.inject({ method: 'PUT', url: `/v1/drafters/${name}`, payload: { path }, headers });

async function routingOf(app: FastifyInstance, language: string) {
  const body = (await app.inject({ method: 'GET', url: '/v1/routing' })).json();
  return {
    language: body.languages.find((l: { language: string }) => l.language === language),
    cost: body.costs.drafters.find((d: { drafter: string }) => d.drafter === 'main') as { cost_ratio: number | null; source: string | null } | undefined,
  };
}

t.test('GET /v1/drafters lists the drafters; the drafters admin API needs the bearer token', async (t) => {
  const dir = swapPack(t);
  const disabled = await buildTestApp(t, { packDir: dir });
  const off = await disabled.inject({ method: 'GET', url: '/v1/drafters', headers: auth });
  t.equal(off.statusCode, 403, 'no FAIRSPEC_ADMIN_TOKEN: disabled');
  t.equal(off.json().error.code, 'admin_api_disabled');
  const unloaded = await buildTestApp(t, { packDir: dir, adminToken: ADMIN_TOKEN }, { loadModels: false });
  for (const route of [{ method: 'GET', url: '/v1/drafters' }, { method: 'PUT', url: '/v1/drafters/main', payload: { path: 'candidates/fast' } }] as const) {
    const res = await unloaded.inject({ ...route, headers: auth });
    t.equal(res.statusCode, 503, `${route.method} without a loaded pack`);
    t.equal(res.json().error.code, 'model_not_ready');
  }

  const app = await buildTestApp(t, { packDir: dir, adminToken: ADMIN_TOKEN });
  for (const route of [{ method: 'GET', url: '/v1/drafters' }, { method: 'PUT', url: '/v1/drafters/main', payload: { path: 'candidates/fast' } }] as const) {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }]) {
      const res = await app.inject({ ...route, headers });
      t.equal(res.statusCode, 401, `${route.method} ${route.url} with ${JSON.stringify(headers)}`);
      t.equal(res.json().error.code, 'invalid_api_key');
      t.equal(res.headers['www-authenticate'], 'Bearer realm="fairspec admin"');
    }
  }
  const garbage = await app.inject({ method: 'PUT', url: '/v1/drafters/main', payload: '{"path":', headers: { 'content-type': 'application/json' } });
  t.equal(garbage.statusCode, 401, 'authentication comes before the body is parsed');

  const list = await drafters(app);
  t.equal(list.object, 'list');
  t.equal(list.retiring, 0);
  t.equal(list.data.length, 1);
  const main = list.data[0]! as Record<string, unknown>;
  t.match(main, {
    object: 'drafter',
    name: 'main',
    id: `${basename(dir)}/drafter-main`,
    source: join(dir, 'drafter-main'),
    revision: Number,
    num_layers: 36,
    hidden_size: 32,
    vocab_size: 257,
    context_length: 128,
    in_use: 0,
  });
  t.ok(Math.abs((main.loaded_at as number) - Date.now() / 1000) < 600, 'loaded_at in unix seconds');
  t.ok((main.onnx_bytes as number) > 500_000, `onnx_bytes ${main.onnx_bytes}`);
});

t.test('PUT /v1/drafters/{name}: a bad name, path or model is a 4xx and leaves the old drafter serving', async (t) => {
  const dir = swapPack(t);
  const outside = mkdtempSync(join(tmpdir(), 'fairspec-outside-'));
  t.teardown(() => rmSync(outside, { recursive: true, force: true }));
  cpSync(join(SWAP_PACK, 'drafter-fast'), join(outside, 'fast'), { recursive: true });
  // inside the pack, but leading outside it
  symlinkSync(join(outside, 'fast'), join(dir, 'candidates', 'link-out'));
  // vocab_size differs
  cpSync(join(SWAP_PACK, 'drafter-fast'), join(dir, 'candidates', 'vocab300'), { recursive: true });
  const configPath = join(dir, 'candidates', 'vocab300', 'config.json');
  writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), vocab_size: 300 }));
  // same vocab_size, different tokens
  cpSync(join(SWAP_PACK, 'drafter-fast'), join(dir, 'candidates', 'other-tokens'), { recursive: true });
  const tokenizerPath = join(dir, 'candidates', 'other-tokens', 'tokenizer.json');
  const tokenizer = JSON.parse(readFileSync(tokenizerPath, 'utf8'));
  const [a, b] = Object.keys(tokenizer.model.vocab) as [string, string];
  [tokenizer.model.vocab[a], tokenizer.model.vocab[b]] = [tokenizer.model.vocab[b], tokenizer.model.vocab[a]];
  writeFileSync(tokenizerPath, JSON.stringify(tokenizer));
  // a config but no ONNX graph; a graph that is not one
  mkdirSync(join(dir, 'candidates', 'no-onnx'));
  cpSync(join(SWAP_PACK, 'drafter-fast', 'config.json'), join(dir, 'candidates', 'no-onnx', 'config.json'));
  cpSync(join(SWAP_PACK, 'drafter-fast'), join(dir, 'candidates', 'corrupt'), { recursive: true });
  writeFileSync(join(dir, 'candidates', 'corrupt', 'onnx', 'model.onnx'), 'not an onnx graph');

  const app = await buildTestApp(t, { packDir: dir, adminToken: ADMIN_TOKEN });
  const before = await drafters(app);
  const cases: [string, string | Record<string, unknown>, number, string, string | null][] = [
    ['nope', 'candidates/fast', 404, 'drafter_not_found', 'name'],
    ['main', {}, 400, 'missing_required_parameter', 'path'],
    ['main', { path: 'candidates/fast', force: true }, 400, 'unknown_parameter', 'force'],
    ['main', { path: '' }, 400, 'invalid_value', 'path'],
    ['main', { path: 7 }, 400, 'invalid_type', 'path'],
    ['main', '/etc', 400, 'path_not_allowed', 'path'],
    ['main', '../', 400, 'path_not_allowed', 'path'],
    ['main', `../${basename(dir)}-sibling/x`, 400, 'path_not_allowed', 'path'],
    ['main', join(outside, 'fast'), 400, 'path_not_allowed', 'path'],
    ['main', 'candidates/link-out', 400, 'path_not_allowed', 'path'],
    ['main', 'candidates/missing', 404, 'path_not_found', 'path'],
    ['main', join(dir, 'candidates', 'missing'), 404, 'path_not_found', 'path'],
    ['main', 'routing.json', 400, 'not_a_directory', 'path'],
    ['main', 'candidates/vocab300', 400, 'vocab_mismatch', 'path'],
    ['main', 'candidates/other-tokens', 400, 'vocab_mismatch', 'path'],
    ['main', 'candidates/no-onnx', 400, 'invalid_model', 'path'],
    ['main', 'candidates/corrupt', 400, 'invalid_model', 'path'],
    ['main', 'candidates', 400, 'invalid_model', 'path'],
  ];
  for (const [name, body, status, code, param] of cases) {
    const payload = typeof body === 'string' ? { path: body } : body;
    const res = await app.inject({ method: 'PUT', url: `/v1/drafters/${name}`, payload, headers: auth });
    t.equal(res.statusCode, status, `${name} ${JSON.stringify(payload)}: ${res.json().error?.message}`);
    t.same(Object.keys(res.json()), ['error']);
    t.match(res.json().error, { type: 'invalid_request_error', code, param, message: String });
  }
  const vocab = await swap(app, 'main', 'candidates/vocab300');
  t.match(vocab.json().error.message, /vocab_size 300 but the verifier has 257/);

  t.same(await drafters(app), before, 'the old drafter still serves, unchanged');
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt: 'Hi', speculative: { drafter: 'main', draft_length: 3 } }) });
  t.equal(res.statusCode, 200);
  t.equal(res.json().speculative.drafter, 'main');

  const ok = await swap(app, 'main', join(dir, 'candidates', 'fast'));
  t.equal(ok.statusCode, 200, 'an absolute path inside the pack');
  t.equal(ok.json().source, join(dir, 'candidates', 'fast'));
});

t.test('FAIRSPEC_DRAFTER_DIRS allows model folders outside the pack', async (t) => {
  const dir = swapPack(t);
  const extra = mkdtempSync(join(tmpdir(), 'fairspec-drafters-'));
  t.teardown(() => rmSync(extra, { recursive: true, force: true }));
  cpSync(join(SWAP_PACK, 'drafter-fast'), join(extra, 'fast-v2'), { recursive: true });
  const app = await buildTestApp(t, { packDir: dir, adminToken: ADMIN_TOKEN, drafterDirs: [extra] });
  const res = await swap(app, 'main', join(extra, 'fast-v2'));
  t.equal(res.statusCode, 200, res.body);
  const body = res.json();
  const [first] = (await drafters(app)).data;
  t.match(body, { object: 'drafter', name: 'main', id: `${basename(extra)}/fast-v2`, source: join(extra, 'fast-v2'), num_layers: 1, in_use: 0 });
  t.same(body.replaced, { id: `${basename(dir)}/drafter-main`, source: join(dir, 'drafter-main'), revision: body.replaced.revision, in_use: 0 });
  t.ok(body.revision > body.replaced.revision, 'a new revision');
  const { replaced: _replaced, ...current } = body;
  t.same(first, current, 'GET lists the new model');
  t.equal((await swap(app, 'main', join(extra, '..', basename(dir), 'candidates', 'slow'))).statusCode, 200, 'the pack is still allowed');
});

t.test('a generation running during a swap finishes with its drafter; the old session is released after it', async (t) => {
  const dir = swapPack(t);
  const app = await buildTestApp(t, { packDir: dir, adminToken: ADMIN_TOKEN });
  const oldSource = join(dir, 'drafter-main');

  // Hold the old drafter's first forward pass until the swap is done.
  const original = CausalLM.prototype.forwardBatch;
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  CausalLM.prototype.forwardBatch = async function (this: CausalLM, ...args: Parameters<CausalLM['forwardBatch']>) {
    if (this.dir === oldSource && !held) {
      held = true;
      entered();
      await gate;
    }
    return original.apply(this, args);
  };
  t.teardown(() => {
    CausalLM.prototype.forwardBatch = original;
  });

  const running = app.inject({
    method: 'POST',
    url: '/v1/completions',
    payload: completionBody({ prompt: 'Hi', max_tokens: 40, temperature: 1, seed: 3, speculative: { drafter: 'main', draft_length: 4 } }),
  });
  await inside;
  const swapped = await swap(app, 'main', 'candidates/fast');
  t.equal(swapped.statusCode, 200, swapped.body);
  t.equal(swapped.json().replaced.in_use, 1, 'the replaced model is still held by the running generation');
  const during = await drafters(app);
  t.equal(during.retiring, 1, 'so its session is not released yet');
  t.equal(during.data[0]?.source, join(dir, 'candidates', 'fast'));
  t.equal(during.data[0]?.in_use, 0);
  t.equal((await routingOf(app, 'en')).cost?.source ?? null, null, 'nothing timed yet');

  release();
  const res = await running;
  t.equal(res.statusCode, 200, 'the running generation completes with the old model (a released session would fail it)');
  t.equal(res.json().speculative.drafter, 'main');
  t.equal(res.json().usage.completion_tokens, 40);
  t.equal((await drafters(app)).retiring, 0, 'released once it ended');
  t.equal((await routingOf(app, 'en')).cost?.source ?? null, null, "the old model's timing is not taken as the new one's");

  const next = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt: 'Hi', max_tokens: 40, speculative: { drafter: 'main', draft_length: 4 } }) });
  t.equal(next.statusCode, 200);
  t.equal((await routingOf(app, 'en')).cost?.source, 'measured', 'a request after the swap times the new model');
});

// The acceptance point. Exploration is on (25% of requests, from a seeded source, so the run is
// reproducible); the policy's other settings are the server's defaults (512 drafted tokens before
// an estimate is used, estimates forgetting over 8192 tokens, timings over 2048 steps). Without
// re-timing the swapped drafter, its cost would stay near the slow model's for about a thousand
// drafted tokens (some 15 exploring requests, 60 requests in all): the bound of 30 would fail.
t.test('adaptive routing: a language at draft length 0 returns to speculation once its drafter is swapped for one that pays', async (t) => {
  const dir = swapPack(t, 'slow');
  const app = await buildTestApp(
    t,
    { packDir: dir, adminToken: ADMIN_TOKEN, routingMode: 'adaptive', metricLanguages: ['en'] },
    { routingPolicy: { explorationRate: 0.25, random: createRandom(20251126) } },
  );
  let seed = 0;
  const complete = async (): Promise<string> => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/completions',
      payload: completionBody({ prompt: 'Hi', language: 'en', max_tokens: 100, temperature: 1, seed: seed++ }),
    });
    t.equal(res.statusCode, 200);
    const s = res.json().speculative;
    return `${s.drafter}/${s.draft_length}`;
  };
  const choice = async () => {
    const c = (await routingOf(app, 'en')).language.choice;
    return `${c.drafter}/${c.draft_length}/${c.reason}`;
  };

  // 1. The slow drafter: the static route while the estimate warms up, then plain decoding.
  const before: string[] = [];
  const choices: string[] = [];
  const plainFor = (n: number) => choices.length >= n && choices.slice(-n).every((c) => c === 'null/0/no-speedup');
  for (let i = 0; i < 40 && !plainFor(5); i++) {
    before.push(await complete());
    choices.push(await choice());
  }
  t.same(before.slice(0, 3), ['main/4', 'main/4', 'main/4'], 'the static route while the estimate warms up');
  t.ok(plainFor(5), `then plain decoding: ${before.length} requests, choices ${choices.join(' ')}`);
  t.ok(before.slice(before.indexOf('null/0')).every((r) => r === 'null/0' || r === 'main/2'), 'plain from then on, but for exploration at gamma 2');
  const atPlain = await routingOf(app, 'en');
  const slowAlpha = atPlain.language.drafters[0].alpha;
  t.ok(atPlain.cost!.cost_ratio! > 1, `the slow drafter costs more than the verifier: c = ${atPlain.cost!.cost_ratio}`);
  t.ok(atPlain.language.drafters[0].expected_speedup_lower < 1.02);

  // 2. Swap in the fast drafter. No reset: the route and the alpha estimate are as they were.
  const swapped = await swap(app, 'main', 'candidates/fast');
  t.equal(swapped.statusCode, 200, swapped.body);
  const atSwap = await routingOf(app, 'en');
  t.equal(await choice(), 'null/0/no-speedup', 'the route does not change at the swap');
  t.equal(atSwap.cost!.source, 'previous', "the old model's cost stands in until the new one is timed");
  const alphaAtSwap = atSwap.language.drafters[0].alpha;
  t.ok(Math.abs(alphaAtSwap.mean - slowAlpha.mean) < 0.02, `the alpha estimate keeps its mean: ${slowAlpha.mean} -> ${alphaAtSwap.mean}`);
  t.ok(alphaAtSwap.sd > slowAlpha.sd, "but weighs as a prior: the new model's observations soon outweigh it");
  t.ok(atSwap.language.drafters[0].ready, 'and stays ready');

  // 3. Exploration times the new drafter, and the language comes back.
  const after: string[] = [];
  let returnedAfter: number | null = null;
  for (let i = 0; i < 30 && returnedAfter === null; i++) {
    after.push(await complete());
    if ((await choice()).endsWith('/estimate')) returnedAfter = after.length;
  }
  t.not(returnedAfter, null, `back to speculation within 30 requests: ${after.join(' ')}`);
  for (let i = 0; i < 4; i++) after.push(await complete());
  t.ok(after.slice(-4).every((r) => /^main\/[1-9]/.test(r)), `and it stays there: ${after.slice(-4).join(' ')}`);
  const back = await routingOf(app, 'en');
  t.match(back.language.choice, { drafter: 'main', reason: 'estimate' });
  t.ok(back.language.choice.draft_length >= 1);
  t.equal(back.cost!.source, 'measured');
  t.ok(back.cost!.cost_ratio! < 0.9, `the fast drafter costs less than the verifier: c = ${back.cost!.cost_ratio}`);
  t.ok(back.language.drafters[0].expected_speedup_lower > 1.02, `S at the lower alpha bound ${back.language.drafters[0].expected_speedup_lower}`);
  t.comment(`slow drafter: plain after ${before.length} requests; fast drafter: speculating again after ${returnedAfter} requests`);
});
