// Which acceptance rate predicts a request's speed-up. Sampled requests accept a draft with
// probability alpha = sum_x min(p, q); greedy ones only when the draft is the verifier's argmax,
// which can be far rarer (a flat verifier: high alpha, low argmax agreement). Routing keeps an
// estimate and a routing.json entry per regime.
import type { SamplingOptions } from '../engine/types.js';

export type SamplingRegime = 'sampled' | 'greedy';

export function samplingRegime(options: Pick<SamplingOptions, 'temperature' | 'topK'>): SamplingRegime {
  // temperature 0 is TokenSampler's greedy; top_k 1 leaves p and q one-hot on their argmax, so
  // rejection sampling accepts exactly where the argmaxes agree as well.
  return options.temperature === 0 || options.topK === 1 ? 'greedy' : 'sampled';
}
