// An A/A experiment through the HTTP API: does the read-out's speed-up read 1.00 for plain decoding?
// Against a running fairspec (it starts nothing), it creates an experiment of two plain arms
// (drafter null) through the admin API, sends sampled requests from many users in pinned
// languages with max_tokens drawn from a range, and prints each arm × language speed-up with its
// interval from GET /v1/experiments/{id}, how many intervals exclude 1, their mean, and the
// per-language tests of the two arms. Both arms decode plainly, so every figure's truth is 1 (or
// a difference of 0): at 95% about 1 interval in 20 excludes it.
//
//   npm run build && FAIRSPEC_ADMIN_TOKEN=t PORT=8123 node dist/server.js        (terminal 1)
//   FAIRSPEC_ADMIN_TOKEN=t npx tsx bench/aa-experiment.ts --url http://127.0.0.1:8123
//
// No other experiment may be enabled (the server runs one at a time). The experiment is deleted
// at the end unless --keep. Exit status 1 when the mean is more than 0.05 from 1 or more than
// one cell in 10 excludes 1.

import { parseArgs } from 'node:util';
import { createRandom } from '../src/engine/random.js';
import type { ExperimentSummaryBody } from '../src/wire/experiments.js';
import { intOption } from './int-option.js';
import { parseLoopbackUrl } from './loopback-url.js';
import { describeMachine } from './machine.js';
import { benchPrompts, EVALUATION_LANGUAGES, MAX_PROMPTS_PER_LANGUAGE } from './prompts.js';
import { UsageError } from './usage-error.js';

const USAGE = `Usage: FAIRSPEC_ADMIN_TOKEN=... npx tsx bench/aa-experiment.ts [options]

  --url URL            running fairspec, on this machine (default http://127.0.0.1:8000)
  --requests N         requests to send (default 500)
  --languages a,b,...  pinned languages, picked uniformly (default en,de,ru,ja,ar,zh)
  --min-tokens N       smallest max_tokens (default 8)
  --max-tokens N       largest max_tokens; each request draws one uniformly (default 48)
  --users N            simulated users, split between the arms by the server (default 1000)
  --in-flight N        requests sent at once (default 2)
  --id ID              experiment id (default aa-<time>)
  --seed N             seed of languages, users, lengths and sampling (default 1)
  --keep               leave the experiment on the server
  -h, --help`;

type Readout = ExperimentSummaryBody;
type Estimate = Readout['arms'][number]['languages'][number]['speed_up'];

interface Options {
  url: URL;
  requests: number;
  languages: string[];
  minTokens: number;
  maxTokens: number;
  users: number;
  inFlight: number;
  id: string;
  seed: number;
  keep: boolean;
  token: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8000' },
      requests: { type: 'string' },
      languages: { type: 'string', default: 'en,de,ru,ja,ar,zh' },
      'min-tokens': { type: 'string' },
      'max-tokens': { type: 'string' },
      users: { type: 'string' },
      'in-flight': { type: 'string' },
      id: { type: 'string' },
      seed: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const token = process.env.FAIRSPEC_ADMIN_TOKEN;
  if (!token) throw new UsageError('FAIRSPEC_ADMIN_TOKEN must hold the server admin token');
  const languages = values.languages.split(',').map((l) => l.trim()).filter((l) => l !== '');
  const unknown = languages.filter((l) => !EVALUATION_LANGUAGES.includes(l));
  if (languages.length === 0 || unknown.length > 0) throw new UsageError(`--languages: no prompts for ${unknown.join(',') || '(none given)'}`);
  const minTokens = intOption('min-tokens', values['min-tokens'], 8, 1, 4096);
  return {
    url: parseLoopbackUrl(values.url),
    requests: intOption('requests', values.requests, 500, 2, 1_000_000),
    languages,
    minTokens,
    maxTokens: intOption('max-tokens', values['max-tokens'], 48, minTokens, 4096),
    users: intOption('users', values.users, 1000, 2, 1_000_000),
    inFlight: intOption('in-flight', values['in-flight'], 2, 1, 64),
    id: values.id ?? `aa-${Date.now()}`,
    seed: intOption('seed', values.seed, 1, 0, 2 ** 31),
    keep: values.keep,
    token,
  };
}

