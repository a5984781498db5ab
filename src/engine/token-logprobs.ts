// Log-probabilities for `logprobs` (issue 17): the verifier's raw log-softmax at a token's
// position (before temperature, penalties and the like, as vLLM's default raw_logprobs), in
// float64. Every emitted token was verified, so its row is the verifier's own at that position
// and the numbers are plain decoding's, drafts or not.

import type { TokenLogprob } from './types.js';
import { logSoftmax } from './sampling.js';

/** Most top alternatives `logprobs` may ask for (vLLM's default max_logprobs). */
export const MAX_LOGPROBS = 20;

/** `token`'s log-probability under the raw logits row [vocab], with the `top` most likely tokens (ties by lower id). */
export function tokenLogprob(logits: ArrayLike<number>, token: number, top: number): TokenLogprob {
  const logprobs = logSoftmax(logits); // [vocab]
  if (!(Number.isInteger(token) && token >= 0 && token < logprobs.length)) throw new RangeError(`token ${token} outside a vocabulary of ${logprobs.length}`);
  return { token, logprob: logprobs[token]!, top: topLogprobs(logprobs, top) };
}

/** The k largest entries of `logprobs`, largest first: one pass with a small sorted buffer, O(vocab · k). */
export function topLogprobs(logprobs: Float64Array, k: number): Array<{ token: number; logprob: number }> {
  const best: Array<{ token: number; logprob: number }> = [];
  if (k <= 0) return best;
  for (let token = 0; token < logprobs.length; token++) {
    const logprob = logprobs[token]!;
    if (best.length === k && !(logprob > best[k - 1]!.logprob)) continue;
    let at = best.length;
    while (at > 0 && best[at - 1]!.logprob < logprob) at--;
    best.splice(at, 0, { token, logprob });
    if (best.length > k) best.pop();
  }
  return best;
}
