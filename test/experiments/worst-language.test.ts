import t from 'tap';
import { createRandom, standardNormal } from '../../src/engine/random.js';
import { compareWorstLanguages, type LanguageEstimate } from '../../src/experiments/worst-language.js';

const arm = (name: string, estimates: LanguageEstimate[]) => ({ name, estimates });
const m = (language: string, estimate: number, se = 0.02): LanguageEstimate => ({ language, estimate, se });

t.test('a clearly better worst language: positive difference, interval excludes 0, probability near 1', async (t) => {
  const r = compareWorstLanguages(arm('scdf', [m('sw', 1.5), m('en', 2), m('th', 2)]), arm('baseline', [m('sw', 1.2), m('en', 2), m('th', 2)]))!;
  t.same([r.arm, r.control, r.languages, r.draws], ['scdf', 'baseline', 3, 4000]);
  t.same(r.controlWorst, { language: 'sw', speedUp: 1.2 });
  t.same(r.armWorst, { language: 'sw', speedUp: 1.5 });
  t.ok(Math.abs(r.difference - 0.3) < 1e-12);
  // One language decides both minima, so the difference is N(0.3, 0.02² + 0.02²): ±1.96 · 0.0283.
  t.ok(Math.abs(r.ci.low - (0.3 - 0.0554)) < 0.006 && Math.abs(r.ci.high - (0.3 + 0.0554)) < 0.006, `[${r.ci.low}, ${r.ci.high}]`);
  t.equal(r.probabilityHigher, 1);
});

t.test('lifting the worst language while dropping another below it counts as worse', async (t) => {
  const r = compareWorstLanguages(arm('scdf', [m('sw', 1.6), m('th', 1.2)]), arm('baseline', [m('sw', 1.3), m('th', 2)]))!;
  t.same(r.armWorst, { language: 'th', speedUp: 1.2 });
  t.same(r.controlWorst, { language: 'sw', speedUp: 1.3 });
  t.ok(r.difference < 0 && r.ci.high < 0, `difference ${r.difference} [${r.ci.low}, ${r.ci.high}]`);
  t.ok(r.probabilityHigher < 0.001, `P = ${r.probabilityHigher}`);
});

t.test('identical arms with several languages near the minimum: a coin flip, interval around 0', async (t) => {
  const means = [m('a', 1.3, 0.05), m('b', 1.32, 0.05), m('c', 1.35, 0.05), m('d', 2, 0.05)];
  const r = compareWorstLanguages(arm('b', means), arm('a', means))!;
  t.equal(r.difference, 0);
  t.ok(r.ci.low < 0 && r.ci.high > 0);
  t.ok(Math.abs(r.ci.low + r.ci.high) < 0.01, `symmetric: [${r.ci.low}, ${r.ci.high}]`);
  t.ok(Math.abs(r.probabilityHigher - 0.5) < 0.03, `P = ${r.probabilityHigher}`);
});

t.test('only languages both arms measured with a standard error count; none gives null', async (t) => {
  const r = compareWorstLanguages(
    arm('scdf', [m('sw', 1.5), m('en', 2), m('zh', 0.5)]),
    arm('baseline', [m('sw', 1.2), m('en', 2), { language: 'am', estimate: 0.9, se: NaN }]),
  )!;
  t.equal(r.languages, 2, 'zh only in the arm, am without a standard error');
  t.same(r.armWorst.language, 'sw');
  t.same(r.controlWorst.language, 'sw');
  t.equal(compareWorstLanguages(arm('x', [m('sw', 1)]), arm('y', [m('en', 1)])), null);
  t.equal(compareWorstLanguages(arm('x', []), arm('y', [])), null);
  t.throws(() => compareWorstLanguages(arm('x', [m('sw', 1)]), arm('y', [m('sw', 1)]), { draws: 1 }), RangeError);
});

t.test('deterministic: the same means always give the same answer', async (t) => {
  const a = arm('scdf', [m('sw', 1.4, 0.05), m('zh', 1.42, 0.05), m('en', 1.9, 0.05)]);
  const b = arm('baseline', [m('sw', 1.3, 0.05), m('zh', 1.45, 0.05), m('en', 1.9, 0.05)]);
  t.same(compareWorstLanguages(a, b), compareWorstLanguages(a, b));
  const other = compareWorstLanguages(a, b, { seed: 7 })!;
  const first = compareWorstLanguages(a, b)!;
  t.not(other.probabilityHigher, first.probabilityHigher, 'the seed is used');
  t.ok(Math.abs(other.probabilityHigher - first.probabilityHigher) < 0.04, 'and Monte Carlo error is small');
});

t.test('coverage: over simulated experiments the interval holds the true difference of minima about 95% of the time', async (t) => {
  // Truth: control worst sw 1.3, arm worst sw 1.38 (zh 1.45 close behind), others far above.
  const truth = { control: { sw: 1.3, zh: 1.45, en: 2 }, arm: { sw: 1.38, zh: 1.45, en: 2 } };
  const se = 0.04;
  const random = createRandom(42);
  const observe = (means: Record<string, number>) => Object.entries(means).map(([language, mu]) => m(language, mu + se * standardNormal(random), se));
  const experiments = 400;
  let covered = 0;
  for (let i = 0; i < experiments; i++) {
    const r = compareWorstLanguages(arm('arm', observe(truth.arm)), arm('control', observe(truth.control)), { draws: 1000, seed: i })!;
    if (r.ci.low <= 0.08 && 0.08 <= r.ci.high) covered++;
  }
  // Simulated at 1000 experiments per seed this design covers 94-96.5%; 368..394 of 400 is 92-98.5%,
  // about ±3 standard errors of a binomial proportion around 95%.
  t.ok(covered >= 368 && covered <= 394, `${covered}/${experiments} intervals cover the truth`);
});
