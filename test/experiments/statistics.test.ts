// The statistics behind the experiment summary, against published examples and scipy 1.17
// (values printed with repr(), so every digit here came from scipy, not from this code).
import t, { type Test } from 'tap';
import { holmAdjust } from '../../src/experiments/statistics/holm.js';
import { meanEstimate } from '../../src/experiments/statistics/mean-interval.js';
import { normalCdf, normalQuantile } from '../../src/experiments/statistics/normal.js';
import {
  binomialCdf,
  quantile,
  quantileEstimate,
  quantileRanks,
} from '../../src/experiments/statistics/order-statistics.js';
import { RatioSums, ratioInterval } from '../../src/experiments/statistics/ratio-interval.js';
import { Reservoir } from '../../src/experiments/statistics/reservoir.js';
import { RunningMoments, type SampleMoments } from '../../src/experiments/statistics/running-moments.js';
import { incompleteGamma, logGamma, regularizedBeta } from '../../src/experiments/statistics/special-functions.js';
import { studentTCdf, studentTQuantile, studentTTwoSided } from '../../src/experiments/statistics/student-t.js';
import { welchTTest } from '../../src/experiments/statistics/welch.js';
import { wilsonInterval } from '../../src/experiments/statistics/wilson.js';
import { createRandom } from '../../src/engine/random.js';

/** Relative closeness (absolute near zero). */
function close(t: Test, actual: number, expected: number, tolerance: number, what: string) {
  const scale = Math.max(1, Math.abs(expected));
  t.ok(Math.abs(actual - expected) <= tolerance * scale, `${what}: ${actual} ≈ ${expected}`);
}
function relClose(t: Test, actual: number, expected: number, tolerance: number, what: string) {
  t.ok(Math.abs(actual - expected) <= tolerance * Math.abs(expected), `${what}: ${actual} ≈ ${expected}`);
}

function moments(xs: readonly number[]): SampleMoments {
  const m = new RunningMoments();
  for (const x of xs) m.push(x);
  return m.moments();
}

t.test('log Γ, incomplete beta and gamma match scipy.special', async (t) => {
  const gammaln: [number, number][] = [
    [0.1, 2.252712651734206],
    [0.5, 0.5723649429247],
    [1, 0],
    [2.5, 0.2846828704729192],
    [10, 12.801827480081469],
    [171.3, 708.1149470389971],
    [1e5, 1051287.7089736569],
  ];
  for (const [x, y] of gammaln) close(t, logGamma(x), y, 1e-13, `gammaln(${x})`);
  const betainc: [number, number, number, number][] = [
    [0.5, 0.5, 0.3, 0.36901011956554536],
    [2, 3, 0.4, 0.5248],
    [10, 0.5, 0.95, 0.31715157546554495],
    [1000, 20, 0.98, 0.4356425645357233],
    [1024, 1025, 0.5, 0.5088143862024241],
  ];
  for (const [a, b, x, y] of betainc) close(t, regularizedBeta(x, a, b), y, 1e-12, `betainc(${a}, ${b}, ${x})`);
  const gammainc: [number, number, number][] = [
    [0.5, 0.1, 0.34527915398142317],
    [0.5, 2, 0.9544997361036415],
    [3, 2.5, 0.45618688411667035],
    [3, 10, 0.9972306042844884],
    [100, 90, 0.15822098918643007],
  ];
  for (const [a, x, y] of gammainc) close(t, incompleteGamma(a, x).p, y, 1e-13, `gammainc(${a}, ${x})`);
  t.throws(() => logGamma(0), RangeError);
  t.throws(() => regularizedBeta(0.5, 0, 1), RangeError);
});

