// Many clients at once (issue 15): closed-loop streams of mixed-language completions against two
// servers started in this process on the same pack, one with continuous batching (the default
// FAIRSPEC_MAX_BATCH_ROWS) and one with a single row per pass (FAIRSPEC_MAX_BATCH_ROWS=1, what
// fairspec did before batching). Levels of concurrency and the two servers are interleaved, so
// drift hits both alike.
//
//   npx tsx bench/concurrency-bench.ts                 # 1 2 4 8 16 streams, greedy and sampled
//   npx tsx bench/concurrency-bench.ts --streams 1,4,8 --duration-s 20 --json out.json
//
// Each stream sends one streamed request at a time (a UDHR prompt of --prompt-bytes in a
// language taken in rotation over the 32, routed as the server routes it, --max-tokens tokens)
// and sends the next when it ends, for --duration-s per level. Reported per level: aggregate
// completion tokens/s over the window, per-request tokens/s (completion tokens over the
// request's latency) p50 and p95, time to first token p50 and p95, and the ratio of aggregate
// tokens/s to one stream's on the same server.
//
// The starvation case follows: one request at the work budget (8 prompts × n 8 × 256 tokens,
// FAIRSPEC_MAX_REQUEST_WORK 16384), and 0.5 s later one streamed 48-token request, whose time
// to first token is reported (or that none came within 10 s); then the large one is cancelled.

import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { buildApp } from '../app.js';
import { loadConfig } from '../src/config.js';
import { intOption } from './int-option.js';
import { describeMachine, machine } from './machine.js';
import { benchPrompts, EVALUATION_LANGUAGES, type BenchPrompt } from './prompts.js';
import { UsageError } from './usage-error.js';

const USAGE = `Usage: npx tsx bench/concurrency-bench.ts [options]

  --streams LIST      concurrent streams per level (default 1,2,4,8,16)
  --duration-s S      seconds per level and server (default 15)
  --max-tokens N      max_tokens per request (default 48)
  --prompt-bytes N    prompt length in UTF-8 bytes (default 150)
  --rows N            FAIRSPEC_MAX_BATCH_ROWS of the batching server (default: the server's default)
  --modes LIST        greedy,sampled (default both)
  --pack DIR          model pack (default models/default)
  --routing MODE      static or adaptive, the servers' routing mode (default adaptive, the server's)
  --no-baseline       skip the one-row server
  --json FILE         also write the figures as JSON
  -h, --help`;

interface Options {
  streams: number[];
  durationS: number;
  maxTokens: number;
  promptBytes: number;
  rows: number | undefined;
  modes: Array<'greedy' | 'sampled'>;
  pack: string;
  routing: 'static' | 'adaptive';
  baseline: boolean;
  json: string | undefined;
}

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      streams: { type: 'string' },
      'duration-s': { type: 'string' },
      'max-tokens': { type: 'string' },
      'prompt-bytes': { type: 'string' },
      rows: { type: 'string' },
      modes: { type: 'string' },
      pack: { type: 'string' },
      routing: { type: 'string' },
      'no-baseline': { type: 'boolean' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) throw new UsageError('');
  const streams = (values.streams ?? '1,2,4,8,16').split(',').map((s) => intOption('streams', s, 1, 1, 256));
  if (!streams.includes(1)) streams.unshift(1); // the ratios' denominator
  const modes = (values.modes ?? 'greedy,sampled').split(',').map((m) => {
    if (m !== 'greedy' && m !== 'sampled') throw new UsageError(`--modes takes greedy and sampled, got ${JSON.stringify(m)}`);
    return m;
  });
  return {
    streams,
    durationS: intOption('duration-s', values['duration-s'], 15, 1, 3600),
    maxTokens: intOption('max-tokens', values['max-tokens'], 48, 1, 512),
    promptBytes: intOption('prompt-bytes', values['prompt-bytes'], 150, 8, 2000),
    rows: values.rows === undefined ? undefined : intOption('rows', values.rows, 8, 1, 256),
    modes,
    pack: values.pack ?? 'models/default',
    routing: routingMode(values.routing ?? 'adaptive'),
    baseline: !values['no-baseline'],
    json: values.json,
  };
}

function routingMode(raw: string): 'static' | 'adaptive' {
  if (raw !== 'static' && raw !== 'adaptive') throw new UsageError(`--routing takes static or adaptive, got ${JSON.stringify(raw)}`);
  return raw;
}

