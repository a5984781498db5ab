// Open-loop multilingual load against a running fairspec server, to feed the dashboards
// (grafana/) and the experiments with realistic traffic. It measures the client side only; speed
// figures for fairspec come from speculative-bench.ts.
//
//   npx tsx bench/load-generator.ts --url http://127.0.0.1:8000 --rate 2 --duration-s 60 \
//       --users 50 --languages en,de,ru,ja,ar,hi,zh,fr,es,ko,tr,pl
//   npx tsx bench/load-generator.ts --languages en:4,de:1,am:1 --max-requests 200 --plain-fraction 0.2
//
// Requests arrive as a Poisson process at --rate per second (open loop: a slow server does not
// slow the arrivals down; past --max-in-flight an arrival is dropped and counted), until
// --duration-s or --max-requests, whichever comes first; then in-flight requests get
// --drain-s to finish. Every request comes from one of --users simulated users with a stable id
// (`user` in the body), so an experiment that assigns arms by user keeps each user in one arm.
// Each user speaks one language: users are split between languages by weight (at least one
// each), and a request picks its language by weight, then one of that language's users. Prompts
// are the UDHR articles of bench/prompts.ts, in rotation.
//
// --plain-fraction of the requests ask for plain decoding (speculative.draft_length = 0): the
// per-language reference that the measured speed-up panels divide by.
//
// --summary-json FILE writes what the client saw, for scripts that check the server against it
// (bench/cluster-local.sh): requests sent, answered and dropped, statuses, and per experiment arm
// and language (from each response's `speculative.arm`) the choices and completion tokens served.

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import type { CompletionResponseBody } from '../src/wire/completions.js';
import type { ModelListBody } from '../src/wire/models.js';
import { parseLoopbackUrl } from './loopback-url.js';
import { benchPrompts, EVALUATION_LANGUAGES, MAX_PROMPTS_PER_LANGUAGE, type BenchPrompt } from './prompts.js';
import { UsageError } from './usage-error.js';

const USAGE = `Usage: npx tsx bench/load-generator.ts [options]

  --url URL              running server, on this machine only (default http://127.0.0.1:8000)
  --rate R               mean requests per second, Poisson arrivals (default 2)
  --duration-s S         stop sending after S seconds (default 60)
  --max-requests N       stop sending after N requests (default: no limit but the duration)
  --users N              simulated users with stable ids (default 50)
  --languages L[:W],...  languages and weights (default en,de,ru,ja,ar,hi,zh,fr,es,ko,tr,pl, equal)
  --plain-fraction F     share of requests decoded plainly, the speed-up reference (default 0.1)
  --pin-language         send each prompt's language instead of letting the server detect it
  --max-tokens N         max_tokens of every request (default 32)
  --temperature T        sampling temperature (default 0.7)
  --prompt-bytes N       prompt length in UTF-8 bytes (default 150)
  --max-in-flight N      outstanding requests before arrivals are dropped (default 64)
  --request-timeout-s S  per-request timeout (default 120)
  --drain-s S            wait for in-flight requests after the last send (default 120)
  --seed N               seed of arrivals, user and language choice (default 1)
  --model ID             model id (default: the first of GET /v1/models)
  --summary-json FILE    write the run's counts (statuses; per experiment arm and language: choices, tokens)
  -h, --help`;

const DEFAULT_LANGUAGES = 'en,de,ru,ja,ar,hi,zh,fr,es,ko,tr,pl';

interface Options {
  url: URL;
  rate: number;
  durationMs: number;
  maxRequests: number;
  users: number;
  languages: { language: string; weight: number }[];
  plainFraction: number;
  pinLanguage: boolean;
  maxTokens: number;
  temperature: number;
  promptBytes: number;
  maxInFlight: number;
  requestTimeoutMs: number;
  drainMs: number;
  seed: number;
  model: string | undefined;
  summaryJson: string | undefined;
}

function number(name: string, raw: string | undefined, fallback: number, min: number, max: number, integer = false): number {
  if (raw === undefined) return fallback;
  const n = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return n;
}

