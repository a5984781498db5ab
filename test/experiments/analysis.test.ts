import t from 'tap';
import { createRandom, standardNormal, type RandomSource } from '../../src/engine/random.js';
import { summarise, type ExperimentSummary } from '../../src/experiments/analysis.js';
import { ExperimentStore } from '../../src/experiments/experiment-store.js';
import { PlainDecodingReference } from '../../src/fairness/plain-reference.js';
import { outcome } from '../fairness/fixtures/outcomes.js';

const PLAIN_MS_PER_TOKEN = 10;

function binomial(random: RandomSource, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (random.next() < p) k++;
  return k;
}

interface Truth {
  /** True mean speed-up over plain decoding. */
  speedUp: number;
  acceptance: number;
  crossEntropy: number;
}

/** Lognormal noise on a request's time (sd ≈ 20%), the same for plain and speculative requests. */
function requestTime(random: RandomSource, tokens: number, speedUp: number): number {
  return (tokens * PLAIN_MS_PER_TOKEN) / (speedUp * Math.exp(0.2 * standardNormal(random) - 0.02));
}

/**
 * An experiment `control` vs `scdf` where every request of (arm, language) has the given true
 * speed-up (its time with lognormal noise, as plain decoding's), acceptance and per-token
 * cross-entropy. The server's plain requests, `perCell` per language, cost 10 ms per token
 * before the noise, so Σ tokens / Σ ms of an arm over theirs is truly x.speedUp.
 */
function simulate(seed: number, truth: Record<string, { control: Truth; scdf: Truth }>, perCell = 200): ExperimentSummary {
  const random = createRandom(seed);
  const reference = new PlainDecodingReference({ minRequests: 1 });
  const store = new ExperimentStore({ reference });
  store.create({ id: 'ab', arms: [{ name: 'control', drafter: 'base', weight: 1 }, { name: 'scdf', drafter: 'scdf', weight: 1 }] });
  for (const [language, arms] of Object.entries(truth)) {
    for (let i = 0; i < perCell; i++) {
      const tokens = 32 + Math.floor(random.next() * 96);
      reference.record(language, outcome({ drafter: null, tokens, totalMs: requestTime(random, tokens, 1) }));
    }
    for (const [arm, x] of Object.entries(arms)) {
      for (let i = 0; i < perCell; i++) {
        const tokens = 32 + Math.floor(random.next() * 96);
        const totalMs = requestTime(random, tokens, x.speedUp);
        const drafted = 64;
        const accepted = binomial(random, drafted, x.acceptance);
        store.record('ab', arm, language, outcome({ tokens, totalMs, drafted, accepted, crossEntropy: x.crossEntropy }));
      }
    }
  }
  return summarise(store.snapshot('ab'));
}

const same: Truth = { speedUp: 2, acceptance: 0.7, crossEntropy: 0.6 };
const betterOnAmharic = {
  en: { control: same, scdf: same },
  am: { control: { speedUp: 1.2, acceptance: 0.4, crossEntropy: 1.8 }, scdf: { speedUp: 1.5, acceptance: 0.55, crossEntropy: 1.2 } },
};

