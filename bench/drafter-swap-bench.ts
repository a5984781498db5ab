// Adaptive routing with a drafter that does not pay, then a drafter hot swap: the routing issue's
// acceptance point, measured ("a language whose drafter does not pay ends at γ = 0 and is then no
// slower than plain decoding; when the drafter is swapped for a good one, the language returns to
// speculation").
//
//   npx tsx bench/drafter-swap-bench.ts                       # default pack, German, 24 pairs
//   npx tsx bench/drafter-swap-bench.ts --language pt --pairs 40 --max-tokens 48
//
// The bench builds a pack in a temporary folder from --pack (default models/default): its
// verifier, and as the only drafter, named 'scdf', a copy of that same verifier. That drafter
// agrees with the verifier always (alpha = 1) but costs as much per token (c ~ 1), so speculation
// cannot pay: S(γ) = (γ + 1) / (γ c + v(γ)) <= 1. The pack's real drafter-scdf is copied beside
// it, under candidates/, as the drafter to swap in. It then starts the server in this process
// (app.ts, adaptive routing, the production exploration rate unless told otherwise, an admin
// token of its own) on 127.0.0.1 and, one request at a time over one connection:
//   1. sends routed requests for the language (pinned) until GET /v1/routing shows it at γ = 0;
//   2. times N interleaved pairs, same prompt: routed (no override: whatever the policy does,
//      exploration included) and forced plain (`speculative: {draft_length: 0}`); prints the
//      per-token latency of both (min / median / max), their ratio with a 95% bootstrap interval
//      over pairs, and whether the outputs were identical (greedy decoding is lossless);
//   3. swaps the drafter: PUT /v1/drafters/scdf {path: candidates/scdf}, then sends routed
//      requests until the policy speculates again, and reports how many it took;
//   4. times N pairs again: the speed-up of the routed requests over plain decoding.
// Wall time is measured on the client, from sending the request to the end of the response.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { buildApp } from '../app.js';
import { loadConfig } from '../src/config.js';
import { createRandom } from '../src/engine/random.js';
import { median } from './summary-statistics.js';
import type { CompletionResponseBody } from '../src/wire/completions.js';
import type { DrafterSwappedBody } from '../src/wire/drafters.js';
import type { RoutingResponseBody } from '../src/wire/routing.js';
import { benchPrompts, EVALUATION_LANGUAGES, type BenchPrompt } from './prompts.js';
import { UsageError } from './usage-error.js';
import { intOption } from './int-option.js';
import { describeMachine } from './machine.js';

const USAGE = `usage: npx tsx bench/drafter-swap-bench.ts [options]
  --pack DIR                 source pack: its verifier, and drafter-scdf to swap in (default models/default)
  --language CODE            the language measured, pinned in every request (default de)
  --pairs N                  routed/plain pairs timed before and after the swap, 4-500 (default 24)
  --max-tokens N             max_tokens of every request (default 64)
  --prompt-bytes N           prompt length cap in UTF-8 bytes (default 150)
  --temperature T            0 (greedy, default) or > 0 (sampled; each prompt has its own seed)
  --exploration-rate R       the policy's exploration share, in [0, 1) (default 0.03, the server's)
  --seed N                   seed of the policy's exploration draws (default 1)
  --max-settle N             bound on the requests of step 1 (default 200)
  --max-return N             bound on the requests of step 3 (default 400)
  --ort-threads N            onnxruntime intra-op threads (default: the server's, 2)
  --json FILE                write every request's figures to FILE`;

interface Options {
  pack: string;
  language: string;
  pairs: number;
  maxTokens: number;
  promptBytes: number;
  temperature: number;
  explorationRate: number;
  seed: number;
  maxSettle: number;
  maxReturn: number;
  ortThreads: number;
  json: string | undefined;
}