async function call<T>(o: Options, method: string, path: string, body?: unknown): Promise<T> {
  const reply = await fetch(new URL(path, o.url), {
    method,
    headers: { authorization: `Bearer ${o.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await reply.text();
  if (!reply.ok) throw new Error(`${method} ${path}: ${reply.status} ${text}`);
  return JSON.parse(text) as T;
}

const fixed = (x: number, digits = 3): string => x.toFixed(digits);
const excludesOne = (e: Estimate): boolean => e?.ci != null && (e.ci.low > 1 || e.ci.high < 1);

async function main(): Promise<void> {
  const o = parseOptions();
  const started = new Date();
  process.stdout.write(`aa-experiment  ${started.toISOString()}  ${describeMachine()}\n`);
  const models = await call<{ data: { id: string }[] }>(o, 'GET', '/v1/models');
  const model = models.data[0]?.id;
  if (model === undefined) throw new Error('GET /v1/models lists no model');

  await call(o, 'POST', '/v1/experiments', {
    id: o.id,
    description: 'A/A: two plain arms; every speed-up is truly 1',
    arms: [
      { name: 'plain-a', drafter: null, weight: 1 },
      { name: 'plain-b', drafter: null, weight: 1 },
    ],
  });
  process.stdout.write(
    `experiment ${o.id}: arms plain-a, plain-b (drafter null); ${o.requests} requests, languages ${o.languages.join(',')} pinned, ` +
      `max_tokens ${o.minTokens}..${o.maxTokens}, temperature 1, ${o.users} users, ${o.inFlight} in flight\n`,
  );

  try {
    const random = createRandom(o.seed);
    const prompts = new Map(o.languages.map((l) => [l, benchPrompts(l, MAX_PROMPTS_PER_LANGUAGE).prompts.map((p) => p.text)]));
    const jobs = Array.from({ length: o.requests }, (_, i) => {
      const language = o.languages[Math.floor(random.next() * o.languages.length)]!;
      const list = prompts.get(language)!;
      return {
        model,
        language,
        prompt: list[i % list.length]!,
        max_tokens: o.minTokens + Math.floor(random.next() * (o.maxTokens - o.minTokens + 1)),
        temperature: 1,
        seed: o.seed * 1_000_003 + i,
        user: `aa-user-${Math.floor(random.next() * o.users)}`,
      };
    });
    let next = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const reply = await fetch(new URL('/v1/completions', o.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(job),
          signal: AbortSignal.timeout(300_000),
        });
        await reply.arrayBuffer();
        if (!reply.ok) failed++;
      }
    };
    const sendStart = performance.now();
    await Promise.all(Array.from({ length: o.inFlight }, worker));
    process.stdout.write(`sent ${jobs.length} in ${((performance.now() - sendStart) / 1000).toFixed(0)} s, ${failed} failed\n\n`);

    report(await call<Readout>(o, 'GET', `/v1/experiments/${encodeURIComponent(o.id)}`), o);
  } finally {
    if (!o.keep) await call(o, 'DELETE', `/v1/experiments/${encodeURIComponent(o.id)}`);
  }
}

function report(readout: Readout, o: Options): void {
  const rows: string[][] = [['arm', 'language', 'n', 'speed-up', '95% interval', 'excludes 1', 'reference (n, scope)']];
  const estimates: number[] = [];
  let excluding = 0;
  let cells = 0;
  for (const arm of readout.arms) {
    for (const c of arm.languages) {
      const s = c.speed_up;
      cells++;
      if (s !== null) estimates.push(s.estimate);
      if (excludesOne(s)) excluding++;
      const ref = c.plain_reference;
      rows.push([
        arm.name,
        c.language,
        String(c.requests),
        s ? fixed(s.estimate) : '-',
        s?.ci ? `[${fixed(s.ci.low)}, ${fixed(s.ci.high)}]` : '-',
        excludesOne(s) ? 'YES' : 'no',
        ref ? `${ref.requests}, ${ref.scope}/${ref.source}` : '-',
      ]);
    }
  }
  table(rows);
  const mean = estimates.reduce((a, b) => a + b, 0) / estimates.length;
  process.stdout.write(`\ncells: ${cells}; intervals excluding 1: ${excluding} of ${cells}; mean speed-up over cells ${fixed(mean, 4)}\n\n`);

  const tests: string[][] = [['language', 'plain-b − plain-a', '95% interval', 'p', 'p (Holm)', 'tokens/s p (Holm)']];
  for (const c of readout.comparisons) {
    const s = c.speed_up;
    tests.push([
      c.language,
      s ? fixed(s.difference) : '-',
      s ? `[${fixed(s.ci.low)}, ${fixed(s.ci.high)}]` : '-',
      s ? fixed(s.p_value) : '-',
      s ? `${fixed(s.p_adjusted)}${s.significant ? ' *' : ''}` : '-',
      c.tokens_per_second ? `${fixed(c.tokens_per_second.p_adjusted)}${c.tokens_per_second.significant ? ' *' : ''}` : '-',
    ]);
  }
  table(tests);
  for (const w of readout.worst_language) {
    process.stdout.write(`\nworst language, plain-b − plain-a: ${fixed(w.difference)} [${fixed(w.ci.low)}, ${fixed(w.ci.high)}], P(higher) ${fixed(w.probability_higher)}\n`);
  }
  const significant = readout.comparisons.filter((c) => c.speed_up?.significant).length;
  const ok = Math.abs(mean - 1) <= 0.05 && excluding <= Math.ceil(cells / 10);
  process.stdout.write(
    `\nverdict: ${ok ? 'ok' : 'NOT OK'} (mean within 0.05 of 1: ${Math.abs(mean - 1) <= 0.05}; at most ${Math.ceil(cells / 10)} of ${cells} excluding 1: ` +
      `${excluding <= Math.ceil(cells / 10)}); significant arm differences after Holm: ${significant} of ${readout.comparisons.length}` +
      `${o.keep ? `; experiment ${o.id} kept` : ''}\n`,
  );
  if (!ok) process.exitCode = 1;
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`aa-experiment: ${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`aa-experiment: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
