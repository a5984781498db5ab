import t from 'tap';
import { createRandom, standardNormal } from '../../src/engine/random.js';

t.test('standardNormal: mean 0, variance 1, 5% beyond ±1.96, same seed same draws', async (t) => {
  const n = 40_000;
  const random = createRandom(3);
  const xs = Array.from({ length: n }, () => standardNormal(random));
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const tails = xs.filter((x) => Math.abs(x) > 1.959964).length / n;
  // Standard errors: mean 0.005, variance 0.007, tail share 0.0011; the bounds are about 4 of them.
  t.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  t.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`);
  t.ok(Math.abs(tails - 0.05) < 0.0045, `share beyond ±1.96: ${tails}`);
  const again = createRandom(3);
  t.same(Array.from({ length: 5 }, () => standardNormal(again)), xs.slice(0, 5));
});