function parseLanguages(raw: string): Options['languages'] {
  const out: Options['languages'] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [language, weight] = item.split(':');
    if (!EVALUATION_LANGUAGES.includes(language!)) {
      throw new UsageError(`--languages: no prompts for ${JSON.stringify(language)}; known: ${EVALUATION_LANGUAGES.join(',')}`);
    }
    if (out.some((l) => l.language === language)) throw new UsageError(`--languages: ${language} given twice`);
    out.push({ language: language!, weight: number(`languages weight of ${language}`, weight, 1, 0.001, 1e6) });
  }
  if (out.length === 0) throw new UsageError('--languages: at least one language');
  return out;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8000' },
      rate: { type: 'string' },
      'duration-s': { type: 'string' },
      'max-requests': { type: 'string' },
      users: { type: 'string' },
      languages: { type: 'string', default: DEFAULT_LANGUAGES },
      'plain-fraction': { type: 'string' },
      'pin-language': { type: 'boolean', default: false },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'prompt-bytes': { type: 'string' },
      'max-in-flight': { type: 'string' },
      'request-timeout-s': { type: 'string' },
      'drain-s': { type: 'string' },
      seed: { type: 'string' },
      model: { type: 'string' },
      'summary-json': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  // A load generator aimed at someone else's server is a denial of service.
  const url = parseLoopbackUrl(values.url);

  const languages = parseLanguages(values.languages);
  const users = number('users', values.users, 50, 1, 1_000_000, true);
  if (users < languages.length) throw new UsageError(`--users (${users}) must be at least the number of languages (${languages.length})`);
  const maxRequests = values['max-requests'] === undefined ? Infinity : number('max-requests', values['max-requests'], 0, 1, 1e9, true);
  return {
    url,
    rate: number('rate', values.rate, 2, 0.001, 10_000),
    durationMs: number('duration-s', values['duration-s'], 60, 1, 7 * 24 * 3600) * 1000,
    maxRequests,
    users,
    languages,
    plainFraction: number('plain-fraction', values['plain-fraction'], 0.1, 0, 1),
    pinLanguage: values['pin-language'],
    maxTokens: number('max-tokens', values['max-tokens'], 32, 1, 4096, true),
    temperature: number('temperature', values.temperature, 0.7, 0, 2),
    promptBytes: number('prompt-bytes', values['prompt-bytes'], 150, 16, 4096, true),
    maxInFlight: number('max-in-flight', values['max-in-flight'], 64, 1, 10_000, true),
    requestTimeoutMs: number('request-timeout-s', values['request-timeout-s'], 120, 1, 3600) * 1000,
    drainMs: number('drain-s', values['drain-s'], 120, 0, 3600) * 1000,
    seed: number('seed', values.seed, 1, 0, 2 ** 32 - 1, true),
    model: values.model,
    summaryJson: values['summary-json'],
  };
}

/** mulberry32: a small seeded generator, so a run's arrivals and choices repeat with its seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index drawn with probability proportional to weights[i]. */
function pick(weights: readonly number[], random: () => number): number {
  let r = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

/** Users per language, proportional to weight with at least one each (largest remainder). */
function splitUsers(users: number, weights: readonly number[]): number[] {
  const spare = users - weights.length;
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (spare * w) / total);
  const counts = exact.map((e) => 1 + Math.floor(e));
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; k < users - counts.reduce((a, b) => a + b, 0); k++) counts[order[k]![1]]! += 1;
  return counts;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface Outcome {
  language: string;
  /** HTTP status, or 'timeout' / 'error' when no response came. */
  status: string;
  ms: number;
  /** A 200's experiment and arm (absent when not assigned), choices and completion tokens. */
  served?: { experiment?: string; arm?: string; choices: number; tokens: number };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const random = seededRandom(options.seed);
  const pool = new Pool(options.url.origin, {
    connections: options.maxInFlight,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
  });

  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  process.stdout.write(`load-generator  ${new Date().toISOString()}  ${os.hostname()}  ${os.cpus().length} x ${cpu}\n`);

  let model = options.model;
  if (model === undefined) {
    const { statusCode, body } = await pool.request({ method: 'GET', path: '/v1/models', signal: AbortSignal.timeout(10_000) });
    const reply = (await body.json()) as ModelListBody;
    model = reply.data?.[0]?.id;
    if (statusCode !== 200 || model === undefined) throw new Error(`GET /v1/models answered ${statusCode} without a model`);
  }

  const languages = options.languages.map((l) => l.language);
  const weights = options.languages.map((l) => l.weight);
  const prompts = new Map<string, BenchPrompt[]>(
    languages.map((language) => [language, benchPrompts(language, MAX_PROMPTS_PER_LANGUAGE, options.promptBytes).prompts]),
  );
  // Users 0..n-1 in language blocks: user-0007 speaks the same language in every run with these options.
  const usersOf: string[][] = [];
  let next = 0;
  splitUsers(options.users, weights).forEach((count, i) => {
    usersOf[i] = Array.from({ length: count }, () => `user-${String(next++).padStart(4, '0')}`);
  });
  const turn = new Map<string, number>();

  process.stdout.write(
    `target   ${options.url.origin}  model ${model}  rate ${options.rate}/s  duration ${options.durationMs / 1000}s` +
      `${Number.isFinite(options.maxRequests) ? `  max ${options.maxRequests} requests` : ''}\n` +
      `users    ${options.users}: ${languages.map((l, i) => `${l} ${usersOf[i]!.length}`).join(', ')}\n` +
      `mix      ${languages.map((l, i) => `${l} ${((100 * weights[i]!) / weights.reduce((a, b) => a + b, 0)).toFixed(1)}%`).join(', ')}` +
      `  plain ${(options.plainFraction * 100).toFixed(0)}%\n`,
  );

  const outcomes: Outcome[] = [];
  const inFlight = new Set<Promise<void>>();
  let dropped = 0;
  let sent = 0;
  const stop = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nSIGINT: no more requests; waiting for those in flight (again to abort them)\n');
    stop.abort();
    process.once('SIGINT', () => pool.destroy());
  });

  const send = (index: number): Promise<void> => {
    const language = languages[index]!;
    const list = prompts.get(language)!;
    const k = turn.get(language) ?? 0;
    turn.set(language, k + 1);
    const users = usersOf[index]!;
    const body: Record<string, unknown> = {
      model,
      prompt: list[k % list.length]!.text,
      max_tokens: options.maxTokens,
      temperature: options.temperature,
      user: users[Math.floor(random() * users.length)],
    };
    if (options.pinLanguage) body.language = language;
    if (random() < options.plainFraction) body.speculative = { draft_length: 0 };
    const started = performance.now();
    return pool
      .request({
        method: 'POST',
        path: '/v1/completions',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      })
      .then(async ({ statusCode, body: reply }) => {
        if (statusCode !== 200) {
          await reply.dump();
          outcomes.push({ language, status: String(statusCode), ms: performance.now() - started });
          return;
        }
        const completion = (await reply.json()) as CompletionResponseBody;
        const { experiment, arm } = completion.speculative;
        const served = { ...(experiment !== undefined && { experiment }), ...(arm !== undefined && { arm }), choices: completion.choices.length, tokens: completion.usage.completion_tokens };
        outcomes.push({ language, status: '200', ms: performance.now() - started, served });
      })
      .catch((err: unknown) => {
        const { name, code } = err as { name?: string; code?: string };
        const timedOut = name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
        outcomes.push({ language, status: timedOut ? 'timeout' : 'error', ms: performance.now() - started });
      });
  };

  const start = performance.now();
  let due = 0; // ms after start of the next arrival
  while (!stop.signal.aborted && sent + dropped < options.maxRequests) {
    due += (-Math.log(1 - random()) / options.rate) * 1000;
    if (due >= options.durationMs) break;
    const wait = start + due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (stop.signal.aborted) break;
    const index = pick(weights, random);
    if (inFlight.size >= options.maxInFlight) {
      dropped++;
      continue;
    }
    sent++;
    const p = send(index).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  const drained = await Promise.race([
    Promise.all(inFlight).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), options.drainMs).unref()),
  ]);
  if (!drained) process.stderr.write(`drain: ${inFlight.size} requests still in flight after ${options.drainMs / 1000}s; abandoning them\n`);
  await pool.destroy();
  report(outcomes, languages, sent, dropped, (performance.now() - start) / 1000);
  if (options.summaryJson !== undefined) writeFileSync(options.summaryJson, `${JSON.stringify(summary(outcomes, sent, dropped), null, 2)}\n`);
}

