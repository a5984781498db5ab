// Issue 17: `logprobs` are the verifier's own, exact under speculation. On the shipped pack
// (models/default), the log-probabilities of every emitted token and of its top alternatives
// equal plain decoding's, and one full forward pass's over the same tokens, to 1e-4.

import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { loadEngine } from '../../src/engine/engine.js';
import { logSoftmax } from '../../src/engine/sampling.js';
import { tokenLogprob, topLogprobs } from '../../src/engine/token-logprobs.js';
import type { GenerateOptions, TokenLogprob } from '../../src/engine/types.js';

const PACK = fileURLToPath(new URL('../../models/default', import.meta.url));
const TOLERANCE = 1e-4;

t.test('tokenLogprob: the log-softmax of the token, and the top k largest first', async (t) => {
  const logits = Float32Array.from([1, 3, 2, 3, -1]);
  const expected = logSoftmax(logits);
  const lp = tokenLogprob(logits, 2, 3);
  t.equal(lp.logprob, expected[2]);
  t.same(lp.top.map((a) => a.token), [1, 3, 2], 'ties keep the lower id first');
  t.same(lp.top.map((a) => a.logprob), [expected[1], expected[3], expected[2]]);
  t.same(topLogprobs(expected, 0), []);
  t.equal(topLogprobs(expected, 10).length, 5, 'k beyond the vocabulary: every token');
  t.throws(() => tokenLogprob(logits, 5, 1), RangeError);
});

const engine = await loadEngine(PACK, { intraOpNumThreads: 1 });
t.teardown(() => engine.close());
const base: GenerateOptions = { temperature: 0, topP: 1, topK: 0, maxTokens: 24, stop: [], drafter: null, draftLength: 0, logprobs: 5 };

/** The verifier's log-softmax at each generated position, from one forward pass over prompt and output. */
async function fullPass(promptIds: readonly number[], tokenIds: readonly number[]): Promise<Float64Array[]> {
  const rows = await engine.verifier.forward(engine.verifier.newCache(), [...promptIds, ...tokenIds]);
  return tokenIds.map((_, i) => logSoftmax(rows[promptIds.length - 1 + i]!));
}

function near(t: Test, a: readonly TokenLogprob[], b: readonly TokenLogprob[], what: string): void {
  let worst = 0;
  t.equal(a.length, b.length, `${what}: as many entries`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    t.equal(a[i]!.token, b[i]!.token);
    worst = Math.max(worst, Math.abs(a[i]!.logprob - b[i]!.logprob));
    t.equal(a[i]!.top.length, b[i]!.top.length);
    for (let j = 0; j < a[i]!.top.length; j++) worst = Math.max(worst, Math.abs(a[i]!.top[j]!.logprob - b[i]!.top[j]!.logprob));
  }
  t.ok(worst < TOLERANCE, `${what}: largest difference ${worst.toExponential(2)} < ${TOLERANCE}`);
}

t.test('greedy: speculative logprobs equal plain decoding\'s and a full forward pass\'s', async (t) => {
  for (const prompt of ['The configuration file contains', 'Pour installer le paquet, exécutez', '設定ファイルには']) {
    const promptIds = engine.tokenizer.encode(prompt);
    const plain = await engine.generate(prompt, base);
    t.equal(plain.logprobs!.length, plain.tokenIds.length, 'one entry per token');
    for (const draftLength of [2, 5]) {
      const spec = await engine.generate(prompt, { ...base, drafter: 'scdf', draftLength });
      t.same(spec.tokenIds, plain.tokenIds, `${prompt} γ=${draftLength}: the same tokens`);
      t.ok(spec.stats.acceptedTokens > 0, 'drafts were accepted');
      near(t, spec.logprobs!, plain.logprobs!, `${prompt} γ=${draftLength} against plain`);
    }
    const full = await fullPass(promptIds, plain.tokenIds);
    const reference = plain.tokenIds.map((token, i) => tokenLogprob(full[i]!, token, 5));
    near(t, plain.logprobs!, reference, `${prompt} against one forward pass`);
    t.same(plain.logprobs!.map((l) => l.top[0]!.token), plain.tokenIds, 'greedy: each token is its top alternative');
  }
});

t.test('sampled with processors: the logprobs are the raw verifier\'s at the tokens drawn', async (t) => {
  const prompt = 'To install the package, run';
  const promptIds = engine.tokenizer.encode(prompt);
  const spec = await engine.generate(prompt, { ...base, temperature: 1.2, seed: 5, presencePenalty: 1, drafter: 'scdf', draftLength: 4 });
  const full = await fullPass(promptIds, spec.tokenIds);
  near(t, spec.logprobs!, spec.tokenIds.map((token, i) => tokenLogprob(full[i]!, token, 5)), 'against one forward pass');
});

t.test('streamed logprobs travel with the text they belong to and add up to the result', async (t) => {
  const streamed: TokenLogprob[] = [];
  let deltas = 0;
  const result = await engine.generate('Чтобы установить пакет, выполните', {
    ...base,
    drafter: 'scdf',
    draftLength: 4,
    onText: (_, logprobs) => {
      deltas++;
      streamed.push(...(logprobs ?? []));
    },
  });
  t.ok(deltas > 1);
  // A last token that is the start of a UTF-8 character has no text to travel with: only the
  // result has it (the completion service sends such tokens on their own).
  t.same(streamed, result.logprobs!.slice(0, streamed.length), 'every token once, in order');
  t.ok(result.logprobs!.length - streamed.length < 4, `${result.logprobs!.length - streamed.length} token(s) of an unfinished character left`);
});

t.test('prompt logprobs: null for the first token, then one forward pass\'s', async (t) => {
  const promptIds = engine.tokenizer.encode('Click Save to keep your changes.');
  const scored = await engine.promptLogprobs(promptIds, 3);
  t.equal(scored.length, promptIds.length);
  t.equal(scored[0], null);
  const full = await fullPass(promptIds.slice(0, 1), promptIds.slice(1));
  near(t, scored.slice(1) as TokenLogprob[], promptIds.slice(1).map((token, i) => tokenLogprob(full[i]!, token, 3)), 'prompt');
  await t.rejects(engine.promptLogprobs(promptIds, 21), { code: 'FS_INVALID_OPTION' });
});
