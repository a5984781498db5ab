// Soak and chaos (issue 16): a server this script starts on 127.0.0.1 takes a bounded number of
// mixed requests (plain and streamed completions, streams aborted mid-way, requests aborted while
// queued, drafter swaps during streams, hostile bodies and stalled clients), and must:
//   - answer no schema-valid request with a 5xx (and no hostile one either);
//   - keep its RSS and V8 heap within 10 % of what they were after the warm-up;
//   - leak no sessions or queue entries: the running/queued gauges back at 0, no replaced
//     drafter model left waiting;
//   - after a kill -9 under load and a restart with the same environment, come back ready with
//     its configuration intact (model id, drafters, routing mode, experiments) and serve.
//
//   nice npx tsx bench/soak.ts                              # the test fixture pack, 2,000 requests
//   nice npx tsx bench/soak.ts --pack models/default --requests 2000 --json soak.json
//
// The server is `server.ts` in a child process (tsx), started with --expose-gc and a one-line
// hook that runs a full GC on SIGUSR2, so each memory reading (from GET /metrics) is of live
// objects, not of garbage that happens to await collection. Requests: a warm-up of 10 %, the main
// run of 80 %, then the last 10 % with a kill -9 half-way. Everything stays on 127.0.0.1, and the
// run is bounded in requests and, by --max-minutes, in time.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { intOption } from './int-option.js';
import { describeMachine } from './machine.js';
import { UsageError } from './usage-error.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE_PACK = join(ROOT, 'test/fixtures/gpt2-pack');
const FIXTURE_ROUTING = {
  default: { drafter: 'small', draft_length: 4 },
  languages: { en: { drafter: 'small', draft_length: 3 }, fr: { drafter: 'nopos', draft_length: 2 }, de: { drafter: 'small', draft_length: 4 }, am: { drafter: null, draft_length: 0 } },
};

const USAGE = `usage: npx tsx bench/soak.ts [options]
  --pack DIR          model pack with a routing.json (default: test/fixtures/gpt2-pack with the tests' routing)
  --requests N        requests in all, 100-100000 (default 2000)
  --workers N         requests in flight at once, 1-64 (default 6)
  --max-tokens N      largest max_tokens asked, 1-512 (default 24)
  --max-minutes N     stop sending after this long, 1-600 (default 30)
  --json FILE         write the figures to FILE`;

const MODEL = 'soak';
const TOKEN = randomBytes(16).toString('hex');
const PROMPTS: Array<[string, string]> = [
  ['en', 'The weather today is'],
  ['en', 'Once upon a time there was'],
  ['fr', 'Le renard brun saute par-dessus'],
  ['de', 'Der schnelle braune Fuchs springt'],
  ['es', 'El zorro marrón salta sobre'],
  ['ru', 'Быстрая лиса прыгает'],
  ['ja', '素早い茶色の狐が'],
  ['am', 'ፈጣኑ ቡናማ ቀበሮ'],
];

interface Options {
  pack: string | null;
  requests: number;
  workers: number;
  maxTokens: number;
  maxMinutes: number;
  json: string | null;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      pack: { type: 'string' },
      requests: { type: 'string' },
      workers: { type: 'string' },
      'max-tokens': { type: 'string' },
      'max-minutes': { type: 'string' },
      json: { type: 'string' },
    },
  });
  return {
    pack: values.pack ?? null,
    requests: intOption('requests', values.requests, 2000, 100, 100_000),
    workers: intOption('workers', values.workers, 6, 1, 64),
    maxTokens: intOption('max-tokens', values['max-tokens'], 24, 1, 512),
    maxMinutes: intOption('max-minutes', values['max-minutes'], 30, 1, 600),
    json: values.json ?? null,
  };
}

