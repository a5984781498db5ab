// Speculative vs plain decoding, per language, against a running fairspec server.
//
//   npm start                                           # in another terminal: the server
//   npx tsx bench/speculative-bench.ts --url http://127.0.0.1:8000
//   npx tsx bench/speculative-bench.ts --languages en,ru,am,my --prompts-per-language 4 \
//       --max-tokens 64 --policy routed --json out.json
//   npx tsx bench/speculative-bench.ts --dry-run        # print the prompts, send nothing
//
// For every language the same UDHR articles (bench/prompts.ts) are decoded greedily twice:
// "plain" with speculative.draft_length = 0 (autoregressive decoding through the same engine
// loop) and "spec" with the policy under test (routed: no override; gamma=N: the routed drafter
// at draft length N). Greedy speculative decoding is lossless, so both texts must be identical;
// any difference is reported as a losslessness failure and makes the exit status 1.
//
// The two arms run interleaved and one request at a time (A, B, then B, A for the next pair,
// the first arm also alternating between languages), so a drift in machine speed (thermal
// throttling, another process) falls on both arms alike and requests never share the CPU.
// Wall time is measured on the client, from sending the request to the end of the body; one
// uncounted warm-up pair per language (UDHR article 2) loads that language's drafter first.
// Speed-up = plain wall time / speculative wall time (> 1: speculation is faster).

import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { parseLoopbackUrl } from './loopback-url.js';
import { benchPrompts, EVALUATION_LANGUAGES, MAX_PROMPTS_PER_LANGUAGE, type BenchPrompt } from './prompts.js';
import { geomean, median } from './summary-statistics.js';
import { UsageError } from './usage-error.js';
import { intOption } from './int-option.js';
import { describeMachine, machine } from './machine.js';
import { summarizeRequest } from '../src/speculative-summary.js';
import type { CompletionResponseBody, SpeculativeBody } from '../src/wire/completions.js';
import type { ErrorBody } from '../src/wire/error.js';
import type { ModelListBody } from '../src/wire/models.js';

// ---- options ---------------------------------------------------------------------------------

const USAGE = `usage: npx tsx bench/speculative-bench.ts [options]
  --url URL                    running server, loopback only (default http://127.0.0.1:8000)
  --languages a,b,...          canonical codes (default: all ${EVALUATION_LANGUAGES.length} evaluation languages)
  --prompts-per-language N     UDHR articles 3.. per language, 1-${MAX_PROMPTS_PER_LANGUAGE} (default 4)
  --max-tokens N               tokens to generate per request (default 64)
  --policy routed|gamma=N      speculative arm: routing as configured, or draft length N (default routed)
  --repeats N                  measured pairs per prompt, 1-10 (default 1)
  --prompt-bytes N             prompt length cap in UTF-8 bytes (default 150)
  --pin-language               send language=<code> in both arms instead of letting the server detect it
  --model ID                   model id (default: the first of GET /v1/models)
  --timeout-s N                bound on the whole run; stops and reports what it has (default 1800)
  --request-timeout-s N        bound on one request (default 120)
  --json FILE                  write every raw figure to FILE
  --dry-run                    print the prompts per language and exit`;

interface Options {
  url: URL;
  languages: string[];
  promptsPerLanguage: number;
  maxTokens: number;
  /** null: routed (no override); a number: draft length override. */
  gamma: number | null;
  repeats: number;
  promptBytes: number;
  pinLanguage: boolean;
  model: string | undefined;
  timeoutMs: number;
  requestTimeoutMs: number;
  json: string | undefined;
  dryRun: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8000' },
      languages: { type: 'string' },
      'prompts-per-language': { type: 'string' },
      'max-tokens': { type: 'string' },
      policy: { type: 'string', default: 'routed' },
      repeats: { type: 'string' },
      'prompt-bytes': { type: 'string' },
      'pin-language': { type: 'boolean', default: false },
      model: { type: 'string' },
      'timeout-s': { type: 'string' },
      'request-timeout-s': { type: 'string' },
      json: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  // Timings over a network measure the network; this bench is for a server on this machine.
  const url = parseLoopbackUrl(values.url);

