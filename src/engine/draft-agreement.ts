// How well a drafter fits the verifier at one drafted position s, computed exactly from the two
// logits rows already in hand (no sampling):
//   α(s) = Σ_x min(p(x|s), q(x|s))   the probability that speculative sampling accepts there
//                                    (Leviathan et al., arXiv 2211.17192, section 3.1);
//   K(s) = −Σ_x p(x|s) log q(x|s)    the cross-entropy the s-CDF drafter training minimises.
// Both use the temperature-1 softmax of the raw logits, not the request's sampling settings, so
// the fairness metrics of a language do not depend on how its users happen to sample.

import { logSoftmax } from './sampling.js';

export interface DraftAgreement {
  alpha: number;
  /** nats */
  crossEntropy: number;
}

/** verifierLogits, drafterLogits: raw logits rows [vocab] at the same position. */
export function draftAgreement(verifierLogits: ArrayLike<number>, drafterLogits: ArrayLike<number>): DraftAgreement {
  if (verifierLogits.length !== drafterLogits.length) {
    throw new Error(`draft-agreement: vocab sizes differ (${verifierLogits.length} vs ${drafterLogits.length})`);
  }
  const logP = logSoftmax(verifierLogits);
  const logQ = logSoftmax(drafterLogits);
  let alpha = 0;
  let crossEntropy = 0;
  for (let x = 0; x < logP.length; x++) {
    const p = Math.exp(logP[x]!);
    alpha += Math.min(p, Math.exp(logQ[x]!));
    // log q from log-softmax stays finite where q underflows to 0
    if (p > 0) crossEntropy -= p * logQ[x]!;
  }
  return { alpha, crossEntropy };
}