function num(name: string, raw: string | undefined, fallback: number, ok: (x: number) => boolean, rule: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${name} must be ${rule}, got ${JSON.stringify(raw)}`);
  return n;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      pack: { type: 'string', default: 'models/default' },
      language: { type: 'string', default: 'de' },
      pairs: { type: 'string' },
      'max-tokens': { type: 'string' },
      'prompt-bytes': { type: 'string' },
      temperature: { type: 'string' },
      'exploration-rate': { type: 'string' },
      seed: { type: 'string' },
      'max-settle': { type: 'string' },
      'max-return': { type: 'string' },
      'ort-threads': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!EVALUATION_LANGUAGES.includes(values.language)) {
    throw new UsageError(`--language: unknown ${JSON.stringify(values.language)}; known: ${EVALUATION_LANGUAGES.join(',')}`);
  }
  return {
    pack: resolve(values.pack),
    language: values.language,
    pairs: intOption('pairs', values.pairs, 24, 4, 500),
    maxTokens: intOption('max-tokens', values['max-tokens'], 64, 1, 4096),
    promptBytes: intOption('prompt-bytes', values['prompt-bytes'], 150, 16, 4096),
    temperature: num('temperature', values.temperature, 0, (x) => x >= 0 && x <= 2, 'a number in [0, 2]'),
    explorationRate: num('exploration-rate', values['exploration-rate'], 0.03, (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
    seed: intOption('seed', values.seed, 1, 0, Number.MAX_SAFE_INTEGER),
    maxSettle: intOption('max-settle', values['max-settle'], 200, 1, 100_000),
    maxReturn: intOption('max-return', values['max-return'], 400, 1, 100_000),
    ortThreads: intOption('ort-threads', values['ort-threads'], 0, 0, 256),
    json: values.json,
  };
}

// ---- HTTP ------------------------------------------------------------------------------------

interface Run {
  step: string;
  arm: 'routed' | 'plain';
  article: number;
  wallMs: number;
  completionTokens: number;
  msPerToken: number;
  text: string;
  drafter: string | null;
  draftLength: number | null;
  acceptanceRate: number | null;
}

/** One regime of one language in GET /v1/routing. */
type RegimeChoice = RoutingResponseBody['languages'][number]['greedy'];

class Client {
  readonly pool: Pool;
  constructor(origin: string, readonly adminToken: string) {
    // One connection, no pipelining: requests are strictly sequential.
    this.pool = new Pool(origin, { connections: 1, pipelining: 1 });
  }

  async json(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, admin = false): Promise<{ status: number; body: unknown; ms: number }> {
    const start = performance.now();
    const res = await this.pool.request({
      method,
      path,
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...(admin && { authorization: `Bearer ${this.adminToken}` }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    const ms = performance.now() - start;
    return { status: res.statusCode, body: JSON.parse(text), ms };
  }
}

// ---- statistics ------------------------------------------------------------------------------


/** 95% percentile bootstrap interval of median(a) / median(b) over paired samples. */
function bootstrapRatio(a: readonly number[], b: readonly number[], seed: number, resamples = 4000): [number, number] {
  const random = createRandom(seed);
  const ratios: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const ra: number[] = [];
    const rb: number[] = [];
    for (let i = 0; i < a.length; i++) {
      const j = Math.floor(random.next() * a.length);
      ra.push(a[j]!);
      rb.push(b[j]!);
    }
    ratios.push(median(ra) / median(rb));
  }
  ratios.sort((x, y) => x - y);
  return [ratios[Math.floor(0.025 * resamples)]!, ratios[Math.ceil(0.975 * resamples) - 1]!];
}

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const f = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const route = (drafter: string | null, gamma: number | null): string => (drafter === null || !gamma ? 'plain' : `${drafter}/γ=${gamma}`);

function machineLine(): string {
  return `${describeMachine()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  const startedAt = new Date();
  const t0 = performance.now();
  const greedy = opts.temperature === 0;

  // The pack: copies, so a pack being rebuilt in place during the run cannot change what is measured.
  const dir = mkdtempSync(join(os.tmpdir(), 'fairspec-swap-bench-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(opts.pack, 'verifier'), join(dir, 'verifier'), { recursive: true });
  cpSync(join(opts.pack, 'verifier'), join(dir, 'drafter-scdf'), { recursive: true });
  cpSync(join(opts.pack, 'drafter-scdf'), join(dir, 'candidates', 'scdf'), { recursive: true });
  writeFileSync(join(dir, 'routing.json'), JSON.stringify({ default: { drafter: 'scdf', draft_length: 8 } }));

  const adminToken = `bench-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const config = loadConfig({}, {
    packDir: dir,
    modelId: 'fairspec-bench',
    routingMode: 'adaptive',
    metricLanguages: [opts.language],
    adminToken,
    logLevel: 'warn',
    ortThreads: opts.ortThreads,
    maxTokens: Math.max(512, opts.maxTokens),
  });
  const app = await buildApp(config, { routingPolicy: { explorationRate: opts.explorationRate, random: createRandom(opts.seed) } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  const client = new Client(`http://127.0.0.1:${address.port}`, adminToken);

  out('fairspec drafter hot-swap bench');
  out(`date     ${startedAt.toISOString()}`);
  out(`machine  ${machineLine()}`);
  out(`pack     ${dir}: verifier = ${opts.pack}/verifier; drafter 'scdf' = a copy of that verifier (agrees always, costs as much);`);
  out(`         swapped in: ${opts.pack}/drafter-scdf (copied to candidates/scdf)`);
  out(`settings language ${opts.language} (pinned), ${greedy ? 'greedy' : `temperature ${opts.temperature}`}, max_tokens ${opts.maxTokens}, ` +
    `prompts <= ${opts.promptBytes} B (UDHR), exploration ${(opts.explorationRate * 100).toFixed(1)}% (seed ${opts.seed}), ${opts.pairs} pairs per timing`);

  const { prompts: pool } = benchPrompts(opts.language, 28, opts.promptBytes);
  let next = 0;
  const nextPrompt = (): BenchPrompt => pool[next++ % pool.length]!;
  const runs: Run[] = [];
  const complete = async (step: string, arm: 'routed' | 'plain', prompt: BenchPrompt): Promise<Run> => {
    const payload = {
      model: 'fairspec-bench',
      prompt: prompt.text,
      max_tokens: opts.maxTokens,
      temperature: opts.temperature,
      seed: prompt.article,
      language: opts.language,
      ...(arm === 'plain' && { speculative: { draft_length: 0 } }),
    };
    const res = await client.json('POST', '/v1/completions', payload);
    if (res.status !== 200) throw new Error(`POST /v1/completions: HTTP ${res.status}: ${JSON.stringify(res.body)}`);
    const body = res.body as CompletionResponseBody;
    const s = body.speculative;
    const tokens = body.usage.completion_tokens;
    const run: Run = {
      step, arm, article: prompt.article, wallMs: res.ms, completionTokens: tokens, msPerToken: res.ms / Math.max(1, tokens),
      text: body.choices[0]!.text, drafter: s.drafter, draftLength: s.draft_length, acceptanceRate: s.acceptance_rate,
    };
    runs.push(run);
    return run;
  };
  const regime = async (): Promise<RegimeChoice> => {
    const body = (await client.json('GET', '/v1/routing')).body as RoutingResponseBody;
    const l = body.languages.find((x) => x.language === opts.language);
    if (!l) throw new Error(`GET /v1/routing has no entry for ${opts.language}`);
    return greedy ? l.greedy : l;
  };
  const describe = (r: RegimeChoice): string => {
    const d = r.drafters[0]!;
    return `choice ${route(r.choice.drafter, r.choice.draft_length)} (${r.choice.reason}); scdf ${greedy ? 'agreement' : 'alpha'} ${f(d.alpha.mean, 3)} ` +
      `[${f(d.alpha.lower, 3)}, ${f(d.alpha.upper, 3)}], c ${f(d.cost_ratio)}, γ* ${d.draft_length}, S(γ*) ${f(d.expected_speedup)}`;
  };

  // Timed pairs: routed and plain on the same prompt, the order alternating.
  const timePairs = async (step: string): Promise<{ routed: Run[]; plain: Run[] }> => {
    const routed: Run[] = [];
    const plain: Run[] = [];
    for (let i = 0; i < opts.pairs; i++) {
      const prompt = nextPrompt();
      for (const arm of i % 2 === 0 ? (['routed', 'plain'] as const) : (['plain', 'routed'] as const)) {
        (arm === 'routed' ? routed : plain).push(await complete(step, arm, prompt));
      }
    }
    return { routed, plain };
  };
  const report = (pairs: { routed: Run[]; plain: Run[] }, seed: number): { ratio: number; ci: [number, number] } => {
    const r = pairs.routed.map((x) => x.msPerToken);
    const p = pairs.plain.map((x) => x.msPerToken);
    const line = (name: string, xs: number[], runs: Run[]) =>
      `     ${name.padEnd(8)} ${f(Math.min(...xs)).padStart(7)} ${f(median(xs)).padStart(7)} ${f(Math.max(...xs)).padStart(7)}   ${median(runs.map((x) => x.completionTokens))}`;
    out('              ms/token                  tokens');
    out('                 min  median     max   median');
    out(line('routed', r, pairs.routed));
    out(line('plain', p, pairs.plain));
    const ratio = median(r) / median(p);
    const ci = bootstrapRatio(r, p, seed);
    const perPair = median(r.map((x, i) => x / p[i]!));
    const routes = new Map<string, number>();
    for (const x of pairs.routed) routes.set(route(x.drafter, x.draftLength), (routes.get(route(x.drafter, x.draftLength)) ?? 0) + 1);
    const same = pairs.routed.filter((x, i) => x.text === pairs.plain[i]!.text).length;
    out(`     routed / plain, ratio of medians ${f(ratio, 3)} (95% bootstrap over pairs ${f(ci[0], 3)}-${f(ci[1], 3)}); median of per-pair ratios ${f(perPair, 3)}`);
    // Greedy speculative decoding is lossless: both arms must return the same text.
    const lossless = greedy ? `; identical outputs ${same} of ${pairs.routed.length}` : '';
    out(`     routed requests ran as: ${[...routes].map(([k, v]) => `${k} x${v}`).join(', ')}${lossless}`);
    if (greedy && same < pairs.routed.length) mismatches += pairs.routed.length - same;
    return { ratio, ci };
  };

  let code = 0;
  let mismatches = 0;
  try {
    // Warm-up: load and first-call allocations, not timed.
    const warm = nextPrompt();
    await complete('warm-up', 'plain', warm);

    out();
    out(`1. drafter 'scdf' is the verifier's copy: routed requests until ${opts.language} is at γ = 0`);
    let settled = -1;
    let atPlain = 0;
    for (let i = 1; i <= opts.maxSettle && settled < 0; i++) {
      await complete('settle', 'routed', nextPrompt());
      const r = await regime();
      atPlain = r.choice.draft_length === 0 ? atPlain + 1 : 0;
      if (atPlain >= 3) settled = i;
    }
    const settledState = await regime();
    if (settled < 0) {
      out(`   NOT at γ = 0 after ${opts.maxSettle} requests: ${describe(settledState)}`);
      code = 1;
    } else {
      out(`   at γ = 0 after ${settled - 2} requests (and still after ${settled}): ${describe(settledState)}`);
    }

    out();
    out(`2. at γ = 0: routed (the policy, exploration included) vs forced plain, ${opts.pairs} interleaved pairs`);
    const before = report(await timePairs('at-plain'), opts.seed);
    out(`   ${before.ci[1] < 1 ? 'routed is faster than plain' : before.ci[0] > 1 ? 'ROUTED IS SLOWER THAN PLAIN' : 'no difference from plain decoding within the interval'}`);

    out();
    const swap = await client.json('PUT', '/v1/drafters/scdf', { path: 'candidates/scdf' }, true);
    if (swap.status !== 200) throw new Error(`PUT /v1/drafters/scdf: HTTP ${swap.status}: ${JSON.stringify(swap.body)}`);
    const swapped = swap.body as DrafterSwappedBody;
    out(`3. PUT /v1/drafters/scdf {path: candidates/scdf}: revision ${swapped.replaced.revision} -> ${swapped.revision}, ` +
      `${swapped.num_layers} layers, ${swapped.onnx_bytes === null ? '?' : (swapped.onnx_bytes / 2 ** 20).toFixed(1)} MiB, ${f(swap.ms, 0)} ms`);
    out(`   right after the swap: ${describe(await regime())}`);
    let back = -1;
    const explored: number[] = [];
    for (let i = 1; i <= opts.maxReturn && back < 0; i++) {
      const run = await complete('return', 'routed', nextPrompt());
      if (run.drafter !== null) explored.push(i);
      const r = await regime();
      if (r.choice.draft_length > 0 && r.choice.reason === 'estimate') back = i;
    }
    const backState = await regime();
    if (back < 0) {
      out(`   NOT back to speculation after ${opts.maxReturn} requests (explored at requests ${explored.join(', ') || 'none'}): ${describe(backState)}`);
      code = 1;
    } else {
      out(`   back to speculation after ${back} requests (explored at request${explored.length === 1 ? '' : 's'} ${explored.join(', ')}): ${describe(backState)}`);
    }

    out();
    out(`4. after the swap: routed vs forced plain, ${opts.pairs} interleaved pairs`);
    const after = report(await timePairs('after-swap'), opts.seed + 1);
    out(`   speed-up of routed over plain (plain / routed, ratio of medians) ${f(1 / after.ratio)}x (95% ${f(1 / after.ci[1])}-${f(1 / after.ci[0])}x)`);
  } finally {
    await client.pool.close();
    await app.close();
  }
  out();
  if (mismatches > 0) {
    out(`LOSSLESSNESS FAILURE: ${mismatches} greedy pairs returned different texts`);
    code = 1;
  }
  out(`elapsed ${((performance.now() - t0) / 1000).toFixed(1)} s, ${runs.length} requests`);
  if (opts.json !== undefined) {
    writeFileSync(opts.json, `${JSON.stringify({ tool: 'bench/drafter-swap-bench.ts', date: startedAt.toISOString(), machine: machineLine(), options: opts, runs }, null, 2)}\n`);
    out(`raw figures written to ${opts.json}`);
  }
  return code;
}

process.exitCode = await main();
