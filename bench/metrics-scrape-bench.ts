// What a /metrics scrape costs with many experiments: the server (without its model pack) holds
// --experiments experiments of a plain control and two drafter arms, each with --requests
// synthetic generations in every one of --languages languages, and GET /metrics is timed
// --scrapes times: with the read-outs recomputed on every scrape (FAIRSPEC_READOUT_CACHE_MS=0),
// with them reused for the default interval (src/metrics/readout-cache.ts), and with them computed
// once (what a scrape costs besides the read-outs).
//
//   npx tsx bench/metrics-scrape-bench.ts [--experiments 8] [--languages 32] [--requests 20] [--scrapes 20]

import { parseArgs } from 'node:util';
import { buildApp } from '../app.js';
import { defaultConfig, loadConfig } from '../src/config.js';
import { createRandom } from '../src/engine/random.js';
import { summarise } from '../src/experiments/analysis.js';
import type { RequestOutcome } from '../src/fairness/request-outcome.js';
import { intOption } from './int-option.js';
import { describeMachine } from './machine.js';

const { values } = parseArgs({
  options: { experiments: { type: 'string' }, languages: { type: 'string' }, requests: { type: 'string' }, scrapes: { type: 'string' } },
});
const experiments = intOption('experiments', values.experiments, 8, 1, 16);
const languages = Array.from({ length: intOption('languages', values.languages, 32, 1, 64) }, (_, i) => `l${i}`);
const requests = intOption('requests', values.requests, 20, 2, 10_000);
const scrapes = intOption('scrapes', values.scrapes, 20, 2, 10_000);

const ARMS = [
  { name: 'control', drafter: null, weight: 1 },
  { name: 'base', drafter: 'base', weight: 1 },
  { name: 'scdf', drafter: 'scdf', weight: 1 },
];

function generation(random: { next(): number }, drafter: string | null): RequestOutcome {
  const tokens = 32 + Math.floor(random.next() * 32);
  const drafted = drafter === null ? 0 : tokens;
  const accepted = Math.floor(drafted * (0.4 + 0.4 * random.next()));
  return {
    completionTokens: tokens,
    totalMs: tokens * (drafter === null ? 10 : 5 + 5 * random.next()),
    stats: {
      drafter,
      draftLength: drafter === null ? 0 : 4,
      drafts: Math.ceil(drafted / 4),
      draftedTokens: drafted,
      acceptedTokens: accepted,
      alphaSum: drafted * 0.6,
      crossEntropySum: drafted * random.next(),
      verifierSteps: drafter === null ? tokens : Math.ceil(drafted / 4),
    },
  };
}

async function timeScrapes(readoutCacheMs: number): Promise<{ ms: number[]; readouts: number }> {
  const definitions = Array.from({ length: experiments }, (_, i) => ({ id: `e${i}`, arms: ARMS, enabled: i === 0 }));
  const config = loadConfig({}, { experiments: definitions as never, readoutCacheMs, packDir: defaultConfig.packDir });
  const app = await buildApp(config, { loadModels: false, logger: false });
  await app.ready();
  const random = createRandom(1);
  for (const { id } of definitions) {
    for (const arm of ARMS) {
      for (const language of languages) {
        for (let r = 0; r < requests; r++) app.fairspec.experiments.record(id, arm.name, language, generation(random, arm.drafter));
      }
    }
  }
  const ms: number[] = [];
  for (let i = 0; i < scrapes; i++) {
    ms.push(
      await cpuMs(async () => {
        const res = await app.inject({ method: 'GET', url: '/metrics' });
        if (res.statusCode !== 200) throw new Error(`GET /metrics: ${res.statusCode}`);
      }),
    );
  }
  // What the cache saves on each hit: every experiment's read-out.
  const store = app.fairspec.experiments;
  const readouts = await cpuMs(async () => {
    for (const experiment of store.list()) summarise(store.snapshot(experiment.id));
  });
  await app.close();
  return { ms, readouts };
}

/**
 * CPU time of the process rather than wall time, which other work on a shared machine inflates
 * (a scrape is synchronous work on the event loop).
 */
async function cpuMs(work: () => Promise<void>): Promise<number> {
  const started = process.cpuUsage();
  await work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (x: number) => x.toFixed(1);

console.log(`${describeMachine()}`);
console.log(`${experiments} experiments × ${ARMS.length} arms × ${languages.length} languages, ${requests} generations per cell, ${scrapes} scrapes`);
const modes = [
  ['recomputed every scrape (FAIRSPEC_READOUT_CACHE_MS=0)', 0],
  [`the default (FAIRSPEC_READOUT_CACHE_MS=${defaultConfig.readoutCacheMs})`, defaultConfig.readoutCacheMs],
  ['computed once (FAIRSPEC_READOUT_CACHE_MS=3600000): the cost of a cached scrape', 3_600_000],
] as const;
for (const [label, cacheMs] of modes) {
  const { ms, readouts } = await timeScrapes(cacheMs);
  console.log(`${label}: CPU per scrape: first ${f(ms[0]!)} ms, median ${f(median(ms))} ms, max ${f(Math.max(...ms))} ms; all read-outs once: ${f(readouts)} ms`);
}
