import t from 'tap';
import { draftAgreement } from '../../src/engine/draft-agreement.js';
import { createRandom } from '../../src/engine/random.js';
import { residual, verifyGreedy, verifySampled } from '../../src/engine/rejection.js';
import { sampleIndex, softmax } from '../../src/engine/sampling.js';
import { chiSquare } from '../fixtures/statistics.js';

const dist = (...xs: number[]) => Float64Array.from(xs);

t.test('greedy: accept while drafts equal the verifier argmax, then emit the argmax', async (t) => {
  t.same(verifyGreedy([5, 6, 7], [5, 6, 7, 8]), { accepted: 3, token: 8 }, 'all accepted: bonus');
  t.same(verifyGreedy([5, 9, 7], [5, 6, 7, 8]), { accepted: 1, token: 6 });
  t.same(verifyGreedy([1], [2, 3]), { accepted: 0, token: 2 });
  t.same(verifyGreedy([], [4]), { accepted: 0, token: 4 }, 'γ = 0');
  t.throws(() => verifyGreedy([1, 2], [1, 2]));
});

t.test('residual = norm(max(0, p − q)), with p as the fallback', async (t) => {
  t.same(Array.from(residual(dist(0.5, 0.3, 0.2), dist(0.2, 0.6, 0.2))), [0.3, 0, 0]);
  const p = dist(0.5, 0.5);
  t.equal(residual(p, dist(0.5, 0.5)), p);
});

t.test('a draft with q = 0 cannot have come from q', async (t) => {
  t.throws(() => verifySampled([0], [dist(0, 1)], [dist(1, 0), dist(1, 0)], createRandom(1)), /q = 0/);
});

// Synthetic verifier / drafter with context-free distributions over 6 tokens.
const P = [dist(0.3, 0.25, 0.2, 0.15, 0.07, 0.03), dist(0.05, 0.05, 0.1, 0.2, 0.3, 0.3), dist(0.1, 0.2, 0.3, 0.2, 0.1, 0.1)];
const Q = [dist(0.1, 0.1, 0.4, 0.3, 0.05, 0.05), dist(0.3, 0.3, 0.1, 0.1, 0.1, 0.1)];

/** Emitted tokens of many seeded steps: first token, and second token when the first was accepted. */
function simulate(accept: typeof verifySampled, n: number) {
  const random = createRandom(2024);
  const first = new Array<number>(6).fill(0);
  const second = new Array<number>(6).fill(0);
  let firstAccepted = 0;
  for (let i = 0; i < n; i++) {
    const drafts = Q.map((q) => sampleIndex(q, random.next()));
    const v = accept(drafts, Q, P, random);
    const emitted = [...drafts.slice(0, v.accepted), v.token];
    first[emitted[0]!]!++;
    if (emitted.length > 1) second[emitted[1]!]!++;
    if (v.accepted > 0) firstAccepted++;
  }
  return { first, second, firstAccepted };
}

t.test('speculative sampling emits tokens distributed as the verifier', async (t) => {
  const n = 40000;
  const { first, second, firstAccepted } = simulate(verifySampled, n);
  const c1 = chiSquare(first, P[0]!);
  const c2 = chiSquare(second, P[1]!);
  t.ok(c1.statistic < c1.critical, `first token: chi2 ${c1.statistic.toFixed(1)} < ${c1.critical.toFixed(1)} (df ${c1.df}, α = 0.001)`);
  t.ok(c2.statistic < c2.critical, `second token: chi2 ${c2.statistic.toFixed(1)} < ${c2.critical.toFixed(1)}`);
  // The first draft is accepted with probability α = Σ min(p, q) (Leviathan et al., section 3.1).
  const alpha = draftAgreement(P[0]!.map(Math.log), Q[0]!.map(Math.log)).alpha;
  t.ok(Math.abs(alpha - 0.63) < 1e-12);
  const rate = firstAccepted / n;
  const sigma = Math.sqrt((alpha * (1 - alpha)) / n);
  t.ok(Math.abs(rate - alpha) < 4 * sigma, `acceptance rate ${rate.toFixed(4)} vs α ${alpha} (4σ = ${(4 * sigma).toFixed(4)})`);
});

t.test('the same test catches a broken acceptance rule', async (t) => {
  const alwaysAccept: typeof verifySampled = (drafts, _q, p, random) => ({ accepted: drafts.length, token: sampleIndex(p[drafts.length]!, random.next()) });
  const acceptByRatioOnly: typeof verifySampled = (drafts, q, p, random) => {
    // Accepts correctly but resamples rejections from p instead of the residual.
    for (let i = 0; i < drafts.length; i++) {
      if (random.next() * q[i]![drafts[i]!]! < p[i]![drafts[i]!]!) continue;
      return { accepted: i, token: sampleIndex(p[i]!, random.next()) };
    }
    return { accepted: drafts.length, token: sampleIndex(p[drafts.length]!, random.next()) };
  };
  for (const [name, broken] of [
    ['always accept', alwaysAccept],
    ['resample from p', acceptByRatioOnly],
  ] as const) {
    const c = chiSquare(simulate(broken, 40000).first, P[0]!);
    t.ok(c.statistic > c.critical, `${name}: chi2 ${c.statistic.toFixed(1)} > ${c.critical.toFixed(1)}`);
  }
});

t.test('draft agreement: exact alpha and cross-entropy on temperature-1 softmax', async (t) => {
  const p = [0.5, 0.25, 0.25];
  const q = [0.25, 0.25, 0.5];
  const { alpha, crossEntropy } = draftAgreement(p.map(Math.log), q.map((x) => Math.log(x) + 7)); // logits up to a constant
  t.ok(Math.abs(alpha - 0.75) < 1e-12);
  t.ok(Math.abs(crossEntropy - -(0.5 * Math.log(0.25) + 0.25 * Math.log(0.25) + 0.25 * Math.log(0.5))) < 1e-12);
  const same = draftAgreement([1, 2, 3], [1, 2, 3]);
  t.ok(Math.abs(same.alpha - 1) < 1e-12);
  const entropy = -Array.from(softmax([1, 2, 3])).reduce((s, x) => s + x * Math.log(x), 0);
  t.ok(Math.abs(same.crossEntropy - entropy) < 1e-12, 'K = H(p) when q = p');
  t.ok(Number.isFinite(draftAgreement([0, 0], [0, -2000]).crossEntropy), 'finite where q underflows');
  t.throws(() => draftAgreement([1], [1, 2]));
});