t.test('arm B strictly better on one language: significant there, not on the other', async (t) => {
  const s = simulate(1, betterOnAmharic);
  t.same(s.languages, ['am', 'en']);
  t.equal(s.control, 'control');
  const am = s.comparisons.find((c) => c.language === 'am')!;
  const en = s.comparisons.find((c) => c.language === 'en')!;
  t.equal(am.arm, 'scdf');
  t.ok(am.speedUp!.significant, `am speed-up p = ${am.speedUp!.pAdjusted}`);
  t.ok(am.speedUp!.ci.low > 0, 'interval of the difference excludes 0');
  t.ok(am.speedUp!.ci.low < 0.3 && 0.3 < am.speedUp!.ci.high, `true difference 0.3 in [${am.speedUp!.ci.low}, ${am.speedUp!.ci.high}]`);
  t.ok(am.acceptanceRate!.significant, `am acceptance p = ${am.acceptanceRate!.pAdjusted}`);
  t.notOk(en.speedUp!.significant, `en speed-up p = ${en.speedUp!.pAdjusted}`);
  t.notOk(en.acceptanceRate!.significant, `en acceptance p = ${en.acceptanceRate!.pAdjusted}`);
  // The same difference on two scales; the speed-up's test also carries the reference's noise.
  const amReference = s.arms[0]!.languages.find((l) => l.language === 'am')!.plainReference!;
  t.ok(Math.abs(am.tokensPerSecond!.difference - (am.speedUp!.difference * 1000) / amReference.msPerToken) < 1e-9);
  t.ok(am.tokensPerSecond!.significant);
  t.ok(am.speedUp!.pAdjusted >= am.speedUp!.pValue, 'Holm never lowers a p-value');

  const control = s.arms[0]!;
  const scdf = s.arms[1]!;
  t.equal(control.share, 0.5);
  t.equal(control.requests, 400);
  const amControl = control.languages.find((l) => l.language === 'am')!;
  t.ok(amControl.speedUp!.ci!.low < 1.2 && 1.2 < amControl.speedUp!.ci!.high, 'speed-up interval covers the truth');
  t.ok(amControl.acceptanceRate!.ci!.low < 0.4 && 0.4 < amControl.acceptanceRate!.ci!.high, 'acceptance interval covers the truth');
  // 10 ms per token over E[1 / noise] = e^0.04.
  t.ok(Math.abs(amControl.plainReference!.msPerToken / (PLAIN_MS_PER_TOKEN * Math.exp(0.04)) - 1) < 0.05, `${amControl.plainReference!.msPerToken} ms per token`);
  t.same([amControl.plainReference!.source, amControl.plainReference!.scope, amControl.plainReference!.requests], ['language', 'server', 200]);

  // Fairness: worst language am in both arms, s-CDF narrows the gap and U.
  t.equal(control.fairness.speedUp!.worst.language, 'am');
  t.ok(scdf.fairness.speedUp!.maxMinRatio! < control.fairness.speedUp!.maxMinRatio!);
  t.ok(Math.abs(control.fairness.unfairness! - 0.36) < 1e-12, 'U = Var(0.6, 1.8)');
  t.ok(Math.abs(scdf.fairness.unfairness! - 0.09) < 1e-12, 'U = Var(0.6, 1.2)');

  // The worst language against the control's: am in both, truly 1.5 vs 1.2.
  t.equal(s.worstLanguage.length, 1);
  const w = s.worstLanguage[0]!;
  t.same([w.arm, w.control, w.languages, w.controlWorst.language, w.armWorst.language], ['scdf', 'control', 2, 'am', 'am']);
  t.equal(w.difference, w.armWorst.speedUp - w.controlWorst.speedUp);
  t.equal(w.armWorst.speedUp, scdf.fairness.speedUp!.worst.value, 'the same minimum as the fairness summary');
  t.ok(w.ci.low > 0 && w.ci.low < 0.3 && 0.3 < w.ci.high, `true difference 0.3 in [${w.ci.low}, ${w.ci.high}]`);
  t.ok(w.probabilityHigher > 0.99, `P(scdf's worst is faster) = ${w.probabilityHigher}`);
});

t.test('the better arm is found in every seed (power at this effect size)', async (t) => {
  for (let seed = 100; seed < 110; seed++) {
    const am = simulate(seed, betterOnAmharic, 100).comparisons.find((c) => c.language === 'am')!;
    t.ok(am.speedUp!.significant, `seed ${seed}: p = ${am.speedUp!.pAdjusted}`);
  }
});

t.test('identical arms: significant in few seeds (family-wise 5%)', async (t) => {
  const identical = { en: { control: same, scdf: same }, am: { control: same, scdf: same } };
  const seeds = 40;
  let falsePositives = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const s = simulate(1000 + seed, identical, 50);
    if (s.comparisons.some((c) => c.speedUp!.significant || c.acceptanceRate!.significant)) falsePositives++;
  }
  // Two families each controlled at 5%: expect ≤ ~4 of 40; P(more than 8) is below 1%.
  t.ok(falsePositives <= 8, `${falsePositives}/${seeds} seeds with a significant difference`);
});

