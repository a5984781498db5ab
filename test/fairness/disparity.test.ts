import t from 'tap';
import { disparity, fairnessSummary, populationVariance } from '../../src/fairness/disparity.js';

const v = (language: string, value: number) => ({ language, value });

t.test('disparity of speed-ups: mean, worst, max/min, cv', async (t) => {
  const d = disparity([v('en', 2.4), v('am', 1.2), v('fr', 2.4), v('sw', 1.6)])!;
  t.equal(d.languages, 4);
  t.equal(d.mean, 1.9);
  t.same(d.worst, { language: 'am', value: 1.2 });
  t.same(d.best, { language: 'en', value: 2.4 }, 'ties go to the first language in sort order');
  t.equal(d.maxMinRatio, 2);
  // population sd: deviations 0.5, −0.7, 0.5, −0.3 -> var = (0.25 + 0.49 + 0.25 + 0.09) / 4 = 0.27
  t.ok(Math.abs(d.sd - Math.sqrt(0.27)) < 1e-12);
  t.ok(Math.abs(d.cv! - Math.sqrt(0.27) / 1.9) < 1e-12);
});

t.test('lower-is-better, degenerate and empty inputs', async (t) => {
  const k = disparity([v('en', 1), v('am', 3)], { higherIsBetter: false })!;
  t.same(k.worst, { language: 'am', value: 3 });
  t.same(k.best, { language: 'en', value: 1 });
  const one = disparity([v('en', 2)])!;
  t.same([one.sd, one.cv, one.maxMinRatio], [0, 0, 1]);
  t.equal(disparity([v('a', 0), v('b', 1)])!.maxMinRatio, null, 'no ratio over a zero');
  t.equal(disparity([v('a', 0), v('b', 0)])!.cv, null, 'no cv of a zero mean');
  t.equal(disparity([v('a', NaN)]), null, 'non-finite values are skipped');
  t.equal(disparity([]), null);
});

t.test('population variance divides by n', async (t) => {
  t.equal(populationVariance([1, 2, 3, 4]), 1.25);
  t.ok(Number.isNaN(populationVariance([])));
});

t.test('fairness summary: U = population variance of K_L; unknown left out by default', async (t) => {
  const s = fairnessSummary([
    { language: 'en', speedUp: 2, crossEntropy: 0.5 },
    { language: 'am', speedUp: 1, crossEntropy: 1.5 },
    { language: 'other', speedUp: 1.5, crossEntropy: 1 },
    { language: 'unknown', speedUp: 0.1, crossEntropy: 9 },
    { language: 'xx', speedUp: null, crossEntropy: null },
  ]);
  t.equal(s.speedUp!.languages, 3);
  t.same(s.speedUp!.worst, { language: 'am', value: 1 });
  t.equal(s.speedUp!.mean, 1.5);
  t.equal(s.unfairness, 1 / 6, 'Var(0.5, 1.5, 1) = 1/6');
  t.same(s.crossEntropy!.worst, { language: 'am', value: 1.5 });
  const all = fairnessSummary([{ language: 'unknown', speedUp: 1, crossEntropy: 2 }], { exclude: [] });
  t.equal(all.speedUp!.languages, 1);
  t.same(fairnessSummary([]), { speedUp: null, crossEntropy: null, unfairness: null });
});
