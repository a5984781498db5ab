// What the fairness and experiment accumulators read from one finished generation: a
// structural slice of the engine's GenerateResult, so callers pass the result as it is and
// tests can build one in a line. One outcome per generation (each of n choices is one).

import type { GenerateResult, SpeculativeStats } from '../engine/types.js';
import type { RatioSums } from '../experiments/statistics/ratio-interval.js';

export type RequestOutcome = Pick<GenerateResult, 'completionTokens' | 'totalMs'> & {
  stats: Pick<
    SpeculativeStats,
    'drafter' | 'draftLength' | 'drafts' | 'draftedTokens' | 'acceptedTokens' | 'alphaSum' | 'crossEntropySum' | 'verifierSteps'
  >;
};

/** Plain autoregressive decoding: no drafter or γ = 0 (the engine runs both through the same loop). */
export function isPlainDecoding(outcome: RequestOutcome): boolean {
  return outcome.stats.drafter === null || outcome.stats.draftLength === 0;
}

/** Generated tokens per millisecond of the whole generation, or null when it produced nothing. */
export function tokensPerMs(outcome: RequestOutcome): number | null {
  const { completionTokens, totalMs } = outcome;
  return completionTokens > 0 && totalMs > 0 && Number.isFinite(totalMs) ? completionTokens / totalMs : null;
}

/**
 * Adds the generation's (completion tokens, total ms) to `sums`, the pair a speed-up is a ratio
 * of sums of (src/experiments/statistics/speed-up.ts); false, adding nothing, when it produced
 * no token or has no measured time.
 */
export function addTiming(sums: RatioSums, outcome: RequestOutcome): boolean {
  if (tokensPerMs(outcome) === null) return false;
  sums.push(outcome.completionTokens, outcome.totalMs);
  return true;
}

/** The plain per-language counts both the fairness window and the experiment cells keep. */
export interface OutcomeCounts {
  requests: number;
  generatedTokens: number;
  drafts: number;
  draftedTokens: number;
  acceptedTokens: number;
  crossEntropySum: number;
}

/** The fields of OutcomeCounts, to add or merge them in one loop. */
export const OUTCOME_COUNT_FIELDS = ['requests', 'generatedTokens', 'drafts', 'draftedTokens', 'acceptedTokens', 'crossEntropySum'] as const;

/** Adds another set of counts to `total`. */
export function mergeOutcomeCounts(total: OutcomeCounts, other: OutcomeCounts): void {
  for (const field of OUTCOME_COUNT_FIELDS) total[field] += other[field];
}

/** Adds one finished generation to `counts`. */
export function addOutcomeCounts(counts: OutcomeCounts, outcome: RequestOutcome): void {
  const { stats } = outcome;
  counts.requests++;
  counts.generatedTokens += outcome.completionTokens;
  counts.drafts += stats.drafts;
  counts.draftedTokens += stats.draftedTokens;
  counts.acceptedTokens += stats.acceptedTokens;
  counts.crossEntropySum += stats.crossEntropySum;
}
