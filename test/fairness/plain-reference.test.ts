import t from 'tap';
import { PlainDecodingReference } from '../../src/fairness/plain-reference.js';
import { isPlainDecoding, tokensPerMs } from '../../src/fairness/request-outcome.js';
import { outcome } from './fixtures/outcomes.js';

t.test('ms per token is Σ totalMs / Σ tokens of γ = 0 requests', async (t) => {
  const ref = new PlainDecodingReference({ minRequests: 2 });
  t.equal(ref.estimate('en'), null, 'nothing before the first plain request');
  t.ok(ref.record('en', outcome({ drafter: null, tokens: 10, totalMs: 100 })));
  t.same(ref.estimate('en'), { msPerToken: 10, source: 'pooled', requests: 1 }, 'pooled until minRequests');
  ref.record('en', outcome({ drafter: null, tokens: 30, totalMs: 200 }));
  t.same(ref.estimate('en'), { msPerToken: 7.5, source: 'language', requests: 2 });
  t.same(ref.estimate('am'), { msPerToken: 7.5, source: 'pooled', requests: 2 }, 'other languages use the pooled figure');
  t.notOk(ref.record('en', outcome({ tokens: 10, totalMs: 1 })), 'speculative requests are ignored');
  t.notOk(ref.record('en', outcome({ drafter: null, tokens: 0, totalMs: 5 })), 'empty generations are ignored');
  t.equal(ref.estimate('en')!.msPerToken, 7.5);
  t.throws(() => new PlainDecodingReference({ minRequests: 0 }), RangeError);
});

t.test('plain decoding is drafter null or γ = 0', async (t) => {
  t.ok(isPlainDecoding(outcome({ drafter: null })));
  t.ok(isPlainDecoding(outcome({ draftLength: 0 })));
  t.notOk(isPlainDecoding(outcome()));
  t.equal(tokensPerMs(outcome({ tokens: 64, totalMs: 320 })), 0.2);
  t.equal(tokensPerMs(outcome({ tokens: 0 })), null);
  t.equal(tokensPerMs(outcome({ totalMs: 0 })), null);
});
