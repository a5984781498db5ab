// Each logits processor of issue 17 edits a row as its definition says, and TokenSampler applies
// them in vLLM's order, to greedy requests too.

import t from 'tap';
import {
  LogitBiasProcessor,
  MinPProcessor,
  MinTokensProcessor,
  PresenceFrequencyProcessor,
  RepetitionPenaltyProcessor,
  TokenHistory,
} from '../../src/engine/logits-processors.js';
import { createRandom } from '../../src/engine/random.js';
import { TokenSampler, softmax } from '../../src/engine/sampling.js';

const row = (...xs: number[]) => Float64Array.from(xs);
// A prompt of [0, 1], then the output [2, 2, 3].
const history = new TokenHistory([0, 1, 2, 2, 3], 2);

t.test('TokenHistory counts the output and sees the prompt too', async (t) => {
  t.equal(history.outputLength, 3);
  t.same([...history.outputCounts()], [[2, 2], [3, 1]]);
  t.same([...history.seen()].sort(), [0, 1, 2, 3]);
  t.throws(() => new TokenHistory([1], 2), RangeError);
});

t.test('logit bias adds to the chosen tokens', async (t) => {
  const l = row(1, 1, 1, 1);
  new LogitBiasProcessor({ 1: 2.5, 3: -100 }).process(l);
  t.same(Array.from(l), [1, 3.5, 1, -99]);
  t.throws(() => new LogitBiasProcessor({ 1: Number.NaN }), RangeError);
});

t.test('min_tokens masks eos until the output is long enough', async (t) => {
  const p = new MinTokensProcessor(4, [3]);
  const l = row(1, 1, 1, 1);
  p.process(l, history);
  t.same(Array.from(l), [1, 1, 1, -Infinity], '3 output tokens < 4');
  const later = row(1, 1, 1, 1);
  p.process(later, new TokenHistory([0, 1, 2, 2, 3, 0], 2));
  t.same(Array.from(later), [1, 1, 1, 1], '4 output tokens');
});

t.test('repetition penalty: prompt and output tokens, positive divided, negative multiplied', async (t) => {
  const l = row(2, -2, 4, 1, 3);
  new RepetitionPenaltyProcessor(2).process(l, history);
  t.same(Array.from(l), [1, -4, 2, 0.5, 3], 'token 4 never appeared');
});

t.test('presence and frequency penalties: output tokens only, frequency per occurrence', async (t) => {
  const l = row(0, 0, 0, 0, 0);
  new PresenceFrequencyProcessor(0.5, 0.25).process(l, history);
  t.same(Array.from(l), [0, 0, -1, -0.75, 0], 'token 2 twice: 0.5 + 2 · 0.25; token 3 once: 0.5 + 0.25; the prompt untouched');
});

t.test('min-p keeps the tokens at least p times as likely as the top one', async (t) => {
  const l = row(...[0.5, 0.3, 0.1, 0.04].map(Math.log));
  new MinPProcessor(0.2).process(l);
  t.same(Array.from(l, (x) => x > -Infinity), [true, true, true, false], '0.04 < 0.2 · 0.5');
  const none = row(1, 2);
  new MinPProcessor(0).process(none);
  t.same(Array.from(none), [1, 2]);
});

t.test('TokenSampler: the processors apply to greedy requests, through the argmax', async (t) => {
  const logits = Float32Array.from([3, 2.9, 0, 0]);
  const plain = new TokenSampler({ temperature: 0, topK: 0, topP: 1 }, createRandom(1), { promptLength: 1, eosTokenIds: [] });
  t.same(Array.from(plain.distribution(logits, [0])), [1, 0, 0, 0]);
  const penalised = new TokenSampler({ temperature: 0, topK: 0, topP: 1, presencePenalty: 1 }, createRandom(1), { promptLength: 1, eosTokenIds: [] });
  t.same(Array.from(penalised.distribution(logits, [0, 0])), [0, 1, 0, 0], 'token 0 was output once: 3 − 1 < 2.9');
  t.same(Array.from(penalised.distribution(logits, [0])), [1, 0, 0, 0], 'the prompt is not penalised');
  t.throws(() => penalised.distribution(logits), /history/, 'a processor that reads the history needs it');
});

t.test('TokenSampler: bias and penalties before temperature, min-p after it', async (t) => {
  const logits = Float32Array.from([2, 1, 0, -1]);
  const sampler = new TokenSampler({ temperature: 0.5, topK: 0, topP: 1, logitBias: { 3: 3 }, minP: 0.1 }, createRandom(1), { promptLength: 0, eosTokenIds: [] });
  // Biased [2, 1, 0, 2], over T: [4, 2, 0, 4]; min-p 0.1 keeps e^(l − 4) ≥ 0.1, i.e. l ≥ 1.70.
  const expected = softmax([4, 2, -Infinity, 4]);
  const got = sampler.distribution(logits, []);
  for (let i = 0; i < 4; i++) t.ok(Math.abs(got[i]! - expected[i]!) < 1e-12, `p[${i}] = ${got[i]}`);
});

t.test('TokenSampler: min_tokens masks the eos it is told of', async (t) => {
  const sampler = new TokenSampler({ temperature: 1, topK: 0, topP: 1, minTokens: 2 }, createRandom(1), { promptLength: 1, eosTokenIds: [1] });
  const logits = Float32Array.from([0, 5, 0]);
  t.equal(sampler.distribution(logits, [0, 2])[1], 0, 'one output token: eos masked');
  t.ok(sampler.distribution(logits, [0, 2, 2])[1]! > 0.9, 'two: eos allowed');
});

t.test('TokenSampler.argmax: the processed argmax, the raw one without processors', async (t) => {
  const logits = Float32Array.from([3, 2.9, 0]);
  t.equal(new TokenSampler({ temperature: 0, topK: 0, topP: 1 }, createRandom(1)).argmax(logits), 0);
  const penalised = new TokenSampler({ temperature: 0, topK: 0, topP: 1, frequencyPenalty: 0.5 }, createRandom(1), { promptLength: 0, eosTokenIds: [] });
  t.equal(penalised.argmax(logits, [0]), 1);
});