t.test('normal CDF and quantile (AS 241) match scipy.stats.norm', async (t) => {
  const cdf: [number, number][] = [
    [1.96, 0.9750021048517795],
    [-5, 2.866515718791933e-7],
    [0, 0.5],
    [0.3, 0.6179114221889526],
    [-12, 1.776482112077653e-33],
  ];
  for (const [x, y] of cdf) relClose(t, normalCdf(x), y, 1e-12, `norm.cdf(${x})`);
  const ppf: [number, number][] = [
    [0.975, 1.959963984540054],
    [1e-10, -6.361340902404056], // tail branch r <= 5
    [0.3, -0.5244005127080409], // central branch
    [0.995, 2.5758293035489004],
    [1e-300, -37.0470962993612], // far tail branch r > 5
    [0.9999, 3.719016485455709],
    [0.5 + 1e-9, 2.5066282037387115e-9],
    [0.07, -1.4757910281791706],
  ];
  for (const [p, y] of ppf) relClose(t, normalQuantile(p), y, 1e-14, `norm.ppf(${p})`);
  t.equal(normalQuantile(0), -Infinity);
  t.equal(normalQuantile(1), Infinity);
  for (const p of [0.001, 0.2, 0.5, 0.8, 0.999]) close(t, normalCdf(normalQuantile(p)), p, 1e-14, `Φ(Φ⁻¹(${p}))`);
});

t.test("Student's t CDF, two-sided p and quantiles match scipy.stats.t", async (t) => {
  const cdf: [number, number, number][] = [
    [2, 5, 0.9490302605850708],
    [-1.5, 3.7, 0.10679908460100675],
    [0.3, 1, 0.5927735790777423],
    [10, 2, 0.9950737714883372],
    [-3, 1e5, 0.0013502304420323617],
    [2.5, 40.5, 0.9917170830664682],
  ];
  for (const [x, df, y] of cdf) close(t, studentTCdf(x, df), y, 1e-12, `t.cdf(${x}, ${df})`);
  relClose(t, studentTTwoSided(8, 3), 0.004076577587785466, 1e-11, 'two-sided p, t=8, df=3');
  relClose(t, studentTTwoSided(-30, 10), 3.961792342031325e-11, 1e-9, 'two-sided p keeps tiny values');
  relClose(t, studentTTwoSided(2, 2e7), 0.04550026389635839, 1e-6, 'df beyond 1e7 falls back to the normal');
  const ppf: [number, number, number][] = [
    [0.975, 1, 12.706204736174694],
    [0.975, 10, 2.228138851986274],
    [0.975, 2.5, 3.5746548420036817],
    [0.995, 30, 2.7499956535672254],
    [0.9999999, 1, 3183098.8635132452],
    [0.025, 7, -2.3646242515927844],
  ];
  for (const [p, df, y] of ppf) relClose(t, studentTQuantile(p, df), y, 1e-11, `t.ppf(${p}, ${df})`);
  // At df = 1e6 log Γ(df/2) ≈ 6e6, and its rounding leaves ~1e-10 of relative error.
  relClose(t, studentTQuantile(0.975, 1e6), 1.959966356814107, 1e-9, 't.ppf(0.975, 1e6)');
  t.throws(() => studentTCdf(1, 0), RangeError);
});

t.test('Welch t-test: the two examples of Wikipedia "Welch\'s t-test" (scipy ttest_ind equal_var=False)', async (t) => {
  const a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
  const a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
  // Here control = A2 and treatment = A1, so the statistic has scipy's sign for ttest_ind(A1, A2).
  const r1 = welchTTest(moments(a2), moments(a1))!;
  relClose(t, r1.t, -2.455356398286006, 1e-12, 't');
  relClose(t, r1.df, 24.988529290231416, 1e-12, 'df');
  relClose(t, r1.pValue, 0.021378001462866992, 1e-10, 'p');
  relClose(t, r1.ci.low, -3.984096267140929, 1e-10, 'ci low');
  relClose(t, r1.ci.high, -0.3492370661924069, 1e-10, 'ci high');

  const b1 = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8];
  const b2 = [21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8];
  const r2 = welchTTest(moments(b2), moments(b1))!;
  relClose(t, r2.t, -1.5654335235985037, 1e-12, 't (unequal sizes)');
  relClose(t, r2.df, 9.904741248650831, 1e-12, 'df');
  relClose(t, r2.pValue, 0.14884169660532817, 1e-10, 'p');
  relClose(t, r2.ci.low, -3.698421325375163, 1e-10, 'ci low');

  t.equal(welchTTest(moments([1]), moments([1, 2])), null, 'needs two values per side');
  t.same(welchTTest(moments([2, 2]), moments([2, 2, 2]))!.pValue, 1, 'identical constants');
  t.same(welchTTest(moments([2, 2]), moments([3, 3]))!.pValue, 0, 'different constants');
});

