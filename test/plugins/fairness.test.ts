// The live fairness gauges on the fixture pack: every completed generation feeds the window, and
// /metrics exports its per-language speed-up and K_L, the worst language, max/min and U.

import t from 'tap';
import { buildTestApp, completionBody, sample, withoutModelName } from '../helpers/build-app.js';

t.test('no traffic, no fairness samples (not zeros)', async (t) => {
  const app = await buildTestApp(t);
  const metrics = withoutModelName((await app.inject({ method: 'GET', url: '/metrics' })).body);
  t.match(metrics, /^# TYPE fairspec_fairness_worst_speedup gauge$/m);
  t.notMatch(metrics, /^fairspec_fairness_/m);
});

t.test('plain and speculative traffic in two languages: gauges from the window', async (t) => {
  const app = await buildTestApp(t);
  const post = (body: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ max_tokens: 10, ...body }) });
  for (const language of ['en', 'fr']) {
    for (let i = 0; i < 3; i++) {
      t.equal((await post({ language, speculative: { draft_length: 0 } })).statusCode, 200);
      t.equal((await post({ language, n: 2 })).statusCode, 200);
    }
  }
  const s = app.fairspec.fairness.snapshot();
  t.same(s.languages.map((l) => [l.language, l.requests]), [['en', 9], ['fr', 9]], 'one record per generation: 3 plain + 3 × n = 2');
  const metrics = withoutModelName((await app.inject({ method: 'GET', url: '/metrics' })).body);
  for (const l of s.languages) {
    t.equal(sample(metrics, `fairspec_fairness_speedup{language="${l.language}"}`), l.speedUp, `${l.language} speed-up`);
    t.equal(sample(metrics, `fairspec_fairness_cross_entropy{language="${l.language}"}`), l.crossEntropy, `${l.language} K_L`);
  }
  t.equal(sample(metrics, 'fairspec_fairness_worst_speedup'), s.fairness.speedUp!.worst.value);
  t.equal(sample(metrics, 'fairspec_fairness_speedup_max_min_ratio'), s.fairness.speedUp!.maxMinRatio);
  t.equal(sample(metrics, 'fairspec_fairness_cross_entropy_variance'), s.fairness.unfairness);
  t.ok(s.fairness.unfairness! >= 0);
});
