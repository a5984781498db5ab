// The observations of one (experiment, arm, language) cell: plain counts, per-request running
// moments for the means and t-tests, and a bounded uniform sample of latencies for quantiles.
// Memory is constant per cell whatever the traffic.

import { createRandom } from '../engine/random.js';
import { addOutcomeCounts, tokensPerMs, type OutcomeCounts, type RequestOutcome } from '../fairness/request-outcome.js';
import { RatioSums } from './statistics/ratio-interval.js';
import { Reservoir } from './statistics/reservoir.js';
import { RunningMoments } from './statistics/running-moments.js';

export interface CellCounts extends OutcomeCounts {
  alphaSum: number;
  verifierSteps: number;
}

export class ObservationCell {
  readonly counts: CellCounts = {
    requests: 0,
    generatedTokens: 0,
    drafts: 0,
    draftedTokens: 0,
    acceptedTokens: 0,
    alphaSum: 0,
    crossEntropySum: 0,
    verifierSteps: 0,
  };
  /** Per request: completionTokens / totalMs (× plainMsPerToken = the request's speed-up). */
  readonly tokensPerMs = new RunningMoments();
  /** Per request that drafted: accepted / drafted. */
  readonly acceptance = new RunningMoments();
  /** Per request: accepted and drafted tokens, for the request-clustered acceptance interval. */
  readonly acceptanceSums = new RatioSums();
  /** Per request that drafted: accepted tokens and drafts, for the mean accepted length's interval. */
  readonly acceptedPerDraftSums = new RatioSums();
  /** Per request: completionTokens / verifierSteps (tokens per verifier step, bonus included). */
  readonly tokensPerStep = new RunningMoments();
  /** Uniform sample of per-request totalMs. */
  readonly latencyMs: Reservoir;

  constructor(reservoirSize: number, seed: number) {
    this.latencyMs = new Reservoir(reservoirSize, createRandom(seed));
  }

  record(outcome: RequestOutcome): void {
    const { stats } = outcome;
    const c = this.counts;
    addOutcomeCounts(c, outcome);
    c.alphaSum += stats.alphaSum;
    c.verifierSteps += stats.verifierSteps;
    const rate = tokensPerMs(outcome);
    if (rate !== null) this.tokensPerMs.push(rate);
    if (stats.draftedTokens > 0) {
      this.acceptance.push(stats.acceptedTokens / stats.draftedTokens);
      this.acceptanceSums.push(stats.acceptedTokens, stats.draftedTokens);
    }
    if (stats.drafts > 0) {
      this.acceptedPerDraftSums.push(stats.acceptedTokens, stats.drafts);
    }
    if (stats.verifierSteps > 0) this.tokensPerStep.push(outcome.completionTokens / stats.verifierSteps);
    if (Number.isFinite(outcome.totalMs) && outcome.totalMs >= 0) this.latencyMs.push(outcome.totalMs);
  }
}
