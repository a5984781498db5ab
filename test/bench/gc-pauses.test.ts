import t from 'tap';
import { GcPauses } from '../../bench/gc-pauses.js';

t.test('counts the collector pauses inside a window, and none outside it', async (t) => {
  const pauses = new GcPauses();
  t.teardown(() => pauses.disconnect());
  const start = performance.now();
  // Enough short-lived garbage to need several young-generation collections.
  let keep = 0;
  for (let i = 0; i < 200; i++) keep += new Array(50_000).fill(i).length;
  const end = performance.now();
  t.equal(keep, 200 * 50_000);
  const inside = await pauses.within(start, end);
  t.ok(inside > 0, `pauses inside the window: ${inside} ms`);
  t.ok(inside <= end - start, 'no more than the window itself');
  t.equal(await pauses.within(end + 60_000, end + 120_000), 0, 'a window with no collection in it counts none');
});
