// Issue 16, work before admission: the cheap checks (body size, prompt length in characters,
// queue and drain state) come before any tokenisation, and tokenisation runs off the event loop,
// so several near-limit bodies at once leave /healthz answering within 100 ms. Bodies near the
// 1 MiB limit took seconds to tokenise on the event loop before.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import t from 'tap';
import { request } from 'undici';
import type { FastifyInstance } from 'fastify';
import { buildTestApp, completionBody, listen, MODEL } from '../helpers/build-app.js';

/** Counts the engine's tokenize() calls (a spy on the instance; the engine itself runs). */
function countTokenize(app: FastifyInstance): () => number {
  const engine = app.fairspec.loaded!.engine;
  const tokenize = engine.tokenize.bind(engine);
  let calls = 0;
  engine.tokenize = (text, signal) => {
    calls++;
    return tokenize(text, signal);
  };
  return () => calls;
}

// Near the 1 MiB body limit, each a different way to make a server tokenise a lot, and what
// each is refused with (before this issue the first took 2.4 s of the event loop to tokenise).
const SENDER = `
const [base, model] = process.argv.slice(1);
const { request } = await import(process.env.UNDICI);
const MiB = 1024 * 1024;
const body = (o) => ({ model, temperature: 0, max_tokens: 1, ...o });
const bodies = [
  body({ prompt: 'The quick brown fox. '.repeat(MiB / 21 - 100) }),
  body({ prompt: Array.from({ length: 64 }, (_, i) => i + ' ' + 'lorem ipsum '.repeat(1300)) }),
  body({ prompt: Array.from({ length: 64 }, () => 'x'.repeat(800)) }),
  body({ prompt: '<|endoftext|>'.repeat(MiB / 13 - 100) }),
  body({ prompt: '\u0b86'.repeat(MiB / 3 - 100), stream: true }),
  body({ prompt: 'Hi', stop: Array.from({ length: 4 }, () => 's'.repeat(MiB / 4 - 200)) }),
].map((b) => Buffer.from(JSON.stringify(b)));
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const out = await Promise.all(bodies.map(async (b) => {
  const res = await request(base + '/v1/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: b });
  return { status: res.statusCode, body: await res.body.json() };
}));
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;
const REFUSED = [
  ...Array.from({ length: 5 }, () => ({ code: 'context_length_exceeded', param: 'prompt' })),
  { code: 'invalid_value', param: 'stop' },
];

/** Times GET /healthz every 10 ms while `during` runs; the worst latency. */
async function probeWhile(base: string, during: () => Promise<unknown>, latencies: number[] = []): Promise<number> {
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const started = performance.now();
      const res = await request(`${base}/healthz`);
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`/healthz answered ${res.statusCode}`);
      latencies.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await during();
  probing = false;
  await probe;
  return Math.max(...latencies);
}

/**
 * CPU time of this process's main thread in ms (Linux: the scheduler's own count, in ns); where
 * that is not readable, the whole process's, which also counts the GC's helper threads.
 */
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
function mainThreadCpuMs(): number {
  try {
    return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
}

/**
 * The six bodies at once from another process (its own event loop) while /healthz is timed every
 * 10 ms, and this process's event loop watched every 2 ms. A probe's latency also holds the time
 * other jobs on the machine's cores kept this process waiting; `blocked`, the longest gap between
 * two watch ticks counted in the CPU time the main thread used (the event loop's own work),
 * leaves that out.
 */
async function burst(base: string): Promise<{ worstProbe: number; blocked: number; probes: number; results: Array<{ status: number; body: { error?: object } }> }> {
  // Started, and its bodies built, before anything is measured: spawning blocks this event loop.
  const sender = spawn(process.execPath, ['--input-type=module', '-e', SENDER, base, MODEL], {
    // A plain node, without the test runner's loaders.
    env: { PATH: process.env.PATH, UNDICI: import.meta.resolve('undici') },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  sender.stdout.setEncoding('utf8');
  const ready = new Promise<void>((resolve) => {
    sender.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('ready\n')) resolve();
    });
  });
  const exited = once(sender, 'exit');
  await Promise.race([ready, exited.then(([code]) => Promise.reject(new Error(`the sender exited with ${code} before sending`)))]);

  const latencies: number[] = [];
  let blocked = 0;
  let last = { wall: performance.now(), cpu: mainThreadCpuMs() };
  const watch = setInterval(() => {
    const now = { wall: performance.now(), cpu: mainThreadCpuMs() };
    blocked = Math.max(blocked, Math.min(now.wall - last.wall, now.cpu - last.cpu));
    last = now;
  }, 2);
  const worstProbe = await probeWhile(base, async () => {
    sender.stdin.end('go\n');
    await exited;
  }, latencies);
  clearInterval(watch);
  const code = sender.exitCode;
  if (code !== 0) throw new Error(`the sender exited with ${code}`);
  return { worstProbe, blocked, probes: latencies.length, results: JSON.parse(output.slice(output.indexOf('ready\n') + 'ready\n'.length)) };
}

t.test('/healthz answers within 100 ms while near-limit bodies arrive at once', async (t) => {
  const app = await buildTestApp(t, { concurrency: 1, maxQueue: 16 });
  const base = await listen(app);
  const tokenizeCalls = countTokenize(app);
  // Warm: the first request starts the tokenizer's worker thread.
  await (await request(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(completionBody({ max_tokens: 1 })) })).body.dump();

  // Tokenising on the event loop failed every bound here: the first body alone held it for
  // seconds. On a machine whose cores other jobs share, any probe can be kept waiting whatever
  // this server does: the loop's own turns, in CPU time, must stay within 100 ms in every burst,
  // and /healthz itself is held to 100 ms when the machine can time that (its worst probe over a
  // second without the bodies within 50 ms), in the best of up to five bursts.
  const quiet = (await probeWhile(base, () => new Promise((r) => setTimeout(r, 1000)))) <= 50;
  const runs: Array<Awaited<ReturnType<typeof burst>>> = [];
  for (let i = 0; i < (quiet ? 5 : 3) && !(quiet && runs.some((r) => r.worstProbe <= 100)); i++) {
    const run = await burst(base);
    runs.push(run);
    t.ok(run.probes >= 3, `burst ${i}: ${run.probes} probes`);
    run.results.forEach((r, j) => {
      t.equal(r.status, 400, `burst ${i}, body ${j}: refused`);
      t.match(r.body.error, REFUSED[j]);
    });
  }
  const summary = runs.map((r) => `probe ${r.worstProbe.toFixed(0)} ms, loop ${r.blocked.toFixed(0)} ms`).join('; ');
  t.ok(Math.max(...runs.map((r) => r.blocked)) <= 100, `the event loop's longest turn, in CPU time, within 100 ms (${summary})`);
  const skip = quiet ? {} : { skip: `this machine kept an idle server's probes waiting over 50 ms (load ${loadavg()[0]!.toFixed(1)})` };
  t.ok(!quiet || Math.min(...runs.map((r) => r.worstProbe)) <= 100, 'every /healthz of a burst within 100 ms', skip);
  t.ok(Math.max(...runs.map((r) => r.worstProbe)) <= 1000, 'every /healthz within 1 s');
  // Only prompts within the characters bound are tokenised: of the 64 short ones, up to the first
  // over the context.
  t.ok(tokenizeCalls() <= 1 + runs.length, `tokenised ${tokenizeCalls()} prompts`);

  const after = await request(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(completionBody()) });
  t.equal(after.statusCode, 200, 'the server still serves');
  await after.body.dump();
});