/** The pack served: --pack as is, or the fixture pack with the tests' routing.json in a temporary copy. */
function pack(o: Options): { dir: string; cleanup: () => void } {
  if (o.pack !== null) {
    if (!existsSync(join(o.pack, 'routing.json'))) throw new UsageError(`--pack ${o.pack} has no routing.json`);
    return { dir: resolve(o.pack), cleanup: () => {} };
  }
  const dir = mkdtempSync(join(os.tmpdir(), 'fairspec-soak-'));
  cpSync(FIXTURE_PACK, dir, { recursive: true });
  writeFileSync(join(dir, 'routing.json'), JSON.stringify(FIXTURE_ROUTING));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

// ---------------------------------------------------------------- the server

const GC_ON_SIGUSR2 = `data:text/javascript,${encodeURIComponent("process.on('SIGUSR2', () => globalThis.gc?.());")}`;

interface Server {
  child: ChildProcess;
  base: string;
  output: () => string;
}

async function startServer(env: Record<string, string>, port: number): Promise<Server> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', GC_ON_SIGUSR2, 'server.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output}`);
    const ready = await request(`${base}/readyz`).then(
      async (r) => (await r.body.dump(), r.statusCode === 200),
      () => false,
    );
    if (ready) return { child, base, output: () => output };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not get ready:\n${output}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The exit code (null after a signal), also when the child has already exited. */
async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return child.exitCode;
}
const admin = { authorization: `Bearer ${TOKEN}` };

async function getJson(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await request(`${base}${path}`, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, body: text.startsWith('{') ? JSON.parse(text) : text };
}

/** A gauge summed over its series, or one sample, from GET /metrics. */
function metric(exposition: string, name: string): number {
  return exposition
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** RSS and V8 heap in use after a full GC (SIGUSR2) and a moment of quiet. */
async function memory(server: Server): Promise<{ rss: number; heap: number }> {
  const readings: Array<{ rss: number; heap: number }> = [];
  for (let i = 0; i < 3; i++) {
    server.child.kill('SIGUSR2');
    await sleep(500);
    const text = (await getJson(server.base, '/metrics')).body as string;
    readings.push({ rss: metric(text, 'process_resident_memory_bytes'), heap: metric(text, 'nodejs_heap_size_used_bytes') });
  }
  return { rss: Math.min(...readings.map((r) => r.rss)), heap: Math.min(...readings.map((r) => r.heap)) };
}

// ---------------------------------------------------------------- the requests

type Kind = 'json' | 'stream' | 'abort-stream' | 'abort-queued' | 'swap-during-stream' | 'hostile' | 'ops';
const MIX: Array<[Kind, number]> = [
  ['json', 30],
  ['stream', 20],
  ['abort-stream', 10],
  ['abort-queued', 7],
  ['swap-during-stream', 3],
  ['hostile', 25],
  ['ops', 5],
];

interface Context {
  base: string;
  port: number;
  maxTokens: number;
  drafter: string;
  /** The folders drafter `drafter` is swapped between, relative to the pack. */
  swapFolders: string[];
  swaps: number;
  random: () => number;
}

const pick = <T>(xs: readonly T[], random: () => number): T => xs[Math.floor(random() * xs.length)]!;

function completion(ctx: Context, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const [language, prompt] = pick(PROMPTS, ctx.random);
  const sampled = ctx.random() < 0.5;
  return {
    model: MODEL,
    prompt,
    max_tokens: 1 + Math.floor(ctx.random() * ctx.maxTokens),
    temperature: sampled ? 0.8 : 0,
    ...(sampled && ctx.random() < 0.5 && { seed: Math.floor(ctx.random() * 1e6) }),
    ...(ctx.random() < 0.2 && { n: 2 }),
    ...(ctx.random() < 0.3 && { language }),
    user: `user-${Math.floor(ctx.random() * 50)}`,
    ...extra,
  };
}

const post = (ctx: Context, body: unknown, signal?: AbortSignal, headers: Record<string, string> = {}) =>
  request(`${ctx.base}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    ...(signal && { signal }),
  });

/** Reads a stream to its end; 'DONE' when it ended with data: [DONE], else what it ended with. */
async function readStream(body: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of body) text += chunk;
  if (!text.endsWith('data: [DONE]\n\n')) return 'no-done';
  return text.includes('data: {"error"') ? 'DONE-after-error' : 'DONE';
}

