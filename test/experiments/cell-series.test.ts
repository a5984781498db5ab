// The cell's sufficient statistics survive the trip through Prometheus series, and the series of
// several processes add up to the cell of one process that served all their requests: the
// cluster read-out and one replica's read-out of the same traffic are the same numbers.

import t from 'tap';
import { createRandom, standardNormal, type RandomSource } from '../../src/engine/random.js';
import { summarise, type ReadoutInput } from '../../src/experiments/analysis.js';
import type { CellStatistics } from '../../src/experiments/cell-statistics.js';
import { CellSeriesReader, cellSeries, COUNT_FAMILIES, referenceSeries, type SeriesSample } from '../../src/experiments/cell-series.js';
import { ExperimentStore } from '../../src/experiments/experiment-store.js';
import { PlainDecodingReference } from '../../src/fairness/plain-reference.js';
import type { RequestOutcome } from '../../src/fairness/request-outcome.js';
import { outcome } from '../fairness/fixtures/outcomes.js';
import { differences } from '../../monitoring/nearly-equal.js';

const DEFINITION = { id: 'ab', arms: [{ name: 'base', drafter: 'd', weight: 1 }, { name: 'scdf', drafter: 'scdf', weight: 1 }] };

/** A random generation: plain (γ = 0) a fifth of the time, else drafting with varied acceptance. */
function randomOutcome(random: RandomSource, speedUp: number): RequestOutcome {
  const tokens = 8 + Math.floor(random.next() * 40);
  const plain = random.next() < 0.2;
  const drafted = plain ? 0 : 4 * Math.ceil(tokens / 3);
  return outcome({
    drafter: plain ? null : 'd',
    tokens,
    totalMs: (tokens * 10 * Math.exp(0.3 * standardNormal(random))) / (plain ? 1 : speedUp),
    drafted,
    accepted: Math.round(drafted * (0.4 + 0.5 * random.next())),
    crossEntropy: 0.5 + random.next(),
    alpha: 0.5 + 0.4 * random.next(),
  });
}

/** `processes` stores (each with its own server reference) fed one stream of traffic round robin, and one store fed all of it. */
function traffic(seed: number, processes: number) {
  const random = createRandom(seed);
  const make = () => {
    const reference = new PlainDecodingReference();
    const store = new ExperimentStore({ reference });
    store.create(DEFINITION, Date.parse('2026-12-08T10:00:00Z'));
    return { reference, store };
  };
  const parts = Array.from({ length: processes }, make);
  const whole = make();
  for (let i = 0; i < 900; i++) {
    const part = parts[i % processes]!;
    const language = ['en', 'de', 'am'][i % 3]!;
    if (i % 4 === 0) {
      const plain = outcome({ drafter: null, tokens: 20, totalMs: 200 * Math.exp(0.2 * standardNormal(random)) });
      part.reference.record(language, plain);
      whole.reference.record(language, plain);
      continue;
    }
    const arm = i % 8 < 4 ? 'base' : 'scdf';
    const o = randomOutcome(random, arm === 'base' ? 1.5 : 1.8);
    part.store.record('ab', arm, language, o);
    whole.store.record('ab', arm, language, o);
  }
  return { parts: parts.map((p) => p.store), whole: whole.store };
}

/** Every series of a store's experiment, as a replica exports them (labels included). */
function exported(store: ExperimentStore, incarnation: string): SeriesSample[] {
  const s = store.statistics('ab');
  return [
    ...s.cells.flatMap(({ arm, language, statistics }) => cellSeries(statistics).map((x) => ({ ...x, labels: { ...x.labels, arm, language, incarnation } }))),
    ...referenceSeries(s.serverReference!).map((x) => ({ ...x, labels: { ...x.labels, incarnation } })),
  ];
}

/** The read-out input a set of series rebuilds, as the cluster read-out builds it. */
function fromSeries(samples: SeriesSample[], template: ReadoutInput): ReadoutInput {
  const reader = new CellSeriesReader();
  const refused = samples.filter((s) => !reader.add(s));
  if (refused.length > 0) throw new Error(`unknown series: ${JSON.stringify(refused.slice(0, 3))}`);
  return { ...template, cells: reader.cells(), serverReference: reader.serverReference, scope: 'cluster', processes: reader.incarnations };
}

/** The sufficient statistics of a cell as plain data (a replica's cell also holds its latency sample). */
function sums(s: CellStatistics): unknown {
  const { counts, timing, plainTiming, acceptanceSums, acceptedPerDraftSums, acceptance, tokensPerStep, latency } = s;
  return JSON.parse(JSON.stringify({ counts, timing, plainTiming, acceptanceSums, acceptedPerDraftSums, acceptance, tokensPerStep, latency }));
}

