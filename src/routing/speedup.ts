// Expected speed-up of speculative decoding (Leviathan et al., arXiv 2211.17192, Thm 3.8 and
// Cor 3.9), the same formulas as models/training/fairspec_train/speedup.py:
//   E(alpha, gamma) = (1 - alpha^(gamma+1)) / (1 - alpha)     tokens per verifier pass
//   S(gamma)        = E / (gamma * c + v(gamma))              wall-clock speed-up over plain decoding
// c = drafter step cost / verifier step cost; v(gamma) = cost of verifying gamma + 1 tokens / cost of
// one plain verifier step (1 when memory-bound, the paper's simple form). gamma = 0 is plain
// decoding: E = 1, v(0) = 1, S = 1.

/** Tokens emitted per verifier pass (accepted drafts plus the bonus or corrected token). */
export function expectedTokens(alpha: number, gamma: number): number {
  if (alpha >= 1) return gamma + 1;
  return (1 - alpha ** (gamma + 1)) / (1 - alpha);
}

/** S(gamma) for acceptance rate `alpha`, cost ratio `c` and verification cost v(gamma) = `verifyCost`. */
export function speedup(alpha: number, gamma: number, c: number, verifyCost = 1): number {
  if (gamma === 0) return 1;
  return expectedTokens(alpha, gamma) / (gamma * c + verifyCost);
}

export interface BestDraftLength {
  draftLength: number;
  speedup: number;
}

/**
 * gamma* in 0..maxDraftLength and S(gamma*); 0 (S = 1) when no gamma beats plain decoding.
 * Ties keep the smaller gamma: same speed, less wasted drafter work.
 */
export function bestDraftLength(
  alpha: number,
  c: number,
  maxDraftLength: number,
  verifyCost: (gamma: number) => number = () => 1,
): BestDraftLength {
  let best: BestDraftLength = { draftLength: 0, speedup: 1 };
  for (let gamma = 1; gamma <= maxDraftLength; gamma++) {
    const s = speedup(alpha, gamma, c, verifyCost(gamma));
    if (s > best.speedup) best = { draftLength: gamma, speedup: s };
  }
  return best;
}