/** Raw bytes on a socket; what the server answered before it closed (its status), within `ms`. */
function raw(ctx: Context, data: string | Buffer, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(ctx.port, '127.0.0.1', () => socket.write(data));
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('still-open');
    }, ms);
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 'closed');
    });
  });
}

const HOSTILE: Array<[string, (ctx: Context) => Promise<string>]> = [
  ['invalid-json', async (ctx) => String((await post(ctx, '{"model": "soak", "prompt": ')).statusCode)],
  ['invalid-utf8', async (ctx) => String((await post(ctx, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))).statusCode)],
  ['deep-json', async (ctx) => String((await post(ctx, `${'['.repeat(50_000)}${']'.repeat(50_000)}`)).statusCode)],
  ['unknown-field', async (ctx) => String((await post(ctx, completion(ctx, { frobnicate: true }))).statusCode)],
  ['wrong-type', async (ctx) => String((await post(ctx, completion(ctx, { max_tokens: '10' }))).statusCode)],
  ['near-limit-prompt', async (ctx) => String((await post(ctx, completion(ctx, { prompt: 'ஆ'.repeat(340_000) }))).statusCode)],
  ['64-prompts', async (ctx) => String((await post(ctx, completion(ctx, { prompt: Array.from({ length: 64 }, () => 'x'.repeat(900)) }))).statusCode)],
  ['over-body-limit', async (ctx) => String((await post(ctx, completion(ctx, { prompt: 'y'.repeat(2 * 1024 * 1024) }))).statusCode)],
  ['tiny-temperature', async (ctx) => String((await post(ctx, completion(ctx, { temperature: 5e-324, top_k: 3 }))).statusCode)],
  ['long-stop', async (ctx) => String((await post(ctx, completion(ctx, { stop: ['s'.repeat(100_000)] }))).statusCode)],
  ['n-over-cap', async (ctx) => String((await post(ctx, completion(ctx, { n: 128 }))).statusCode)],
  ['lone-surrogate', async (ctx) => String((await post(ctx, '{"model":"soak","prompt":"\\ud800 x"}')).statusCode)],
  ['bad-host', async (ctx) => String((await post(ctx, completion(ctx), undefined, { host: 'rebound.evil.example' })).statusCode)],
  ['stalled-headers', (ctx) => raw(ctx, 'POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n', 10_000)],
  [
    'stalled-body',
    (ctx) => raw(ctx, 'POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"model":', 10_000),
  ],
];