t.test('Wilson intervals: Newcombe (1998) table I, digits from scipy binomtest().proportion_ci("wilson")', async (t) => {
  const cases: [number, number, number, number][] = [
    [81, 263, 0.2552885198782742, 0.36620957698280004],
    [15, 148, 0.06238639953073629, 0.16048724172330803],
    [0, 20, 0, 0.16112515805281935],
    [1, 29, 0.006113214292762667, 0.17175521879320282],
    [29, 29, 0.8830302015002592, 1],
  ];
  for (const [k, n, low, high] of cases) {
    const ci = wilsonInterval(k, n)!;
    close(t, ci.low, low, 1e-12, `${k}/${n} low`);
    close(t, ci.high, high, 1e-12, `${k}/${n} high`);
  }
  t.equal(wilsonInterval(0, 0), null);
  t.throws(() => wilsonInterval(3, 2), RangeError);
  const wider = wilsonInterval(81, 263, 0.99)!;
  t.ok(wider.low < 0.2552885198782742 && wider.high > 0.36620957698280004, '99% is wider than 95%');
});

t.test('mean interval: mean ± t(n−1)·s/√n', async (t) => {
  const e = meanEstimate(moments([1, 2, 3, 4, 5]))!;
  t.equal(e.estimate, 3);
  // scipy: stats.t.interval(0.95, 4, loc=3, scale=stats.sem([1,2,3,4,5]))
  close(t, e.ci!.low, 1.0367568385224428, 1e-12, 'low');
  close(t, e.ci!.high, 4.963243161477557, 1e-12, 'high');
  t.same(meanEstimate(moments([7])), { estimate: 7, ci: null });
  t.equal(meanEstimate(moments([])), null);
});

t.test('order statistics: type-7 quantiles and binomial rank intervals', async (t) => {
  const xs = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5].sort((a, b) => a - b);
  t.equal(quantile(xs, 0.5), 4, 'numpy.percentile(xs, 50)');
  t.equal(quantile(xs, 0.95), 7.5, 'numpy.percentile(xs, 95)');
  t.equal(quantile(xs, 0.1), 1);
  close(t, binomialCdf(40, 100, 0.5), 0.028443966820490444, 1e-12, 'binom.cdf(40, 100, 0.5)');
  close(t, binomialCdf(1940, 2048, 0.95), 0.2986852823970151, 1e-11, 'binom.cdf(1940, 2048, 0.95)');
  // scipy: binom.ppf(0.025, n, q) and binom.ppf(0.975, n, q) + 1
  t.same(quantileRanks(100, 0.5), { lower: 40, upper: 61 }, "Conover's median interval for n = 100");
  t.same(quantileRanks(2048, 0.95), { lower: 1926, upper: 1965 });
  t.same(quantileRanks(2048, 0.5), { lower: 980, upper: 1069 });
  t.equal(quantileRanks(59, 0.95), null, 'ranks 52 and 60 > n: no upper bound yet');
  t.same(quantileRanks(58, 0.5), { lower: 22, upper: 37 });
  t.same(quantileRanks(100, 0.95), { lower: 90, upper: 100 }, 'p95 of 100 values: the upper bound is the maximum');
  const sample = Array.from({ length: 100 }, (_, i) => i + 1);
  t.same(quantileEstimate(sample, 0.5), { estimate: 50.5, ci: { low: 40, high: 61 } });
  t.equal(quantileEstimate([], 0.5), null);
});

