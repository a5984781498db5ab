import t from 'tap';
import { bestDraftLength, expectedTokens, speedup } from '../../src/routing/speedup.js';

t.test('E and S against hand-computed values', async (t) => {
  // E(0.8, 4) = (1 - 0.8^5) / 0.2 = (1 - 0.32768) / 0.2 = 3.3616
  t.ok(Math.abs(expectedTokens(0.8, 4) - 3.3616) < 1e-12);
  t.equal(expectedTokens(0, 5), 1, 'nothing accepted: the corrected token only');
  t.equal(expectedTokens(1, 3), 4, 'everything accepted: gamma + the bonus token');
  // S = 3.3616 / (4 * 0.1 + 1) = 2.401142857...; with v(4) = 1.2: 3.3616 / 1.6 = 2.101
  t.ok(Math.abs(speedup(0.8, 4, 0.1) - 2.401142857142857) < 1e-12);
  t.ok(Math.abs(speedup(0.8, 4, 0.1, 1.2) - 2.101) < 1e-12);
  t.equal(speedup(0.3, 0, 0.5), 1, 'gamma 0 is plain decoding');
  t.equal(speedup(0.3, 0, 0.5, 3), 1, 'whatever v is given');
});

t.test('gamma* against hand-computed values', async (t) => {
  // alpha 0.8, c 0.1: S(5) = 3.68928 / 1.5 = 2.45952, S(6) = 3.951424 / 1.6 = 2.46964, S(7) = 4.1611392 / 1.7 = 2.44773
  const best = bestDraftLength(0.8, 0.1, 8);
  t.equal(best.draftLength, 6);
  t.ok(Math.abs(best.speedup - 2.46964) < 1e-12);
  t.equal(bestDraftLength(0.8, 0.1, 4).draftLength, 4, 'capped at maxDraftLength');
  // S(1) = (1 + alpha) / (c + 1) > 1 exactly when alpha > c, and no longer gamma can help then
  t.same(bestDraftLength(0.2, 0.3, 8), { draftLength: 0, speedup: 1 });
  t.same(bestDraftLength(0.3, 0.3, 8), { draftLength: 0, speedup: 1 }, 'S = 1 is no gain');
  t.equal(bestDraftLength(0.35, 0.3, 8).draftLength, 1);
});

t.test('gamma* grows with alpha and shrinks with verification cost', async (t) => {
  const gammas = [0.3, 0.5, 0.7, 0.9, 0.97].map((a) => bestDraftLength(a, 0.05, 16).draftLength);
  t.same(gammas, [...gammas].sort((a, b) => a - b));
  t.ok(gammas[0]! < gammas.at(-1)!);
  const flat = bestDraftLength(0.8, 0.05, 16).draftLength;
  const steep = bestDraftLength(0.8, 0.05, 16, (g) => 1 + 0.1 * g).draftLength;
  t.ok(steep < flat, `v growing with gamma: ${steep} < ${flat}`);
});