t.test('a full queue refuses with 429 before tokenising', async (t) => {
  const app = await buildTestApp(t, { concurrency: 1, maxQueue: 1 });
  const tokenizeCalls = countTokenize(app);
  const held = app.fairspec.requestQueue.reserve();
  const queued = app.fairspec.requestQueue.reserve();
  const body = completionBody({ prompt: Array.from({ length: 64 }, () => 'x'.repeat(60)), max_tokens: 1 });
  for (const stream of [false, true]) {
    const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: { ...body, stream } });
    t.equal(res.statusCode, 429);
    t.match(res.json(), { error: { code: 'rate_limit_exceeded' } });
  }
  t.equal(tokenizeCalls(), 0, 'nothing tokenised');
  queued.release();
  held.release();
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: body });
  t.equal(res.statusCode, 200, 'served once there is room');
  t.equal(tokenizeCalls(), 64, 'each prompt tokenised once');
  t.equal(res.json().choices.length, 64);
});

t.test('a draining server refuses with 503 before tokenising', async (t) => {
  const app = await buildTestApp(t);
  const tokenizeCalls = countTokenize(app);
  app.fairspec.stopAdmitting();
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt: 'x'.repeat(500), max_tokens: 1 }) });
  t.equal(res.statusCode, 503);
  t.match(res.json(), { error: { code: 'server_shutting_down' } });
  t.equal(tokenizeCalls(), 0, 'nothing tokenised');
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive');
});

t.test('a prompt is refused by its length in characters before tokenising; one that fits the bound is checked by its tokens', async (t) => {
  const app = await buildTestApp(t);
  const tokenizeCalls = countTokenize(app);
  // The fixture's longest token is '<|endoftext|>' (13 characters) and its context 64 tokens:
  // with max_tokens 4 a prompt of more than 13 * 60 = 780 characters cannot fit.
  const over = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt: 'y'.repeat(781), max_tokens: 4 }) });
  t.equal(over.statusCode, 400);
  t.match(over.json(), { error: { code: 'context_length_exceeded', param: 'prompt', message: /781 characters/ } });
  t.equal(tokenizeCalls(), 0);
  const counted = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt: 'y'.repeat(780), max_tokens: 4 }) });
  t.equal(counted.statusCode, 400);
  t.match(counted.json(), { error: { code: 'context_length_exceeded', message: /you requested 784 tokens \(780 in your prompt; 4 for the completion\)/ } });
  t.equal(tokenizeCalls(), 1);
  const fits = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt: '<|endoftext|>'.repeat(60), max_tokens: 4 }) });
  t.equal(fits.statusCode, 200, '60 tokens of 13 characters each fit');
  t.equal(fits.json().usage.prompt_tokens, 60);
});
