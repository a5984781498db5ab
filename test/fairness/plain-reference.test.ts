import t from 'tap';
import { RatioSums } from '../../src/experiments/statistics/ratio-interval.js';
import { PlainDecodingReference, PlainSums } from '../../src/fairness/plain-reference.js';
import { isPlainDecoding, tokensPerMs } from '../../src/fairness/request-outcome.js';
import { outcome } from './fixtures/outcomes.js';

t.test('ms per token is Σ totalMs / Σ tokens of γ = 0 requests', async (t) => {
  const ref = new PlainDecodingReference({ minRequests: 2 });
  const shape = (language: string) => {
    const e = ref.estimate(language);
    return e && { msPerToken: e.msPerToken, source: e.source, requests: e.requests, sums: [e.sums.n, e.sums.a, e.sums.d] };
  };
  t.equal(ref.estimate('en'), null, 'nothing before the first plain request');
  t.ok(ref.record('en', outcome({ drafter: null, tokens: 10, totalMs: 100 })));
  t.same(shape('en'), { msPerToken: 10, source: 'pooled', requests: 1, sums: [1, 10, 100] }, 'pooled until minRequests');
  ref.record('en', outcome({ drafter: null, tokens: 30, totalMs: 200 }));
  t.same(shape('en'), { msPerToken: 7.5, source: 'language', requests: 2, sums: [2, 40, 300] });
  t.same(shape('am'), { msPerToken: 7.5, source: 'pooled', requests: 2, sums: [2, 40, 300] }, 'other languages use the pooled figure');
  t.notOk(ref.record('en', outcome({ tokens: 10, totalMs: 1 })), 'speculative requests are ignored');
  t.notOk(ref.record('en', outcome({ drafter: null, tokens: 0, totalMs: 5 })), 'empty generations are ignored');
  t.equal(ref.estimate('en')!.msPerToken, 7.5);
  t.throws(() => new PlainDecodingReference({ minRequests: 0 }), RangeError);
});

t.test('totals since a mark: the requests recorded after it', async (t) => {
  const ref = new PlainDecodingReference({ minRequests: 1 });
  ref.record('en', outcome({ drafter: null, tokens: 10, totalMs: 1000 }));
  const mark = ref.totals();
  ref.record('en', outcome({ drafter: null, tokens: 10, totalMs: 100 }));
  ref.record('am', outcome({ drafter: null, tokens: 20, totalMs: 100 }));
  const since = ref.totals().minus(mark);
  t.same([since.estimate('en', 1)!.msPerToken, since.estimate('en', 1)!.requests], [10, 1]);
  t.same([since.pooled.n, since.pooled.a, since.pooled.d, since.pooled.aa, since.pooled.dd, since.pooled.ad], [2, 30, 200, 500, 20000, 3000]);
  t.equal(mark.pooled.n, 1, 'the mark is a copy, not a view');
  t.equal(new PlainSums().add('en', new RatioSums()).estimate('en'), null, 'no requests, no reference');
});

t.test('plain decoding is drafter null or γ = 0', async (t) => {
  t.ok(isPlainDecoding(outcome({ drafter: null })));
  t.ok(isPlainDecoding(outcome({ draftLength: 0 })));
  t.notOk(isPlainDecoding(outcome()));
  t.equal(tokensPerMs(outcome({ tokens: 64, totalMs: 320 })), 0.2);
  t.equal(tokensPerMs(outcome({ tokens: 0 })), null);
  t.equal(tokensPerMs(outcome({ totalMs: 0 })), null);
});