  const languages = values.languages === undefined
    ? [...EVALUATION_LANGUAGES]
    : [...new Set(values.languages.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  const unknown = languages.filter((l) => !EVALUATION_LANGUAGES.includes(l));
  if (unknown.length > 0 || languages.length === 0) {
    throw new UsageError(`--languages: unknown ${JSON.stringify(unknown)}; known: ${EVALUATION_LANGUAGES.join(',')}`);
  }

  const policy = /^(?:routed|gamma=(\d+))$/.exec(values.policy);
  if (policy === null) throw new UsageError(`--policy must be routed or gamma=N, got ${JSON.stringify(values.policy)}`);
  const gamma = policy[1] === undefined ? null : intOption('policy gamma', policy[1], 0, 0, 32);

  return {
    url,
    languages,
    promptsPerLanguage: intOption('prompts-per-language', values['prompts-per-language'], 4, 1, MAX_PROMPTS_PER_LANGUAGE),
    maxTokens: intOption('max-tokens', values['max-tokens'], 64, 1, 4096),
    gamma,
    repeats: intOption('repeats', values.repeats, 1, 1, 10),
    promptBytes: intOption('prompt-bytes', values['prompt-bytes'], 150, 16, 4096),
    pinLanguage: values['pin-language'],
    model: values.model,
    timeoutMs: intOption('timeout-s', values['timeout-s'], 1800, 1, 24 * 3600) * 1000,
    requestTimeoutMs: intOption('request-timeout-s', values['request-timeout-s'], 120, 1, 3600) * 1000,
    json: values.json,
    dryRun: values['dry-run'],
  };
}

// ---- HTTP ------------------------------------------------------------------------------------

type Arm = 'plain' | 'spec';

interface Run {
  arm: Arm;
  /** 0: this arm went first in its pair. */
  order: number;
  wallMs: number;
  ok: boolean;
  /** HTTP status; null when no response arrived (connection error, timeout). */
  status: number | null;
  error?: string;
  text?: string;
  finishReason?: string | null;
  completionTokens?: number;
  /** Unicode code points of the completion. */
  chars?: number;
  speculative?: SpeculativeBody;
}

// AbortSignal.timeout() takes a positive integer.
const wholeMs = (ms: number): number => Math.max(1, Math.ceil(ms));

class Client {
  readonly pool: Pool;
  constructor(readonly url: URL, readonly requestTimeoutMs: number) {
    // One connection, no pipelining: requests are strictly sequential.
    this.pool = new Pool(url.origin, { connections: 1, pipelining: 1, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs });
  }

  async getJson(path: string, timeoutMs: number): Promise<unknown> {
    const { statusCode, body } = await this.pool.request({ method: 'GET', path, signal: AbortSignal.timeout(wholeMs(timeoutMs)) });
    const text = await body.text();
    if (statusCode !== 200) throw new Error(`GET ${path}: HTTP ${statusCode}: ${describeError(text)}`);
    return JSON.parse(text) as unknown;
  }

  async complete(arm: Arm, order: number, payload: Record<string, unknown>, timeoutMs: number): Promise<Run> {
    const start = performance.now();
    try {
      const { statusCode, body } = await this.pool.request({
        method: 'POST',
        path: '/v1/completions',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(wholeMs(timeoutMs)),
      });
      const raw = await body.text();
      const wallMs = performance.now() - start;
      if (statusCode !== 200) return { arm, order, wallMs, ok: false, status: statusCode, error: describeError(raw) };
      const res = JSON.parse(raw) as CompletionResponseBody;
      const choice = res.choices?.[0];
      if (typeof choice?.text !== 'string') return { arm, order, wallMs, ok: false, status: statusCode, error: 'response has no choices[0].text' };
      return {
        arm, order, wallMs, ok: true, status: statusCode,
        text: choice.text,
        finishReason: choice.finish_reason,
        completionTokens: res.usage?.completion_tokens ?? 0,
        chars: [...choice.text].length,
        ...(res.speculative !== undefined ? { speculative: res.speculative } : {}),
      };
    } catch (err) {
      return { arm, order, wallMs: performance.now() - start, ok: false, status: null, error: describeException(err) };
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function describeError(raw: string): string {
  try {
    const { error } = JSON.parse(raw) as ErrorBody;
    return `${error.type ?? 'error'}${error.code ? ` ${error.code}` : ''}${error.param ? ` (param ${error.param})` : ''}: ${error.message}`;
  } catch {
    return raw.slice(0, 200);
  }
}

function describeException(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (err.name === 'TimeoutError') return 'timed out';
    return `${typeof code === 'string' ? `${code}: ` : ''}${err.message}`;
  }
  return String(err);
}

/** No response at all: the server is gone, not merely refusing one request. */
const isConnectionError = (run: Run): boolean => run.status === null && run.error !== 'timed out';

// ---- statistics ------------------------------------------------------------------------------

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const distinct = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

interface PromptResult {
  article: number;
  promptBytes: number;
  promptChars: number;
  prompt: string;
  runs: Run[];
  /** null when an arm has no successful run to compare. */
  lossless: boolean | null;
  mismatch?: string;
}

interface LanguageStats {
  prompts: number;
  requests: number;
  errors: number;
  tokensPerSecond: { plain: number; spec: number };
  charsPerSecond: { plain: number; spec: number };
  medianWallMs: { plain: number; spec: number };
  /** median(plain wall) / median(spec wall). */
  speedupOfMedians: number;
  /** median over prompts of plain wall / spec wall. */
  medianSpeedup: number;
  acceptanceRate: number | null;
  meanAcceptedLength: number | null;
  drafters: (string | null)[];
  draftLengths: (number | null)[];
  routedLanguages: string[];
  mismatches: number;
}

interface LanguageResult {
  language: string;
  udhrFile: string;
  warmup: Run[];
  prompts: PromptResult[];
  stats: LanguageStats | null;
  complete: boolean;
}

/** Where two strings first differ, with a little context, for the losslessness report. */
function firstDifference(a: string, b: string): string {
  const ca = [...a];
  const cb = [...b];
  let i = 0;
  while (i < ca.length && i < cb.length && ca[i] === cb[i]) i++;
  const show = (cs: string[]) => JSON.stringify(cs.slice(Math.max(0, i - 8), i + 12).join(''));
  return `first difference at character ${i}: plain ${show(ca)} vs spec ${show(cb)}`;
}

function checkLossless(p: PromptResult): void {
  const ok = p.runs.filter((r) => r.ok);
  const plain = ok.filter((r) => r.arm === 'plain');
  const spec = ok.filter((r) => r.arm === 'spec');
  if (plain.length === 0 || spec.length === 0) return;
  const reference = plain[0]!.text!;
  const bad = ok.find((r) => r.text !== reference);
  p.lossless = bad === undefined;
  if (bad !== undefined) {
    p.mismatch = bad.arm === 'spec'
      ? firstDifference(reference, bad.text!)
      : `plain decoding is not repeatable: ${firstDifference(reference, bad.text!)}`;
  }
}

function languageStats(prompts: readonly PromptResult[]): LanguageStats | null {
  const all = prompts.flatMap((p) => p.runs);
  const errors = all.filter((r) => !r.ok).length;
  const perPrompt = prompts.flatMap((p) => {
    const plain = p.runs.filter((r) => r.ok && r.arm === 'plain');
    const spec = p.runs.filter((r) => r.ok && r.arm === 'spec');
    if (plain.length === 0 || spec.length === 0) return [];
    const arm = (runs: Run[]) => {
      const wallMs = median(runs.map((r) => r.wallMs));
      return {
        wallMs,
        tps: median(runs.map((r) => r.completionTokens! / (r.wallMs / 1000))),
        cps: median(runs.map((r) => r.chars! / (r.wallMs / 1000))),
      };
    };
    return [{ plain: arm(plain), spec: arm(spec), specRuns: spec }];
  });
  if (perPrompt.length === 0) return null;
  const specRuns = perPrompt.flatMap((p) => p.specRuns);
  const stats = specRuns.map((r) => r.speculative).filter((s): s is SpeculativeBody => s !== undefined);
  // Pooled over the language's requests (sum of counts, then the ratios), as the server does for several choices.
  const pooled = stats.length > 0 ? summarizeRequest(stats) : null;
  const plainWall = perPrompt.map((p) => p.plain.wallMs);
  const specWall = perPrompt.map((p) => p.spec.wallMs);
  return {
    prompts: perPrompt.length,
    requests: all.length,
    errors,
    tokensPerSecond: { plain: median(perPrompt.map((p) => p.plain.tps)), spec: median(perPrompt.map((p) => p.spec.tps)) },
    charsPerSecond: { plain: median(perPrompt.map((p) => p.plain.cps)), spec: median(perPrompt.map((p) => p.spec.cps)) },
    medianWallMs: { plain: median(plainWall), spec: median(specWall) },
    speedupOfMedians: median(plainWall) / median(specWall),
    medianSpeedup: median(perPrompt.map((p) => p.plain.wallMs / p.spec.wallMs)),
    acceptanceRate: pooled?.acceptance_rate ?? null,
    meanAcceptedLength: pooled?.mean_accepted_length ?? null,
    drafters: distinct(stats.map((s) => s.drafter)),
    draftLengths: distinct(stats.map((s) => s.draft_length)),
    routedLanguages: distinct(stats.map((s) => s.language)),
    mismatches: prompts.filter((p) => p.lossless === false).length,
  };
}

interface Summary {
  languagesMeasured: number;
  meanSpeedup: number;
  geomeanSpeedup: number;
  worst: { language: string; speedup: number };
  best: { language: string; speedup: number };
  /** best / worst speed-up: 1 means every language gains the same. */
  maxMinRatio: number;
  slowerLanguages: string[];
  losslessnessFailures: number;
  errors: number;
}

function summarize(results: readonly LanguageResult[]): Summary | null {
  const measured = results.filter((r): r is LanguageResult & { stats: LanguageStats } => r.stats !== null);
  if (measured.length === 0) return null;
  const speedups = measured.map((r) => ({ language: r.language, speedup: r.stats.speedupOfMedians }));
  const sorted = [...speedups].sort((a, b) => a.speedup - b.speedup);
  const worst = sorted[0]!;
  const best = sorted[sorted.length - 1]!;
  return {
    languagesMeasured: measured.length,
    meanSpeedup: mean(speedups.map((s) => s.speedup)),
    geomeanSpeedup: geomean(speedups.map((s) => s.speedup)),
    worst,
    best,
    maxMinRatio: best.speedup / worst.speedup,
    slowerLanguages: speedups.filter((s) => s.speedup < 1).map((s) => s.language),
    losslessnessFailures: results.reduce((a, r) => a + r.prompts.filter((p) => p.lossless === false).length, 0),
    errors: results.reduce((a, r) => a + r.prompts.flatMap((p) => p.runs).filter((x) => !x.ok).length + r.warmup.filter((x) => !x.ok).length, 0),
  };
}

// ---- printing --------------------------------------------------------------------------------

const fmt = (x: number | null, digits = 1): string => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const fmtX = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');
const joinOrDash = (xs: readonly (string | number | null)[]): string => (xs.length === 0 ? '-' : xs.map((x) => x ?? 'none').join('/'));

const COLUMNS: { title: string; width: number; left?: boolean }[] = [
  { title: 'lang', width: 4, left: true },
  { title: 'prompts', width: 7 },
  { title: 'req', width: 4 },
  { title: 'err', width: 3 },
  { title: 'tok/s plain', width: 11 },
  { title: 'tok/s spec', width: 10 },
  { title: 'chr/s plain', width: 11 },
  { title: 'chr/s spec', width: 10 },
  { title: 'speed-up', width: 8 },
  { title: 'med ratio', width: 9 },
  { title: 'accept', width: 6 },
  { title: 'mean acc', width: 8 },
  { title: 'drafter', width: 16, left: true },
  { title: 'γ', width: 3 },
  { title: 'routed', width: 6, left: true },
  { title: 'lossless', width: 8, left: true },
];

const row = (cells: readonly string[]): string =>
  cells.map((c, i) => {
    const col = COLUMNS[i]!;
    return col.left ? c.padEnd(col.width) : c.padStart(col.width);
  }).join('  ').trimEnd();

function languageRow(r: LanguageResult): string {
  const s = r.stats;
  const language = r.complete ? r.language : `${r.language}*`;
  if (s === null) {
    const errors = r.prompts.flatMap((p) => p.runs).filter((x) => !x.ok).length;
    return row([language, '0', String(r.prompts.flatMap((p) => p.runs).length), String(errors), ...Array<string>(12).fill('-')]);
  }
  const lossless = s.mismatches === 0 ? 'yes' : `NO (${s.mismatches})`;
  // `routed` shows the language the server routed on when it differs from the label.
  const routed = s.routedLanguages.length === 1 && s.routedLanguages[0] === r.language ? '=' : s.routedLanguages.join('/');
  return row([
    language, String(s.prompts), String(s.requests), String(s.errors),
    fmt(s.tokensPerSecond.plain), fmt(s.tokensPerSecond.spec),
    fmt(s.charsPerSecond.plain), fmt(s.charsPerSecond.spec),
    fmtX(s.speedupOfMedians), fmtX(s.medianSpeedup),
    fmt(s.acceptanceRate, 3), fmt(s.meanAcceptedLength, 2),
    joinOrDash(s.drafters), joinOrDash(s.draftLengths), routed, lossless,
  ]);
}

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

// ---- main ------------------------------------------------------------------------------------

function dryRun(opts: Options): void {
  for (const language of opts.languages) {
    const { file, warmup, prompts } = benchPrompts(language, opts.promptsPerLanguage, opts.promptBytes);
    out(`${language} (${file}.html)`);
    for (const p of [warmup, ...prompts]) {
      const tag = p === warmup ? 'warm-up' : `art. ${p.article}`;
      out(`  ${tag.padEnd(8)} ${String(p.bytes).padStart(3)} B ${String(p.chars).padStart(3)} ch  ${p.text}`);
    }
  }
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (opts.dryRun) {
    dryRun(opts);
    return 0;
  }

  const startedAt = new Date();
  const t0 = performance.now();
  const deadline = t0 + opts.timeoutMs;
  const remaining = (): number => deadline - performance.now();
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupted: finishing the current request, then reporting (Ctrl-C again to quit)\n');
  };
  process.on('SIGINT', onSigint);

  const m = machine();
  const policy = opts.gamma === null ? 'routed' : `gamma=${opts.gamma}`;
  const maxRequests = opts.languages.length * 2 * (1 + opts.promptsPerLanguage * opts.repeats);
  out('fairspec speculative-decoding bench');
  out(`date     ${startedAt.toISOString()}`);
  out(`machine  ${describeMachine(m)}`);

  const client = new Client(opts.url, opts.requestTimeoutMs);
  let model = opts.model;
  try {
    const models = (await client.getJson('/v1/models', Math.min(10_000, remaining()))) as ModelListBody;
    model ??= models.data?.[0]?.id;
    if (model === undefined) throw new Error('GET /v1/models listed no model');
  } catch (err) {
    process.stderr.write(`cannot reach the server at ${opts.url.origin}: ${describeException(err)}\n(start it first: npm start)\n`);
    await client.close();
    return 2;
  }
  out(`server   ${opts.url.origin}, model ${model}`);
  out(`settings policy ${policy}, ${opts.languages.length} languages x ${opts.promptsPerLanguage} prompts x ${opts.repeats} repeats, ` +
    `prompts <= ${opts.promptBytes} B, max_tokens ${opts.maxTokens}, temperature 0, language ${opts.pinLanguage ? 'pinned' : 'detected'}, ` +
    `at most ${maxRequests} requests / ${opts.timeoutMs / 1000} s`);
  out();
  out(row(COLUMNS.map((c) => c.title)));

  const payload = (prompt: BenchPrompt, arm: Arm): Record<string, unknown> => ({
    model,
    prompt: prompt.text,
    max_tokens: opts.maxTokens,
    temperature: 0,
    seed: 0,
    stream: false,
    ...(opts.pinLanguage ? { language: prompt.language } : {}),
    ...(arm === 'plain' ? { speculative: { draft_length: 0 } } : opts.gamma !== null ? { speculative: { draft_length: opts.gamma } } : {}),
  });

  const results: LanguageResult[] = [];
  let consecutiveConnectionErrors = 0;
  let stopReason: string | null = null;
  const shouldStop = (): boolean => {
    if (stopReason === null && interrupted) stopReason = 'interrupted';
    if (stopReason === null && remaining() <= 0) stopReason = `--timeout-s ${opts.timeoutMs / 1000} reached`;
    if (stopReason === null && consecutiveConnectionErrors >= 3) stopReason = 'the server stopped answering (3 connection errors in a row)';
    return stopReason !== null;
  };
  // A pair: both arms for one prompt, in the given order; a failure is printed and the run goes on.
  const pair = async (prompt: BenchPrompt, first: Arm, into: Run[]): Promise<void> => {
    const arms: Arm[] = first === 'plain' ? ['plain', 'spec'] : ['spec', 'plain'];
    for (const [order, arm] of arms.entries()) {
      if (shouldStop()) return;
      const run = await client.complete(arm, order, payload(prompt, arm), Math.min(opts.requestTimeoutMs, remaining()));
      // Cut off by the run's own deadline: not the server's failure, and not a measurement.
      if (!run.ok && remaining() <= 0) return;
      consecutiveConnectionErrors = isConnectionError(run) ? consecutiveConnectionErrors + 1 : 0;
      if (!run.ok) out(`  ! ${prompt.language} art. ${prompt.article} ${arm}: ${run.status === null ? '' : `HTTP ${run.status} `}${run.error}`);
      into.push(run);
    }
  };

  for (const [li, language] of opts.languages.entries()) {
    if (shouldStop()) break;
    const { file, warmup, prompts } = benchPrompts(language, opts.promptsPerLanguage, opts.promptBytes);
    const result: LanguageResult = { language, udhrFile: file, warmup: [], prompts: [], stats: null, complete: false };
    results.push(result);
    await pair(warmup, li % 2 === 0 ? 'plain' : 'spec', result.warmup);
    let k = 0;
    for (const prompt of prompts) {
      const p: PromptResult = {
        article: prompt.article, promptBytes: prompt.bytes, promptChars: prompt.chars, prompt: prompt.text, runs: [], lossless: null,
      };
      for (let r = 0; r < opts.repeats && !shouldStop(); r++, k++) {
        await pair(prompt, (li + k) % 2 === 0 ? 'plain' : 'spec', p.runs);
      }
      if (p.runs.length === 0) break;
      checkLossless(p);
      if (p.lossless === false) out(`  ! ${language} art. ${prompt.article}: LOSSLESSNESS FAILURE, ${p.mismatch}`);
      result.prompts.push(p);
    }
    result.complete = result.prompts.length === prompts.length && result.prompts.every((p) => p.runs.length === 2 * opts.repeats);
    result.stats = languageStats(result.prompts);
    out(languageRow(result));
  }
  await client.close();
  process.off('SIGINT', onSigint);

  const summary = summarize(results);
  const elapsedS = (performance.now() - t0) / 1000;
  out();
  if (stopReason !== null) out(`stopped early: ${stopReason}; figures cover what finished (* language cut short)`);
  if (summary === null) {
    out('no language produced a plain/speculative pair: nothing to summarise');
  } else {
    out(`summary over ${summary.languagesMeasured} languages (speed-up = ratio of medians of per-prompt wall time, plain / spec)`);
    out(`  mean speed-up         ${fmtX(summary.meanSpeedup)} (geometric mean ${fmtX(summary.geomeanSpeedup)})`);
    out(`  worst language        ${summary.worst.language} ${fmtX(summary.worst.speedup)}`);
    out(`  best language         ${summary.best.language} ${fmtX(summary.best.speedup)}`);
    out(`  best / worst          ${fmt(summary.maxMinRatio, 2)}`);
    out(`  slower than plain     ${summary.slowerLanguages.length}${summary.slowerLanguages.length > 0 ? ` (${summary.slowerLanguages.join(', ')})` : ''}`);
    out(`  losslessness failures ${summary.losslessnessFailures}`);
    out(`  failed requests       ${summary.errors} (warm-up included)`);
  }
  out(`  elapsed               ${elapsedS.toFixed(1)} s`);

  if (opts.json !== undefined) {
    const report = {
      tool: 'bench/speculative-bench.ts',
      date: startedAt.toISOString(),
      machine: m,
      server: { url: opts.url.origin, model },
      settings: {
        policy, languages: opts.languages, promptsPerLanguage: opts.promptsPerLanguage, repeats: opts.repeats,
        promptBytes: opts.promptBytes, maxTokens: opts.maxTokens, temperature: 0, seed: 0, pinLanguage: opts.pinLanguage,
        timeoutS: opts.timeoutMs / 1000, requestTimeoutS: opts.requestTimeoutMs / 1000,
      },
      stopReason,
      elapsedS,
      summary,
      languages: results,
    };
    writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    out(`raw figures written to ${opts.json}`);
  }
  if (summary === null) return 1;
  return summary.losslessnessFailures > 0 ? 1 : 0;
}

process.exitCode = await main();