t.test('known values: Wilson interval, exact speed-ups, order-statistic latency interval', async (t) => {
  const reference = new PlainDecodingReference({ minRequests: 1 });
  reference.record('en', outcome({ drafter: null, tokens: 10, totalMs: 1 }));
  const store = new ExperimentStore({ reference });
  store.create({ id: 'k', arms: [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }] });
  // The server's plain requests since the experiment began (not the one before): 10 ms per token.
  for (let i = 0; i < 2; i++) reference.record('en', outcome({ drafter: null, tokens: 10, totalMs: 100 }));
  // One request drafting 263 tokens with 81 accepted: Newcombe (1998) 81/263.
  store.record('k', 'a', 'en', outcome({ tokens: 100, totalMs: 500, drafted: 263, accepted: 81, drafts: 66, steps: 50 }));
  // 100 requests of speed-up exactly 2 with latencies 1..100 ms.
  for (let ms = 1; ms <= 100; ms++) store.record('k', 'b', 'en', outcome({ tokens: ms / 5, totalMs: ms, drafted: 8, accepted: 4, drafts: 2, steps: 4 }));
  const s = summarise(store.snapshot('k'));
  const a = s.arms[0]!.languages[0]!;
  t.equal(s.arms[0]!.share, 0.75);
  t.equal(a.acceptanceRate!.estimate, 81 / 263);
  t.ok(Math.abs(a.acceptanceRate!.ci!.low - 0.2552885198782742) < 1e-12);
  t.ok(Math.abs(a.acceptanceRate!.ci!.high - 0.36620957698280004) < 1e-12);
  t.equal(a.acceptanceRate!.ciClustered, null, 'one request: no request-level interval');
  t.same(a.meanAcceptedLength, { estimate: 1 + 81 / 66, ci: null }, 'one request: no interval');
  t.same(a.tokensPerStep, { estimate: 2, ci: null });
  t.same(a.speedUp, { estimate: 2, ci: null, se: null }, '100 tokens in 500 ms where plain takes 1000 ms');
  t.same(a.plainReference, { msPerToken: 10, source: 'language', requests: 2, scope: 'server' });
  t.equal(a.latencyMs.p95!.ci, null, 'one sample');
  t.same(s.worstLanguage, [], 'one control request has no standard error: no worst-language comparison');

  const b = s.arms[1]!.languages[0]!;
  t.same(b.speedUp!.estimate, 2);
  // Sums of squares cancel to rounding, not to 0.
  t.ok(Math.abs(b.speedUp!.ci!.high - 2) < 1e-6 && Math.abs(b.speedUp!.ci!.low - 2) < 1e-6, 'no spread, no width');
  t.same(b.latencyMs.p50, { estimate: 50.5, ci: { low: 40, high: 61 } });
  t.same(b.latencyMs.p95!.ci, { low: 90, high: 100 });
  t.equal(b.latencyMs.samples, 100);
  t.same(b.tokensPerSecond!.estimate, 200);
  t.equal(b.acceptanceRate!.ciClustered!.low, 0.5, 'every request accepted half: clustered interval has no width');
  t.same(b.meanAcceptedLength, { estimate: 3, ci: { low: 3, high: 3 } }, 'every request accepted 2 per draft: no width');
  const cmp = s.comparisons[0]!;
  t.equal(cmp.tokensPerSecond, null, 'the control has a single request: no test');
  t.equal(s.arms[1]!.fairness.speedUp!.mean, 2);
});

