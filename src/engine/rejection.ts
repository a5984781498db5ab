// Speculative sampling acceptance: Leviathan, Kalman & Matias, "Fast Inference from Transformers
// via Speculative Decoding" (arXiv 2211.17192, Algorithm 1), and Chen et al., "Accelerating Large
// Language Model Decoding with Speculative Sampling" (arXiv 2302.01318).
//
// The drafter proposed x_1..x_γ, x_i drawn from q_i; the verifier scored the same positions
// in one pass, giving p_1..p_{γ+1}. Walking i = 1..γ:
//   accepted token:  x_i is kept with probability min(1, p_i(x_i) / q_i(x_i));
//   recovered token: at the first rejection, a token drawn from norm(max(0, p_i − q_i)), and
//                    the drafts after it are discarded;
//   bonus token:     when all γ drafts are kept, one more token drawn from p_{γ+1}.
// Every step therefore emits accepted + 1 tokens, and they are distributed exactly as tokens
// sampled from p one at a time (the theorem of both papers): the drafter changes speed, never
// the output distribution.
//
// At temperature 0 the rule degenerates to: keep x_i iff it is the verifier's argmax, otherwise
// emit the argmax (q and p are one-hot). verifyGreedy implements that without random numbers, so
// greedy output equals the verifier's own greedy output token for token.

import { sampleIndex } from './sampling.js';
import type { RandomSource } from './random.js';

export interface Verdict {
  /** How many drafted tokens were accepted, 0..γ. */
  accepted: number;
  /** The recovered token (accepted < γ) or the bonus token (accepted = γ). */
  token: number;
}

/**
 * draftIds [γ]; q [γ][vocab] the drafter's processed distributions the drafts were drawn from;
 * p [γ + 1][vocab] the verifier's processed distributions at the same positions plus the next.
 */
export function verifySampled(
  draftIds: readonly number[],
  q: readonly Float64Array[],
  p: readonly Float64Array[],
  random: RandomSource,
): Verdict {
  const gamma = draftIds.length;
  assert(q.length === gamma && p.length === gamma + 1, `shapes: ${gamma} drafts, ${q.length} q rows, ${p.length} p rows`);
  for (let i = 0; i < gamma; i++) {
    const x = draftIds[i]!;
    const qx = q[i]![x]!;
    const px = p[i]![x]!;
    assert(qx > 0, `draft ${i} (token ${x}) has q = 0: it cannot have been drawn from q`);
    // u < p/q written as u * q < p: accepts with probability min(1, p/q).
    if (random.next() * qx < px) continue;
    return { accepted: i, token: sampleIndex(residual(p[i]!, q[i]!), random.next()) };
  }
  return { accepted: gamma, token: sampleIndex(p[gamma]!, random.next()) };
}

/** norm(max(0, p − q)), unnormalised: [vocab]. */
export function residual(p: Float64Array, q: Float64Array): Float64Array {
  const out = new Float64Array(p.length);
  let total = 0;
  for (let v = 0; v < p.length; v++) {
    const d = p[v]! - q[v]!;
    if (d > 0) {
      out[v] = d;
      total += d;
    }
  }
  // A rejection implies p(x) < q(x) for the drafted x, hence mass elsewhere; only float rounding
  // can leave none, and then p itself is the right fallback.
  return total > 0 ? out : p;
}

/** Greedy verification: verifierArgmax [γ + 1] is the verifier's argmax at each position. */
export function verifyGreedy(draftIds: readonly number[], verifierArgmax: readonly number[]): Verdict {
  const gamma = draftIds.length;
  assert(verifierArgmax.length === gamma + 1, `shapes: ${gamma} drafts, ${verifierArgmax.length} argmax`);
  for (let i = 0; i < gamma; i++) {
    if (draftIds[i] !== verifierArgmax[i]) return { accepted: i, token: verifierArgmax[i]! };
  }
  return { accepted: gamma, token: verifierArgmax[gamma]! };
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`rejection: ${message}`);
}
