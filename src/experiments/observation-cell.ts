// The observations of one (experiment, arm, language) cell in a replica's memory: the sufficient
// statistics of cell-statistics.ts, which this replica exports as counters, and a bounded
// uniform sample of latencies for exact quantiles in its own read-out. Memory is constant per
// cell whatever the traffic.

import { createRandom } from '../engine/random.js';
import { addOutcomeCounts, addTiming, isPlainDecoding, type RequestOutcome } from '../fairness/request-outcome.js';
import { emptyCounts, type CellCounts, type CellStatistics } from './cell-statistics.js';
import { LatencyHistogram } from './statistics/latency-histogram.js';
import { MomentSums } from './statistics/moment-sums.js';
import { RatioSums } from './statistics/ratio-interval.js';
import { Reservoir } from './statistics/reservoir.js';

export type { CellCounts } from './cell-statistics.js';

export class ObservationCell implements CellStatistics {
  readonly counts: CellCounts = emptyCounts();
  readonly timing = new RatioSums();
  readonly plainTiming = new RatioSums();
  readonly acceptanceSums = new RatioSums();
  readonly acceptedPerDraftSums = new RatioSums();
  readonly acceptance = new MomentSums();
  readonly tokensPerStep = new MomentSums();
  readonly latency = new LatencyHistogram();
  /** Uniform sample of per-request totalMs (this replica's requests only: it does not merge). */
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
    if (addTiming(this.timing, outcome) && isPlainDecoding(outcome)) addTiming(this.plainTiming, outcome);
    if (stats.draftedTokens > 0) {
      this.acceptance.push(stats.acceptedTokens / stats.draftedTokens);
      this.acceptanceSums.push(stats.acceptedTokens, stats.draftedTokens);
    }
    if (stats.drafts > 0) {
      this.acceptedPerDraftSums.push(stats.acceptedTokens, stats.drafts);
    }
    if (stats.verifierSteps > 0) this.tokensPerStep.push(outcome.completionTokens / stats.verifierSteps);
    if (Number.isFinite(outcome.totalMs) && outcome.totalMs >= 0) {
      this.latencyMs.push(outcome.totalMs);
      this.latency.observe(outcome.totalMs);
    }
  }
}