interface RequestOutcome {
  tokens: number;
  latencyMs: number;
  ttftMs: number;
  endedAt: number;
}

interface Server {
  name: string;
  pool: Pool;
  close: () => Promise<void>;
}

const MODEL = 'fairspec-concurrency-bench';

async function startServer(name: string, opts: Options, rows: number | undefined): Promise<Server> {
  const config = loadConfig(
    {},
    {
      packDir: opts.pack,
      routingMode: opts.routing,
      modelId: MODEL,
      logLevel: 'error',
      host: '127.0.0.1',
      port: 0,
      concurrency: 64,
      maxQueue: 256,
      ...(rows !== undefined && { maxBatchRows: rows }),
    },
  );
  const app = await buildApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  const pool = new Pool(`http://127.0.0.1:${address.port}`, { connections: 64, headersTimeout: 600_000, bodyTimeout: 600_000 });
  return { name, pool, close: async () => (await pool.close(), await app.close()) };
}

/** One streamed completion; resolves when the stream ends. */
async function streamed(pool: Pool, body: object): Promise<RequestOutcome> {
  const started = performance.now();
  const res = await pool.request({
    method: 'POST',
    path: '/v1/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, stream: true, stream_options: { include_usage: true }, ...body }),
  });
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${await res.body.text()}`);
  let ttftMs = -1;
  let text = '';
  for await (const chunk of res.body) {
    if (ttftMs < 0 && chunk.includes('"text":"')) ttftMs = performance.now() - started;
    text += chunk;
  }
  const usage = /"completion_tokens":(\d+)/.exec(text);
  if (!usage || !text.endsWith('data: [DONE]\n\n')) throw new Error(`a stream ended without usage or [DONE]: ${text.slice(-200)}`);
  const endedAt = performance.now();
  return { tokens: Number(usage[1]), latencyMs: endedAt - started, ttftMs: ttftMs < 0 ? endedAt - started : ttftMs, endedAt };
}

interface LevelResult {
  server: string;
  mode: string;
  streams: number;
  requests: number;
  tokensPerS: number;
  perRequestTokensPerS: { p50: number; p95: number };
  ttftMs: { p50: number; p95: number };
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function level(server: Server, mode: 'greedy' | 'sampled', streams: number, opts: Options, prompts: BenchPrompt[]): Promise<LevelResult> {
  const sampling = mode === 'greedy' ? { temperature: 0 } : { temperature: 1 };
  let next = 0;
  const outcomes: RequestOutcome[] = [];
  const start = performance.now();
  const end = start + opts.durationS * 1000;
  await Promise.all(
    Array.from({ length: streams }, async () => {
      while (performance.now() < end) {
        const prompt = prompts[next++ % prompts.length]!;
        outcomes.push(await streamed(server.pool, { prompt: prompt.text, max_tokens: opts.maxTokens, language: prompt.language, seed: next, ...sampling }));
      }
    }),
  );
  // The window: from the start to the last request's end (every stream ran until then but one).
  const windowMs = Math.max(...outcomes.map((o) => o.endedAt)) - start;
  const tokens = outcomes.reduce((sum, o) => sum + o.tokens, 0);
  const perRequest = outcomes.map((o) => (1000 * o.tokens) / o.latencyMs);
  const ttft = outcomes.map((o) => o.ttftMs);
  return {
    server: server.name,
    mode,
    streams,
    requests: outcomes.length,
    tokensPerS: (1000 * tokens) / windowMs,
    perRequestTokensPerS: { p50: quantile(perRequest, 0.5), p95: quantile(perRequest, 0.95) },
    ttftMs: { p50: quantile(ttft, 0.5), p95: quantile(ttft, 0.95) },
  };
}

/** Cut-off for the starvation case: a request without its first token by then is reported as "> STARVED_MS". */
const STARVED_MS = 10_000;

/**
 * One request at the work budget, then 0.5 s later a normal streamed one: its time to first token
 * (null: none within STARVED_MS). The large request is cancelled once the small one is measured.
 */
async function starvation(server: Server, prompts: BenchPrompt[]): Promise<{ ttftMs: number | null }> {
  const big = prompts.slice(0, 8).map((p) => p.text);
  const cancel = new AbortController();
  const bigRun = server.pool
    .request({
      method: 'POST',
      path: '/v1/completions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: big, n: 8, max_tokens: 256, temperature: 1, seed: 1 }),
      signal: cancel.signal,
    })
    .then(async (res) => {
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`the maximal request got ${res.statusCode}: ${text.slice(0, 300)}`);
    })
    .catch((err: unknown) => {
      if (!cancel.signal.aborted) throw err;
    });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const started = performance.now();
  let ttftMs: number | null = null;
  try {
    const res = await server.pool.request({
      method: 'POST',
      path: '/v1/completions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: prompts[9]!.text, max_tokens: 48, temperature: 0, stream: true }),
      signal: AbortSignal.timeout(STARVED_MS),
    });
    for await (const chunk of res.body) {
      if (String(chunk).includes('"text":"')) {
        ttftMs = performance.now() - started;
        break;
      }
    }
    res.body.destroy();
  } catch {
    // No first token within STARVED_MS.
  }
  cancel.abort();
  await bigRun;
  return { ttftMs };
}

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  const perLanguage = Math.max(2, Math.ceil(64 / EVALUATION_LANGUAGES.length));
  const byLanguage = EVALUATION_LANGUAGES.map((l) => benchPrompts(l, perLanguage, opts.promptBytes).prompts);
  // Languages interleaved: consecutive requests (and so the rows of a batch) mix languages.
  const prompts: BenchPrompt[] = [];
  for (let i = 0; i < perLanguage; i++) for (const list of byLanguage) if (list[i]) prompts.push(list[i]!);

  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`# concurrency-bench ${new Date().toISOString()}`);
  out(`# machine: ${describeMachine()}`);
  out(`# pack ${opts.pack}, ${opts.routing} routing; ${prompts.length} UDHR prompts of <= ${opts.promptBytes} bytes over ${EVALUATION_LANGUAGES.length} languages; max_tokens ${opts.maxTokens}; ${opts.durationS} s per level`);
  const servers = [await startServer('batched', opts, opts.rows)];
  if (opts.baseline) servers.push(await startServer('rows=1', opts, 1));
  const results: LevelResult[] = [];
  try {
    // Warm-up: every server, a few requests at the widest level.
    for (const s of servers) await level(s, 'greedy', Math.max(...opts.streams), { ...opts, durationS: 2 }, prompts);
    for (const mode of opts.modes) {
      for (const streams of opts.streams) {
        for (const s of servers) results.push(await level(s, mode, streams, opts, prompts));
      }
    }
    out();
    out('| server | mode | streams | requests | aggregate tok/s | vs 1 stream | vs rows=1 | per-request tok/s p50 / p95 | TTFT ms p50 / p95 |');
    out('|---|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      const one = results.find((x) => x.server === r.server && x.mode === r.mode && x.streams === 1)!;
      const base = results.find((x) => x.server === 'rows=1' && x.mode === r.mode && x.streams === r.streams);
      out(
        `| ${r.server} | ${r.mode} | ${r.streams} | ${r.requests} | ${r.tokensPerS.toFixed(1)} | ${(r.tokensPerS / one.tokensPerS).toFixed(2)}x | ` +
          `${base ? `${(r.tokensPerS / base.tokensPerS).toFixed(2)}x` : '-'} | ${r.perRequestTokensPerS.p50.toFixed(1)} / ${r.perRequestTokensPerS.p95.toFixed(1)} | ` +
          `${r.ttftMs.p50.toFixed(0)} / ${r.ttftMs.p95.toFixed(0)} |`,
      );
    }
    out();
    const starved = [];
    for (const s of servers) {
      const r = await starvation(s, prompts);
      starved.push({ server: s.name, ...r });
      const ttft = r.ttftMs === null ? `none within ${STARVED_MS} ms` : `first token after ${r.ttftMs.toFixed(0)} ms`;
      out(`starvation (${s.name}): a streamed request 0.5 s after one of 8 prompts × n 8 × 256 tokens: ${ttft}`);
    }
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ date: new Date().toISOString(), machine: machine(), options: opts, results, starvation: starved }, null, 2));
  } finally {
    for (const s of servers) await s.close();
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message ? `${err.message}\n\n` : ''}${USAGE}\n`);
    process.exit(err.message ? 2 : 0);
  }
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
