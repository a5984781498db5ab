import t from 'tap';
import { CostEstimate } from '../../src/routing/cost-estimate.js';

t.test('c = drafter ms per token over plain verifier ms per step', async (t) => {
  const costs = new CostEstimate({ halfLifeSteps: 1000 });
  t.equal(costs.costRatio('d'), undefined, 'unknown before timing');
  costs.observePlain(500, 50); // t0 = 10 ms
  costs.observeSpeculative('d', 4, 120, 100, 300, 25); // 1.2 ms per drafted token, 12 ms per verifier step
  t.ok(Math.abs(costs.costRatio('d')! - 0.12) < 1e-12);
  t.ok(Math.abs(costs.verifyCost(4) - 1.2) < 1e-12);
  t.equal(costs.verifyCost(0), 1);
  t.ok(Math.abs(costs.verifyCost(6) - 1.2) < 1e-12, 'an untimed gamma borrows the nearest smaller timed one');
  t.equal(costs.verifyCost(2), 1, 'no smaller gamma timed: the memory-bound value');
  const snap = costs.snapshot();
  t.equal(snap.verifierMsPerStep, 10);
  t.same(Object.keys(snap.verifyCost), ['4']);
  t.equal(snap.drafters.d?.source, 'measured');
});

t.test('offline c until timed; without a plain baseline the cheapest step stands in and v = 1', async (t) => {
  const costs = new CostEstimate({ halfLifeSteps: 1000, offline: { d: 0.2 } });
  t.equal(costs.costRatio('d'), 0.2);
  t.equal(costs.snapshot().drafters.d?.source, 'offline');
  costs.observeSpeculative('d', 3, 50, 100, 240, 20); // 12 ms per step at gamma 3
  costs.observeSpeculative('e', 5, 30, 100, 300, 20); // 15 ms per step at gamma 5
  t.ok(Math.abs(costs.costRatio('d')! - 0.5 / 12) < 1e-12);
  t.equal(costs.verifyCost(5), 1);
});

t.test('a verify step measured cheaper than a plain step counts as v = 1', async (t) => {
  const costs = new CostEstimate({ halfLifeSteps: 1000 });
  costs.observePlain(100, 10);
  costs.observeSpeculative('d', 2, 10, 10, 90, 10);
  t.equal(costs.verifyCost(2), 1);
});

t.test('smoothed: follows a machine that slows down, ignores empty requests', async (t) => {
  const costs = new CostEstimate({ halfLifeSteps: 100 });
  for (let i = 0; i < 20; i++) costs.observePlain(100, 10);
  for (let i = 0; i < 100; i++) costs.observePlain(200, 10); // 10 half-lives at 20 ms
  const t0 = costs.snapshot().verifierMsPerStep!;
  t.ok(t0 > 19.9 && t0 <= 20, `t0 ${t0}`);
  costs.observePlain(0, 0);
  costs.observePlain(Number.NaN, 5);
  t.equal(costs.snapshot().verifierMsPerStep, t0);
});

t.test("a replaced drafter: the old model's c stands in until the new one is timed, which then replaces it", async (t) => {
  const costs = new CostEstimate({ halfLifeSteps: 1e9 });
  costs.observePlain(500, 50); // t0 = 10 ms
  costs.observeSpeculative('d', 4, 2000, 100, 300, 25); // c = 2
  costs.observeSpeculative('e', 4, 100, 100, 300, 25); // c = 0.1
  costs.replaceDrafter('d');
  costs.replaceDrafter('never-timed');
  t.equal(costs.costRatio('d'), 2);
  t.same(costs.snapshot().drafters.d, { msPerToken: 20, costRatio: 2, source: 'previous' });
  t.notOk('never-timed' in costs.snapshot().drafters, 'nothing to replace');
  costs.observeVerify(4, 300, 25);
  t.equal(costs.costRatio('d'), 2, 'a verifier-only observation does not time the drafter');
  costs.observeSpeculative('d', 4, 30, 100, 300, 25); // the new model: c = 0.03
  t.ok(Math.abs(costs.costRatio('d')! - 0.03) < 1e-12, 'replaced outright, not blended with the old model');
  t.equal(costs.snapshot().drafters.d?.source, 'measured');
  costs.observeSpeculative('d', 4, 50, 100, 300, 25);
  t.ok(Math.abs(costs.costRatio('d')! - 0.04) < 1e-6, 'then smoothed as usual');
  t.equal(costs.costRatio('e'), 0.1, 'other drafters untouched');
  t.ok(Math.abs(costs.verifyCost(4) - 1.2) < 1e-12);
});
