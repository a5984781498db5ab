// A failing drafter's cool-down (src/routing/drafter-health.ts) and how routing goes around it.

import t from 'tap';
import { DrafterHealth } from '../../src/routing/drafter-health.js';
import { FaultWindow } from '../../src/fault-window.js';

t.test('a fault starts a cool-down; faults within it are one burst; it ends on its own', async (t) => {
  let now = 0;
  const health = new DrafterHealth({ coolDownMs: 1000, now: () => now });
  t.equal(health.failing('a'), false);
  t.equal(health.failed('a'), true, 'the first fault starts a burst');
  now = 500;
  t.equal(health.failing('a'), true);
  t.equal(health.failing('b'), false, 'per drafter');
  t.equal(health.failed('a'), false, 'a fault within the cool-down: the same burst');
  now = 1400;
  t.equal(health.failing('a'), true, 'the cool-down runs from the last fault');
  now = 1500;
  t.equal(health.failing('a'), false, 'over');
  t.equal(health.failed('a'), true, 'a new burst');
  health.reset('a');
  t.equal(health.failing('a'), false, 'a new model starts clean');
  t.throws(() => new DrafterHealth({ coolDownMs: -1 }), RangeError);
});

t.test('FaultWindow: threshold faults within the window make it failing; it recovers as they age', async (t) => {
  let now = 0;
  const w = new FaultWindow({ threshold: 3, windowMs: 1000, now: () => now });
  w.record();
  now = 100;
  w.record();
  t.equal(w.failing, false);
  now = 900;
  w.record();
  t.equal(w.recent, 3);
  t.equal(w.failing, true);
  now = 1050;
  t.equal(w.failing, false, 'the first fault left the window');
  t.equal(w.recent, 2);
  t.throws(() => new FaultWindow({ threshold: 0 }), RangeError);
});