/** The run's counts as JSON: what a server-side tally must match. */
function summary(outcomes: Outcome[], sent: number, dropped: number) {
  const statuses: Record<string, number> = {};
  const cells = new Map<string, { experiment: string | null; arm: string | null; language: string; requests: number; choices: number; tokens: number }>();
  for (const o of outcomes) {
    statuses[o.status] = (statuses[o.status] ?? 0) + 1;
    if (!o.served) continue;
    const key = `${o.served.experiment}\0${o.served.arm}\0${o.language}`;
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { experiment: o.served.experiment ?? null, arm: o.served.arm ?? null, language: o.language, requests: 0, choices: 0, tokens: 0 }));
    cell.requests++;
    cell.choices += o.served.choices;
    cell.tokens += o.served.tokens;
  }
  return { sent, completed: outcomes.length, dropped, statuses, cells: [...cells.values()] };
}

function report(outcomes: Outcome[], languages: string[], sent: number, dropped: number, seconds: number): void {
  const statuses = [...new Set(outcomes.map((o) => o.status))].sort();
  const header = ['language', 'done', ...statuses, 'p50 ms', 'p95 ms'];
  const row = (name: string, list: Outcome[]): string[] => {
    const ok = list.filter((o) => o.status.startsWith('2')).map((o) => o.ms).sort((a, b) => a - b);
    return [
      name,
      String(list.length),
      ...statuses.map((s) => String(list.filter((o) => o.status === s).length)),
      ok.length > 0 ? percentile(ok, 0.5).toFixed(0) : '-',
      ok.length > 0 ? percentile(ok, 0.95).toFixed(0) : '-',
    ];
  };
  const rows = [header, ...languages.map((l) => row(l, outcomes.filter((o) => o.language === l))), row('all', outcomes)];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  process.stdout.write(
    `\nsent ${sent} in ${seconds.toFixed(1)}s (${(sent / seconds).toFixed(2)}/s), completed ${outcomes.length}` +
      `, dropped at the in-flight limit ${dropped}; latency is over 2xx responses, send to last byte\n\n` +
      `${rows.map(line).join('\n')}\n`,
  );
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`load-generator: ${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`load-generator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
