// The sufficient statistics of one (experiment, arm, language) cell: every figure of the read-out
// (analysis.ts) is a function of these sums, and every sum adds, so the cells of any number of
// replicas and restarts merge into the cell one process would hold had it served all their
// requests. A replica keeps them in memory (observation-cell.ts) and exports each as a
// Prometheus counter (cell-series.ts); the cluster read-out rebuilds them from Prometheus.
//
// Only latency differs: a quantile needs the sample, which cannot be merged, so a cell counts
// generation times into fixed buckets (a histogram, which merges), and a replica's own read-out
// may also hold a uniform sample of its own requests for exact order statistics.

import type { OutcomeCounts } from '../fairness/request-outcome.js';
import { LatencyHistogram } from './statistics/latency-histogram.js';
import { MomentSums } from './statistics/moment-sums.js';
import { RatioSums } from './statistics/ratio-interval.js';

export interface CellCounts extends OutcomeCounts {
  alphaSum: number;
  verifierSteps: number;
}

export interface CellStatistics {
  readonly counts: CellCounts;
  /** Per request (completionTokens, totalMs): speed-up and tokens per second are ratios of these sums. */
  readonly timing: RatioSums;
  /** The same over the cell's plain (γ = 0) requests, the part a plain reference may count too. */
  readonly plainTiming: RatioSums;
  /** Per request that drafted: (accepted, drafted) tokens, for the request-clustered acceptance interval. */
  readonly acceptanceSums: RatioSums;
  /** Per request that drafted: (accepted tokens, drafts), for the mean accepted length's interval. */
  readonly acceptedPerDraftSums: RatioSums;
  /** Per request that drafted: accepted / drafted (Welch's test of the arms). */
  readonly acceptance: MomentSums;
  /** Per request with a verifier step: completionTokens / verifierSteps. */
  readonly tokensPerStep: MomentSums;
  /** Generation times (totalMs) in fixed buckets. */
  readonly latency: LatencyHistogram;
}

export function emptyCounts(): CellCounts {
  return { requests: 0, generatedTokens: 0, drafts: 0, draftedTokens: 0, acceptedTokens: 0, alphaSum: 0, crossEntropySum: 0, verifierSteps: 0 };
}

/** A cell with nothing in it, to add sums into. */
export function emptyCellStatistics(): CellStatistics {
  return {
    counts: emptyCounts(),
    timing: new RatioSums(),
    plainTiming: new RatioSums(),
    acceptanceSums: new RatioSums(),
    acceptedPerDraftSums: new RatioSums(),
    acceptance: new MomentSums(),
    tokensPerStep: new MomentSums(),
    latency: new LatencyHistogram(),
  };
}

/** Adds `other`'s requests (disjoint from `into`'s) to `into`. */
export function mergeCellStatistics(into: CellStatistics, other: CellStatistics): CellStatistics {
  for (const key of Object.keys(into.counts) as (keyof CellCounts)[]) into.counts[key] += other.counts[key];
  into.timing.merge(other.timing);
  into.plainTiming.merge(other.plainTiming);
  into.acceptanceSums.merge(other.acceptanceSums);
  into.acceptedPerDraftSums.merge(other.acceptedPerDraftSums);
  into.acceptance.merge(other.acceptance);
  into.tokensPerStep.merge(other.tokensPerStep);
  into.latency.merge(other.latency);
  return into;
}