t.test('order-statistic interval covers the true median about 95% of the time', async (t) => {
  const random = createRandom(7);
  let covered = 0;
  const trials = 400;
  for (let i = 0; i < trials; i++) {
    const sample = Array.from({ length: 60 }, () => -Math.log(1 - random.next())).sort((a, b) => a - b); // Exp(1)
    const { ci } = quantileEstimate(sample, 0.5)!;
    if (ci!.low <= Math.LN2 && Math.LN2 <= ci!.high) covered++;
  }
  // Guaranteed coverage >= 95%; binomial sd over 400 trials is ~1.1%.
  t.ok(covered / trials >= 0.92, `coverage ${covered}/${trials}`);
});

t.test('running moments: Welford equals the two-pass formulas, and merging equals one stream', async (t) => {
  const xs = [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16];
  const m = moments(xs);
  t.equal(m.mean, 1e9 + 10);
  t.equal(m.variance, 30, 'no catastrophic cancellation around 1e9');
  const a = new RunningMoments();
  const b = new RunningMoments();
  [1, 2, 3].forEach((x) => a.push(x));
  [10, 20].forEach((x) => b.push(x));
  a.merge(b);
  const all = moments([1, 2, 3, 10, 20]);
  t.equal(a.n, 5);
  close(t, a.mean, all.mean, 1e-15, 'merged mean');
  close(t, a.variance, all.variance, 1e-13, 'merged variance');
  t.ok(Number.isNaN(new RunningMoments().mean));
  t.throws(() => a.push(NaN), RangeError);
});

t.test('ratio interval (delta method) against a hand computation', async (t) => {
  const s = new RatioSums();
  const pairs: [number, number][] = [
    [3, 4],
    [1, 4],
    [4, 4],
    [0, 2],
  ];
  for (const [a, d] of pairs) s.push(a, d);
  // R = 8/14; residuals e = a − R·d; se = sd(e) / √n / mean(d)
  const r = 8 / 14;
  const e = pairs.map(([a, d]) => a - r * d);
  const meanE = e.reduce((x, y) => x + y, 0) / e.length;
  const sd = Math.sqrt(e.reduce((acc, x) => acc + (x - meanE) ** 2, 0) / 3);
  const half = 3.1824463052837078 * (sd / 2) / 3.5; // t.ppf(0.975, 3)
  const ci = ratioInterval(s)!;
  close(t, ci.low, r - half, 1e-12, 'low');
  close(t, ci.high, r + half, 1e-12, 'high');
  const one = new RatioSums();
  one.push(1, 2);
  t.equal(ratioInterval(one), null);
});

t.test("Holm's adjustment", async (t) => {
  // sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, then running maximum
  const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005, null]);
  t.equal(adjusted[4], null);
  [0.03, 0.06, 0.06, 0.02].forEach((p, i) => close(t, adjusted[i]!, p, 1e-15, `p${i}`));
  t.same(holmAdjust([0.9, 0.2]), [0.9, 0.4], 'running maximum keeps the order');
  t.same(holmAdjust([0.9, 0.8]), [1, 1], 'never above 1');
});

t.test('reservoir: bounded, uniform, and a seeded stream replays exactly', async (t) => {
  const fill = (seed: number) => {
    const r = new Reservoir(100, createRandom(seed));
    for (let i = 0; i < 10_000; i++) r.push(i);
    return r;
  };
  const r = fill(3);
  t.equal(r.sorted().length, 100);
  t.equal(r.seen, 10_000);
  t.same(r.sorted(), fill(3).sorted(), 'same seed, same sample');
  const mean = r.sorted().reduce((a, b) => a + b, 0) / 100;
  // Uniform sample of 0..9999: mean 4999.5, sd of the mean ~ 2887/10
  t.ok(Math.abs(mean - 4999.5) < 4 * 289, `sample mean ${mean}`);
  t.throws(() => new Reservoir(0, createRandom(1)), RangeError);
});
