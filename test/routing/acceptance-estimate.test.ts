import t from 'tap';
import { AcceptanceEstimate } from '../../src/routing/acceptance-estimate.js';

t.test('the prior alone: Beta(1, 1) by default, or the offline alpha', async (t) => {
  const weak = new AcceptanceEstimate({ halfLifeTokens: 1000 });
  const i = weak.interval();
  t.equal(i.mean, 0.5);
  t.ok(Math.abs(i.sd - Math.sqrt(0.25 / 3)) < 1e-12, 'Beta(1, 1) sd');
  t.same([i.lower, i.upper], [0, 1], 'clipped to [0, 1]');
  const offline = new AcceptanceEstimate({ halfLifeTokens: 1000, prior: 0.7, priorStrength: 64 });
  t.ok(Math.abs(offline.mean - 0.7) < 1e-12);
  t.equal(offline.observedTokens, 0);
});

t.test('forgetting decays observed evidence, not the prior (hand-computed)', async (t) => {
  const e = new AcceptanceEstimate({ halfLifeTokens: 100 });
  e.observe(50, 100);
  t.equal(e.mean, 51 / 102);
  e.observe(0, 100);
  // successes 50 -> 25, failures 50 -> 25 + 100; plus the prior's 1 and 1
  t.ok(Math.abs(e.mean - 26 / 152) < 1e-12);
  t.ok(Math.abs(e.effectiveTokens - 150) < 1e-9);
  t.equal(e.observedTokens, 200);
  t.equal(e.requests, 2);
});

t.test('converges to the fed alpha, with a shrinking interval that covers it', async (t) => {
  const e = new AcceptanceEstimate({ halfLifeTokens: 8192, prior: 0.3, priorStrength: 64 });
  const widths: number[] = [];
  for (let r = 0; r < 200; r++) {
    e.observe(0.63 * 100, 100);
    if (r % 50 === 0) widths.push(e.interval().upper - e.interval().lower);
  }
  const i = e.interval();
  t.ok(Math.abs(i.mean - 0.63) < 0.005, `mean ${i.mean}`);
  t.ok(i.lower < 0.63 && 0.63 < i.upper, `[${i.lower}, ${i.upper}]`);
  t.ok(i.upper - i.lower < 0.03);
  t.same(widths, [...widths].sort((a, b) => b - a), 'narrower with more data');
});

t.test('follows a drafter that degrades: a windowed estimate', async (t) => {
  const e = new AcceptanceEstimate({ halfLifeTokens: 500 });
  for (let r = 0; r < 100; r++) e.observe(80, 100);
  t.ok(Math.abs(e.mean - 0.8) < 0.01);
  for (let r = 0; r < 25; r++) e.observe(30, 100); // 5 half-lives
  // old evidence weighs 2^-5 of the window: mean within 0.5 / 32 of the new value
  t.ok(e.mean > 0.3 && e.mean < 0.3 + 0.5 / 32 + 0.002, `mean ${e.mean}`);
});

t.test('rejects impossible statistics, tolerates rounding', async (t) => {
  const e = new AcceptanceEstimate({ halfLifeTokens: 100 });
  t.throws(() => e.observe(11, 10), RangeError);
  t.throws(() => e.observe(-1, 10), RangeError);
  t.throws(() => e.observe(Number.NaN, 10), RangeError);
  t.throws(() => e.observe(0, -1), RangeError);
  e.observe(10 + 1e-12, 10);
  t.ok(e.mean <= 1);
  e.observe(0, 0);
  t.equal(e.requests, 1, 'an empty request is no observation');
  t.throws(() => new AcceptanceEstimate({ halfLifeTokens: 0 }), RangeError);
  t.throws(() => new AcceptanceEstimate({ halfLifeTokens: 1, prior: 1.5 }), RangeError);
});

t.test('discount: the evidence is capped, its mean and the counts kept (hand-computed)', async (t) => {
  const e = new AcceptanceEstimate({ halfLifeTokens: 1e9 });
  e.observe(180, 200);
  t.ok(Math.abs(e.mean - 181 / 202) < 1e-12);
  e.discount(1000);
  t.ok(Math.abs(e.effectiveTokens - 200) < 1e-9, 'less evidence than the cap: unchanged');
  e.discount(20);
  // successes 180 -> 18, failures 20 -> 2; plus the prior's 1 and 1
  t.ok(Math.abs(e.effectiveTokens - 20) < 1e-9);
  t.ok(Math.abs(e.mean - 19 / 22) < 1e-12);
  t.same([e.observedTokens, e.requests], [200, 1], 'what was seen is still counted');
  e.observe(0, 20);
  t.ok(Math.abs(e.mean - 19 / 42) < 1e-6, 'new observations now weigh as much as all the old ones');
  t.throws(() => e.discount(-1), RangeError);
  t.throws(() => e.discount(Number.NaN), RangeError);
});
