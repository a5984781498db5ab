// The verifier's log-probabilities of a prompt's own tokens (`echo` with `logprobs`, which
// loglikelihood scoring sends): one forward pass over the prompt in a cache of its own. The first
// token has nothing before it to be predicted from: null, as in OpenAI's API.

import type { CausalLM } from './causal-lm.js';
import { assertUsableLogits, modelFault } from './model-fault.js';
import { tokenLogprob } from './token-logprobs.js';
import type { TokenLogprob } from './types.js';

/** [promptIds.length]: null, then token i's log-probability after tokens 0..i-1, with `top` alternatives. */
export async function promptLogprobs(verifier: CausalLM, promptIds: readonly number[], top: number): Promise<Array<TokenLogprob | null>> {
  if (promptIds.length === 0) return [];
  let rows: Float32Array[];
  try {
    rows = await verifier.forward(verifier.newCache(), promptIds); // [prompt][vocab]
  } catch (err) {
    throw modelFault(err, `verifier ${verifier.id}`);
  }
  const out: Array<TokenLogprob | null> = [null];
  for (let i = 1; i < promptIds.length; i++) {
    const row = rows[i - 1]!;
    assertUsableLogits(row, `verifier ${verifier.id}`);
    out.push(tokenLogprob(row, promptIds[i]!, top));
  }
  return out;
}
