import t from 'tap';
import { createRandom, standardNormal } from '../../src/engine/random.js';
import { histogramQuantileEstimate, LATENCY_BUCKETS_SECONDS, LatencyHistogram } from '../../src/experiments/statistics/latency-histogram.js';
import { quantileEstimate } from '../../src/experiments/statistics/order-statistics.js';

t.test('the buckets: R10 preferred numbers from 10 ms to 1000 s, exported as they are written', async (t) => {
  t.equal(LATENCY_BUCKETS_SECONDS.length, 51);
  t.same(LATENCY_BUCKETS_SECONDS.slice(0, 11), [0.01, 0.0125, 0.016, 0.02, 0.025, 0.0315, 0.04, 0.05, 0.063, 0.08, 0.1]);
  t.equal(LATENCY_BUCKETS_SECONDS.at(-1), 1000);
  t.same(LATENCY_BUCKETS_SECONDS.map(String).map(Number), LATENCY_BUCKETS_SECONDS, 'a label value reads back as the same bound');
  const h = new LatencyHistogram();
  for (const ms of [0, 10, 10.0001, 12.5, 2e6]) h.observe(ms);
  h.observe(NaN);
  h.observe(-1);
  t.same(h.counts.slice(0, 3), [2, 2, 0], 'le is inclusive: 10 ms is in the first bucket, 10.0001 in the second');
  t.equal(h.counts.at(-1), 1, 'beyond 1000 s: +Inf');
  t.equal(h.count, 5, 'NaN and negative times are not counted');
  t.same(h.cumulative().slice(0, 2), [{ le: 0.01, count: 2 }, { le: 0.0125, count: 4 }]);
  t.same(h.cumulative().at(-1), { le: Infinity, count: 5 });
});

t.test("quantiles: histogram_quantile's interpolation, order-statistic intervals widened to bucket edges", async (t) => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 10; i++) h.observe(15); // (12.5, 16]
  for (let i = 0; i < 10; i++) h.observe(30); // (25, 31.5]
  // rank 0.5 · 20 = 10, the whole first bucket: its upper edge.
  t.same(histogramQuantileEstimate(h, 0.5), { estimate: 16, ci: { low: 12.5, high: 31.5 } }, 'ranks 6 and 15 of 20 bound the median');
  const p95 = histogramQuantileEstimate(h, 0.95)!;
  t.ok(Math.abs(p95.estimate - (25 + (6.5 * 9) / 10)) < 1e-12, `rank 19: 9 of the second bucket's 10 (${p95.estimate})`);
  t.equal(p95.ci, null, 'n = 20 is too few for a 95% interval of the 95th percentile (as for a sample)');
  const exact = quantileEstimate([...Array(10).fill(15), ...Array(10).fill(30)], 0.5)!;
  t.ok(exact.ci!.low >= 12.5 && exact.ci!.high <= 31.5, "the sample's own interval lies inside the histogram's");
  t.equal(histogramQuantileEstimate(new LatencyHistogram(), 0.5), null, 'no request, no quantile');
});

t.test('merging adds counts: three histograms are the histogram of the union', async (t) => {
  const random = createRandom(7);
  const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
  const whole = new LatencyHistogram();
  for (let i = 0; i < 3000; i++) {
    const ms = 300 * Math.exp(0.8 * standardNormal(random));
    parts[i % 3]!.observe(ms);
    whole.observe(ms);
  }
  const merged = parts.reduce((a, b) => a.merge(b), new LatencyHistogram());
  t.same(merged.counts, whole.counts);
  t.same(histogramQuantileEstimate(merged, 0.95), histogramQuantileEstimate(whole, 0.95));
});

t.test('the widened interval still covers the true quantile (lognormal, 400 trials of 200)', async (t) => {
  const random = createRandom(11);
  const median = 300;
  let covered = 0;
  const trials = 400;
  for (let trial = 0; trial < trials; trial++) {
    const h = new LatencyHistogram();
    for (let i = 0; i < 200; i++) h.observe(median * Math.exp(0.5 * standardNormal(random)));
    const { ci } = histogramQuantileEstimate(h, 0.5)!;
    if (ci!.low <= median && median <= ci!.high) covered++;
  }
  t.ok(covered / trials >= 0.95, `coverage ${covered}/${trials}`);
});