t.test("plain arms against the experiment's plain share: one reads 1 exactly, two average to 1", async (t) => {
  const random = createRandom(78);
  const store = new ExperimentStore({ reference: new PlainDecodingReference() });
  store.create({
    id: 'aa',
    arms: [
      { name: 'a', drafter: null, weight: 1 },
      { name: 'b', drafter: null, weight: 1 },
      { name: 'fast', drafter: 'd', weight: 1 },
    ],
  });
  for (let i = 0; i < 60; i++) {
    for (const language of ['en', 'ja'] as const) {
      const tokens = 8 + Math.floor(random.next() * 41);
      store.record('aa', 'a', language, outcome({ drafter: null, tokens, totalMs: requestTime(random, tokens, 1) }));
      if (language === 'en') store.record('aa', 'b', language, outcome({ drafter: null, tokens, totalMs: requestTime(random, tokens, 1) }));
      store.record('aa', 'fast', language, outcome({ tokens, totalMs: requestTime(random, tokens, 2) }));
    }
  }
  const s = summarise(store.snapshot('aa'));
  const cell = (arm: string, language: string) => s.arms.find((x) => x.name === arm)!.languages.find((c) => c.language === language)!;
  const ja = cell('a', 'ja').speedUp!;
  t.equal(ja.estimate, 1, "ja's only plain arm is its reference");
  t.same([ja.ci!.low, ja.ci!.high].map((x) => Math.round(x * 1e9) / 1e9), [1, 1], 'and has no width');
  const [a, b] = [cell('a', 'en'), cell('b', 'en')];
  const weights = [a, b].map((c) => c.generatedTokens / c.speedUp!.estimate);
  const average = (weights[0]! * a.speedUp!.estimate + weights[1]! * b.speedUp!.estimate) / (weights[0]! + weights[1]!);
  t.ok(Math.abs(average - 1) < 1e-12, `en: the two plain arms' time-weighted average is 1 (${a.speedUp!.estimate}, ${b.speedUp!.estimate})`);
  for (const c of [a, b]) t.ok(c.speedUp!.ci!.low < 1 && 1 < c.speedUp!.ci!.high, `${c.speedUp!.estimate} [${c.speedUp!.ci!.low}, ${c.speedUp!.ci!.high}] covers 1`);
  t.equal(a.plainReference!.scope, 'experiment');
  const fast = cell('fast', 'en').speedUp!;
  t.ok(fast.ci!.low < 2 && 2 < fast.ci!.high, `the drafted arm: 2 in [${fast.ci!.low}, ${fast.ci!.high}]`);
  const ab = s.comparisons.find((c) => c.arm === 'b' && c.language === 'en')!;
  t.notOk(ab.speedUp!.significant, `A/A: p = ${ab.speedUp!.pValue}`);
});

t.test('mean accepted length: 1 + the request-clustered interval of accepted / drafts', async (t) => {
  const store = new ExperimentStore({ reference: new PlainDecodingReference({ minRequests: 1 }) });
  store.create({ id: 'm', arms: [{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }] });
  // accepted / drafts per request 2/2, 4/2, 6/2: R = 2, residuals -2, 0, 2, s² = 4,
  // half-width t(0.975, 2) · sqrt(4 / 3) / 2.
  for (const accepted of [2, 4, 6]) store.record('m', 'a', 'en', outcome({ drafted: 8, accepted, drafts: 2 }));
  const length = summarise(store.snapshot('m')).arms[0]!.languages[0]!.meanAcceptedLength!;
  const half = (4.302652729911275 * Math.sqrt(4 / 3)) / 2;
  t.equal(length.estimate, 3);
  t.ok(Math.abs(length.ci!.high - (3 + half)) < 1e-9, `upper bound ${length.ci!.high}`);
  t.equal(length.ci!.low, 1, 'the lower bound never goes below 1 (no accepted token)');
});

t.test('without a plain reference speed-up is unknown but tokens/s are not', async (t) => {
  const store = new ExperimentStore();
  store.create({ id: 'n', arms: [{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }] });
  for (let i = 0; i < 5; i++) {
    store.record('n', 'a', 'en', outcome({ totalMs: 300 + i }));
    store.record('n', 'b', 'en', outcome({ totalMs: 200 + i }));
  }
  const s = summarise(store.snapshot('n'));
  const cell = s.arms[0]!.languages[0]!;
  t.equal(cell.speedUp, null);
  t.equal(cell.plainReference, null);
  t.ok(cell.tokensPerSecond!.ci);
  t.equal(s.comparisons[0]!.speedUp, null);
  t.ok(s.comparisons[0]!.tokensPerSecond!.significant);
  t.equal(s.arms[0]!.fairness.speedUp, null);
  t.throws(() => summarise(store.snapshot('n'), { confidence: 1 }), RangeError);
});

t.test('an arm without traffic in a language has no comparison result', async (t) => {
  const store = new ExperimentStore();
  store.create({ id: 'm', arms: [{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }, { name: 'c', weight: 1 }] });
  for (let i = 0; i < 3; i++) {
    store.record('m', 'a', 'en', outcome({ totalMs: 300 + i }));
    store.record('m', 'b', 'en', outcome({ totalMs: 200 + i }));
  }
  const s = summarise(store.snapshot('m'));
  t.same(s.comparisons.map((c) => [c.arm, c.language]), [['b', 'en'], ['c', 'en']]);
  t.equal(s.comparisons[1]!.tokensPerSecond, null);
  t.same(s.arms[2]!.languages, []);
  t.equal(s.arms[2]!.requests, 0);
  t.ok(JSON.stringify(s), 'serialisable');
});