/** The replica's own input without its latency samples: the histogram then gives its quantiles too. */
function withoutSamples(input: ReadoutInput): ReadoutInput {
  return { ...input, cells: input.cells.map(({ latencySample: _, ...cell }) => cell), scope: 'cluster', processes: 3 };
}

t.test('three processes\' series rebuild the cells of one process that served all their requests', async (t) => {
  const { parts, whole } = traffic(1, 3);
  const samples = parts.flatMap((store, i) => exported(store, `p${i}`));
  const one = whole.snapshot('ab');
  const rebuilt = fromSeries(samples, one);
  t.equal(rebuilt.processes, 3, 'three incarnations');
  const cellOf = (input: ReadoutInput, arm: string, language: string) => input.cells.find((c) => c.arm === arm && c.language === language)!.statistics;
  for (const { arm, language, statistics } of one.cells) {
    const got = cellOf(rebuilt, arm, language);
    t.same(
      [got.counts.requests, got.counts.generatedTokens, got.counts.draftedTokens, got.counts.acceptedTokens, got.timing.n, got.plainTiming.n],
      [statistics.counts.requests, statistics.counts.generatedTokens, statistics.counts.draftedTokens, statistics.counts.acceptedTokens, statistics.timing.n, statistics.plainTiming.n],
      `${arm}/${language}: counts equal exactly`,
    );
    t.same(got.latency.counts, statistics.latency.counts, `${arm}/${language}: histogram equal exactly`);
    t.same(differences(sums(got), sums(statistics), 1e-12), [], `${arm}/${language}: every sum to rounding`);
  }
  t.same(differences(JSON.parse(JSON.stringify(rebuilt.serverReference)), JSON.parse(JSON.stringify(one.serverReference)), 1e-12), [], 'the server reference too');

  const cluster = summarise(rebuilt);
  const single = summarise(withoutSamples(one));
  t.same(differences(cluster, single, 1e-9), [], 'the same read-out, intervals, tests and bootstrap included');
  t.equal(cluster.arms[0]!.languages[0]!.latencyMs.method, 'histogram');
  t.ok(cluster.comparisons.length > 0 && cluster.worstLanguage.length === 1, 'comparisons and the worst-language test exist');
  t.equal(summarise(one).arms[0]!.languages[0]!.latencyMs.method, 'sample', "a replica's own read-out keeps its latency sample");
});

t.test('the series are exactly the sums; anything else is refused', async (t) => {
  const store = new ExperimentStore();
  store.create(DEFINITION);
  store.record('ab', 'base', 'en', outcome({ tokens: 64, totalMs: 320, drafted: 64, accepted: 40 }));
  store.record('ab', 'base', 'en', outcome({ tokens: 32, totalMs: 100, drafted: 32, accepted: 30 }));
  const series = cellSeries(store.statistics('ab').cells[0]!.statistics);
  const value = (name: string, labels: Record<string, string> = {}) =>
    series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  t.equal(value(COUNT_FAMILIES.requests.name), 2);
  t.equal(value(COUNT_FAMILIES.generatedTokens.name), 96);
  t.equal(value('fairspec_experiment_cell_ratio_sums_total', { ratio: 'timing', term: 'ad' }), 64 * 320 + 32 * 100);
  t.equal(value('fairspec_experiment_cell_ratio_sums_total', { ratio: 'acceptance', term: 'dd' }), 64 * 64 + 32 * 32);
  t.equal(value('fairspec_experiment_cell_moment_sums_total', { moment: 'acceptance_rate', term: 'sum_squares' }), (40 / 64) ** 2 + (30 / 32) ** 2);
  t.equal(value('fairspec_experiment_cell_latency_seconds_bucket', { le: '0.1' }), 1, '100 ms is in le 0.1');
  t.equal(value('fairspec_experiment_cell_latency_seconds_bucket', { le: '+Inf' }), 2);
  t.equal(value('fairspec_experiment_cell_latency_seconds_count'), 2);

  const reader = new CellSeriesReader();
  const cell = { arm: 'base', language: 'en' };
  t.notOk(reader.add({ name: 'fairspec_requests_total', labels: cell, value: 1 }), 'another metric');
  t.notOk(reader.add({ name: COUNT_FAMILIES.requests.name, labels: { arm: 'base' }, value: 1 }), 'no language');
  t.notOk(reader.add({ name: 'fairspec_experiment_cell_ratio_sums_total', labels: { ...cell, ratio: 'timing', term: 'zz' }, value: 1 }), 'unknown term');
  t.notOk(reader.add({ name: 'fairspec_experiment_cell_latency_seconds_bucket', labels: { ...cell, le: '0.3' }, value: 1 }), 'not one of the buckets');
});
