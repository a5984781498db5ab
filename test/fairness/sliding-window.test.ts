import t from 'tap';
import { SlidingWindowFairness } from '../../src/fairness/sliding-window.js';
import { outcome } from './fixtures/outcomes.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

t.test('per-language speed-up, acceptance, K_L and the fairness summary', async (t) => {
  const c = clock();
  const w = new SlidingWindowFairness({ windowMs: 60_000, bucketMs: 10_000, now: c.now });
  // Plain decoding costs 10 ms per token in both languages (10 plain requests each).
  for (let i = 0; i < 10; i++) {
    w.record('en', outcome({ drafter: null, tokens: 50, totalMs: 500 }));
    w.record('am', outcome({ drafter: null, tokens: 50, totalMs: 500 }));
  }
  // en: two requests at 2x and 3x; am: one at 1.25x. Cross-entropy 0.5 vs 1.5 nats per drafted token.
  w.record('en', outcome({ tokens: 100, totalMs: 500, drafted: 80, accepted: 60, drafts: 20, crossEntropy: 0.5 }));
  w.record('en', outcome({ tokens: 90, totalMs: 300, drafted: 80, accepted: 60, drafts: 20, crossEntropy: 0.5 }));
  w.record('am', outcome({ tokens: 100, totalMs: 800, drafted: 100, accepted: 25, drafts: 25, crossEntropy: 1.5 }));
  const s = w.snapshot();
  const en = s.languages.find((l) => l.language === 'en')!;
  const am = s.languages.find((l) => l.language === 'am')!;
  t.equal(en.requests, 12);
  t.equal(en.acceptanceRate, 0.75);
  t.equal(en.meanAcceptedLength, 1 + 120 / 40);
  t.equal(en.crossEntropy, 0.5);
  // Ratios of sums, plain requests included: (Σ tokens / Σ ms) / (0.1 tokens per ms of plain decoding).
  t.ok(Math.abs(en.speedUp! - 690 / 5800 / 0.1) < 1e-12, `en ${en.speedUp}`);
  t.ok(Math.abs(en.tokensPerSecond! - (690 / 5800) * 1000) < 1e-9);
  t.ok(Math.abs(am.speedUp! - 600 / 5800 / 0.1) < 1e-12, `am ${am.speedUp}`);
  t.same(s.fairness.speedUp!.worst.language, 'am');
  t.equal(s.fairness.unfairness, 0.25, 'Var(0.5, 1.5)');
  t.equal(en.reference!.source, 'language');
});

t.test('old buckets leave the window', async (t) => {
  const c = clock(0);
  const w = new SlidingWindowFairness({ windowMs: 30_000, bucketMs: 10_000, now: c.now });
  w.record('en', outcome());
  c.advance(10_000);
  w.record('en', outcome());
  w.record('fr', outcome());
  t.equal(w.snapshot().languages.find((l) => l.language === 'en')!.requests, 2);
  c.advance(19_999);
  t.equal(w.snapshot().languages.find((l) => l.language === 'en')!.requests, 2, 'bucket 0 is still in [0, 30 s)');
  c.advance(1);
  const s = w.snapshot();
  t.equal(s.languages.find((l) => l.language === 'en')!.requests, 1, 'bucket 0 dropped at 30 s');
  t.same([s.from, s.to], [10_000, 40_000]);
  c.advance(30_000);
  t.same(w.snapshot().languages, []);
  t.same(w.snapshot().fairness, { speedUp: null, crossEntropy: null, unfairness: null });
});

t.test("the reference is the window's plain requests: the language's own from minRequests, else all languages'", async (t) => {
  const c = clock(0);
  const w = new SlidingWindowFairness({ windowMs: 20_000, bucketMs: 10_000, now: c.now, minRequests: 2 });
  const en = () => w.snapshot().languages.find((l) => l.language === 'en')!;
  w.record('en', outcome({ tokens: 10, totalMs: 100 }));
  t.equal(en().speedUp, null, 'no plain request in the window');
  w.record('am', outcome({ drafter: null, tokens: 10, totalMs: 50 }));
  t.equal(en().speedUp, 0.5, "10 tokens in 100 ms where plain decoding (am's, pooled) takes 50 ms");
  t.equal(en().reference!.source, 'pooled');
  c.advance(10_000);
  for (let i = 0; i < 2; i++) w.record('en', outcome({ drafter: null, tokens: 10, totalMs: 200 }));
  t.ok(Math.abs(en().speedUp! - 30 / 500 / (20 / 400)) < 1e-12, `en's own reference: ${en().speedUp}`);
  t.same([en().reference!.source, en().reference!.requests], ['language', 2]);
  c.advance(20_000);
  t.same(w.snapshot().languages, [], 'everything left the window');
  t.throws(() => new SlidingWindowFairness({ minRequests: 0 }), RangeError);
});

t.test('options are checked', async (t) => {
  t.throws(() => new SlidingWindowFairness({ windowMs: 25_000, bucketMs: 10_000 }), RangeError);
  t.throws(() => new SlidingWindowFairness({ bucketMs: 0 }), RangeError);
});