/** One request of `kind`; its outcome: an HTTP status, a stream's end, 'aborted', or 'error:CODE'. */
async function send(ctx: Context, kind: Kind): Promise<string> {
  switch (kind) {
    case 'json': {
      const res = await post(ctx, completion(ctx));
      await res.body.dump();
      return String(res.statusCode);
    }
    case 'stream': {
      const res = await post(ctx, completion(ctx, { stream: true, stream_options: { include_usage: true } }));
      if (res.statusCode !== 200) return (await res.body.dump(), String(res.statusCode));
      return readStream(res.body);
    }
    case 'abort-stream': {
      const controller = new AbortController();
      const res = await post(ctx, completion(ctx, { stream: true, max_tokens: ctx.maxTokens }), controller.signal);
      if (res.statusCode !== 200) return (await res.body.dump(), String(res.statusCode));
      try {
        for await (const _ of res.body) break;
      } catch {
        /* aborted */
      }
      controller.abort();
      return 'aborted';
    }
    case 'abort-queued': {
      // With one generation at a time and several requests in flight, it waits in the queue.
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20 + ctx.random() * 60);
      try {
        const res = await post(ctx, completion(ctx, { max_tokens: ctx.maxTokens }), controller.signal);
        await res.body.dump();
        return `${res.statusCode}-before-abort`;
      } catch {
        return 'aborted';
      }
    }
    case 'swap-during-stream': {
      const res = await post(ctx, completion(ctx, { stream: true, prompt: 'The weather today is', language: 'en', max_tokens: ctx.maxTokens }));
      const folder = ctx.swapFolders[ctx.swaps++ % ctx.swapFolders.length]!;
      const swap = await request(`${ctx.base}/v1/drafters/${ctx.drafter}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...admin },
        body: JSON.stringify({ path: folder }),
      });
      await swap.body.dump();
      if (swap.statusCode !== 200) return `swap-${swap.statusCode}`;
      if (res.statusCode !== 200) return (await res.body.dump(), String(res.statusCode));
      return readStream(res.body);
    }
    case 'hostile': {
      const [name, run] = pick(HOSTILE, ctx.random);
      try {
        return `${name} ${await run(ctx)}`;
      } catch (err) {
        return `${name} error:${(err as NodeJS.ErrnoException).code ?? (err as Error).name}`;
      }
    }
    case 'ops': {
      const path = pick(['/metrics', '/v1/routing', '/readyz', '/v1/models', '/v1/drafters', '/healthz'], ctx.random);
      const res = await request(`${ctx.base}${path}`, { headers: admin });
      await res.body.dump();
      return String(res.statusCode);
    }
  }
}

/** The kinds of `count` requests, drawn from MIX. */
function plan(count: number, random: () => number): Kind[] {
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  return Array.from({ length: count }, () => {
    let r = random() * total;
    for (const [kind, w] of MIX) if ((r -= w) < 0) return kind;
    return 'json';
  });
}

type Tally = Record<string, Record<string, number>>;

/** Sends `kinds` with `workers` in flight; stops early at `deadline`. `onProgress` after each. */
async function run(ctx: Context, kinds: Kind[], workers: number, tally: Tally, deadline: number, onProgress?: (done: number) => void): Promise<number> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < kinds.length && Date.now() < deadline) {
      const kind = kinds[next++]!;
      let outcome: string;
      try {
        outcome = await send(ctx, kind);
      } catch (err) {
        outcome = `error:${(err as NodeJS.ErrnoException).code ?? (err as Error).name}`;
      }
      (tally[kind] ??= {})[outcome] = (tally[kind][outcome] ?? 0) + 1;
      done++;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return done;
}

/** Outcomes that are a server's fault: any 5xx, a stream without [DONE], an error event in a stream. */
function failures(tally: Tally, allowConnectionErrors = false): string[] {
  const bad: string[] = [];
  for (const [kind, outcomes] of Object.entries(tally)) {
    for (const [outcome, n] of Object.entries(outcomes)) {
      // A body over the limit is refused (413) while the client still writes it: the client may
      // see its write fail (EPIPE, ECONNRESET) instead of the answer.
      const refusedUpload = /^over-body-limit error:(EPIPE|ECONNRESET|UND_ERR_SOCKET)$/.test(outcome);
      const isBad =
        / 5\d\d$|^5\d\d/.test(outcome) ||
        outcome === 'no-done' ||
        outcome === 'DONE-after-error' ||
        outcome.startsWith('swap-') ||
        (!allowConnectionErrors && !refusedUpload && outcome.includes('error:'));
      if (isBad) bad.push(`${kind} ${outcome} x${n}`);
    }
  }
  return bad;
}

async function idleState(server: Server): Promise<{ running: number; queued: number; retiring: number; ready: string }> {
  for (let i = 0; i < 100; i++) {
    const text = (await getJson(server.base, '/metrics')).body as string;
    const running = metric(text, 'fairspec_requests_running');
    const queued = metric(text, 'fairspec_queue_length');
    const retiring = (await getJson(server.base, '/v1/drafters', admin)).body.retiring as number;
    const ready = (await getJson(server.base, '/readyz')).body.status as string;
    if ((running === 0 && queued === 0 && retiring === 0) || i === 99) return { running, queued, retiring, ready };
    await sleep(100);
  }
  throw new Error('unreachable');
}

/** What must survive a restart: the settings the environment gives, as the API shows them. */
async function configuration(server: Server): Promise<Record<string, unknown>> {
  const models = (await getJson(server.base, '/v1/models')).body;
  const drafters = (await getJson(server.base, '/v1/drafters', admin)).body;
  const routing = (await getJson(server.base, '/v1/routing')).body;
  const experiment = await getJson(server.base, '/v1/experiments/soak', admin);
  return {
    model: models.data?.map((m: { id: string }) => m.id),
    drafters: drafters.data?.map((d: { name: string; id: string }) => `${d.name}=${d.id}`).sort(),
    routingMode: routing.mode,
    experiment: experiment.status,
  };
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const pct = (after: number, before: number) => `${after >= before ? '+' : ''}${((after / before - 1) * 100).toFixed(1)} %`;

async function main(): Promise<void> {
  process.exitCode = 1; // until every check has run
  const o = options(process.argv.slice(2));
  const { dir, cleanup } = pack(o);
  process.once('exit', cleanup);
  const drafterFolders = readdirSync(dir).filter((f) => f.startsWith('drafter-') && existsSync(join(dir, f, 'onnx')));
  if (drafterFolders.length < 2) throw new UsageError('the pack needs two drafters to swap between');
  const drafter = drafterFolders[0]!.slice('drafter-'.length);
  const env = {
    FAIRSPEC_PACK: dir,
    FAIRSPEC_MODEL_ID: MODEL,
    FAIRSPEC_ADMIN_TOKEN: TOKEN,
    FAIRSPEC_CONCURRENCY: '1',
    FAIRSPEC_MAX_QUEUE: '8',
    FAIRSPEC_MAX_N: '4',
    FAIRSPEC_MAX_TOKENS: String(Math.max(64, o.maxTokens)),
    FAIRSPEC_ORT_THREADS: '1',
    FAIRSPEC_HEADERS_TIMEOUT_MS: '1000',
    FAIRSPEC_BODY_TIMEOUT_MS: '2000',
    FAIRSPEC_IDLE_TIMEOUT_MS: '5000',
    FAIRSPEC_REQUEST_TIMEOUT_MS: '120000',
    FAIRSPEC_ALLOWED_HOSTS: '127.0.0.1,localhost',
    FAIRSPEC_ROUTING_MODE: 'adaptive',
    FAIRSPEC_EXPERIMENTS: JSON.stringify([{ id: 'soak', arms: [{ name: 'plain', drafter: null, weight: 1 }, { name: 'routed', weight: 1 }] }]),
    LOG_LEVEL: 'warn',
  };
  const started = Date.now();
  const deadline = started + o.maxMinutes * 60_000;
  const port = await freePort();
  let seed = 20261207;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);

  console.log(`# soak: ${o.requests} requests, ${o.workers} in flight, pack ${o.pack ?? 'test/fixtures/gpt2-pack'}`);
  console.log(`# ${new Date().toISOString()}, ${describeMachine()}`);
  let server = await startServer(env, port);
  const ctx: Context = { base: server.base, port, maxTokens: o.maxTokens, drafter, swapFolders: [drafterFolders[1]!, drafterFolders[0]!], swaps: 0, random };
  const before = await configuration(server);

  const warm = Math.round(o.requests * 0.1);
  const main = Math.round(o.requests * 0.8);
  const last = o.requests - warm - main;
  const tally: Tally = {};
  await run(ctx, plan(warm, random), o.workers, tally, deadline);
  const m0 = await memory(server);
  console.log(`warm-up: ${warm} requests; RSS ${mib(m0.rss)} MiB, heap ${mib(m0.heap)} MiB`);

  const t1 = Date.now();
  const sent = await run(ctx, plan(main, random), o.workers, tally, deadline);
  const m1 = await memory(server);
  const idle = await idleState(server);
  console.log(`main: ${sent} requests in ${((Date.now() - t1) / 1000).toFixed(0)} s; RSS ${mib(m1.rss)} MiB (${pct(m1.rss, m0.rss)}), heap ${mib(m1.heap)} MiB (${pct(m1.heap, m0.heap)})`);
  console.log(`after: running ${idle.running}, queued ${idle.queued}, replaced drafters waiting ${idle.retiring}, /readyz ${idle.ready}`);

  // kill -9 half-way through the last part, then a restart with the same environment.
  const chaos: Tally = {};
  const half = Math.floor(last / 2);
  let killedAt = 0;
  await run(ctx, plan(half, random), o.workers, chaos, deadline, (done) => {
    if (done === Math.floor(half / 2) && killedAt === 0) {
      killedAt = Date.now();
      server.child.kill('SIGKILL');
    }
  });
  await exited(server.child);
  const restartStarted = Date.now();
  server = await startServer(env, port);
  const restartMs = Date.now() - restartStarted;
  const after = await configuration(server);
  const intact = JSON.stringify(after) === JSON.stringify(before);
  console.log(`kill -9 under load, restart: ready in ${(restartMs / 1000).toFixed(1)} s; configuration ${intact ? 'intact' : 'CHANGED'} ${JSON.stringify(after)}`);
  const tail: Tally = {};
  await run(ctx, plan(last - half, random), o.workers, tail, deadline);
  const idle2 = await idleState(server);
  console.log(`after the restart: ${last - half} requests; running ${idle2.running}, queued ${idle2.queued}, /readyz ${idle2.ready}`);
  server.child.kill('SIGTERM');
  const exitCode = await exited(server.child);

  // Around the kill -9, a request may fail to connect or be cut: that is the chaos, not a fault.
  const problems = [...failures(tally), ...failures(tail), ...failures(chaos, true)];
  const merge = (...parts: Tally[]): Tally => {
    const out: Tally = {};
    for (const part of parts) {
      for (const [kind, outcomes] of Object.entries(part)) for (const [outcome, n] of Object.entries(outcomes)) (out[kind] ??= {})[outcome] = (out[kind][outcome] ?? 0) + n;
    }
    return out;
  };
  const all = merge(tally, chaos, tail);
  for (const [title, part] of [['one server lifetime each (warm-up, main, after the restart)', merge(tally, tail)], ['around the kill -9', chaos]] as const) {
    console.log(`\n${title}:\n| kind | requests | outcomes |\n| - | - | - |`);
    for (const [kind, outcomes] of Object.entries(part).sort()) {
      const n = Object.values(outcomes).reduce((a, b) => a + b, 0);
      console.log(`| ${kind} | ${n} | ${Object.entries(outcomes).sort().map(([k, v]) => `${k}: ${v}`).join(', ')} |`);
    }
  }

  const grew = (a: number, b: number) => a > b * 1.1;
  if (grew(m1.rss, m0.rss)) problems.push(`RSS grew ${pct(m1.rss, m0.rss)}`);
  if (grew(m1.heap, m0.heap)) problems.push(`heap grew ${pct(m1.heap, m0.heap)}`);
  for (const [what, state] of [['main', idle], ['restart', idle2]] as const) {
    if (state.running !== 0 || state.queued !== 0 || state.retiring !== 0) problems.push(`${what}: running ${state.running}, queued ${state.queued}, retiring ${state.retiring}`);
    if (state.ready !== 'ready') problems.push(`${what}: /readyz ${state.ready}`);
  }
  if (!intact) problems.push(`configuration after the restart: ${JSON.stringify(after)} (before ${JSON.stringify(before)})`);
  if (exitCode !== 0) problems.push(`SIGTERM at the end: exit ${exitCode}`);
  const total = Object.values(all).reduce((sum, outcomes) => sum + Object.values(outcomes).reduce((a, b) => a + b, 0), 0);
  console.log(`\n${total} requests in ${((Date.now() - started) / 1000).toFixed(0)} s; SIGTERM exit ${exitCode}; ${problems.length === 0 ? 'PASS' : `FAIL:\n  ${problems.join('\n  ')}`}`);
  if (o.json) {
    writeFileSync(o.json, JSON.stringify({ options: o, memory: { warm: m0, end: m1 }, idle, idle2, restartMs, before, after, tally: all, chaos, problems }, null, 2));
  }
  process.exitCode = problems.length === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
