// Generation times counted into fixed buckets, the one form of a latency distribution that adds
// across replicas and restarts: quantiles of a merged sample cannot be rebuilt from each
// replica's quantiles or reservoirs, but bucket counts simply add (Prometheus histograms).
//
// Buckets: the R10 preferred numbers (1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8 per decade) from
// 10 ms to 1000 s, each ~25% wider than the one below, so linear interpolation inside a bucket
// is off by a few percent at most where the density is smooth.
//
// Quantiles: the point estimate is Prometheus' histogram_quantile (rank q·n, linear inside its
// bucket, 0 as the first bucket's lower edge, the last finite bound for ranks in +Inf), so a
// dashboard's histogram_quantile over the same buckets reads the same value. The interval takes
// the order statistics' ranks of order-statistics.ts and widens each to its bucket's edge: the
// true order statistic lies inside its bucket, so the coverage is still at least the nominal one.

import type { Estimate } from './interval.js';
import { quantileRanks } from './order-statistics.js';

const MANTISSAS = [1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8];

function preferredNumbers(fromExponent: number, toExponent: number): number[] {
  const out: number[] = [];
  for (let e = fromExponent; e < toExponent; e++) for (const m of MANTISSAS) out.push(Number((m * 10 ** e).toPrecision(3)));
  out.push(Number((10 ** toExponent).toPrecision(3)));
  return out;
}

/** Upper bounds (le) of the finite buckets, in seconds as exported; +Inf follows. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze(preferredNumbers(-2, 3));
/** The same bounds in milliseconds, written from the same digits (no ×1000 rounding). */
const BUCKETS_MS: readonly number[] = Object.freeze(preferredNumbers(1, 6));

export class LatencyHistogram {
  /** Per bucket (not cumulative) counts; the last one is +Inf. */
  readonly counts: number[] = new Array<number>(BUCKETS_MS.length + 1).fill(0);
  /** Σ of the observed milliseconds. */
  sumMs = 0;

  get count(): number {
    return this.counts.reduce((s, c) => s + c, 0);
  }

  observe(ms: number): void {
    if (!(Number.isFinite(ms) && ms >= 0)) return;
    let i = 0;
    while (i < BUCKETS_MS.length && ms > BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.sumMs += ms;
  }

  /** Adds another set of requests' counts (disjoint from these). */
  merge(other: LatencyHistogram): this {
    other.counts.forEach((c, i) => (this.counts[i]! += c));
    this.sumMs += other.sumMs;
    return this;
  }

  /** Cumulative counts per upper bound in seconds (Infinity last), as a Prometheus histogram has them. */
  cumulative(): { le: number; count: number }[] {
    let running = 0;
    return this.counts.map((c, i) => ({ le: LATENCY_BUCKETS_SECONDS[i] ?? Infinity, count: (running += c) }));
  }

  /** Adds `count` observations to the bucket whose upper bound is `le` seconds, from a non-cumulative count. */
  addToBucket(le: number, count: number): boolean {
    const i = le === Infinity ? BUCKETS_MS.length : LATENCY_BUCKETS_SECONDS.indexOf(le);
    if (i < 0) return false;
    this.counts[i]! += count;
    return true;
  }
}

/** Bucket index holding the k-th smallest observation (1-based k, 1 ≤ k ≤ n). */
function bucketOfRank(counts: readonly number[], k: number): number {
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    cumulative += counts[i]!;
    if (cumulative >= k) return i;
  }
  return counts.length - 1;
}

const lowerEdge = (i: number): number => (i === 0 ? 0 : BUCKETS_MS[i - 1]!);
const upperEdge = (i: number): number => BUCKETS_MS[i] ?? Infinity;

/** histogram_quantile's value at rank q·n, in milliseconds. */
function interpolated(counts: readonly number[], n: number, q: number): number {
  const rank = q * n;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (below + c >= rank && c > 0) {
      if (i === counts.length - 1) return BUCKETS_MS[BUCKETS_MS.length - 1]!;
      return lowerEdge(i) + ((upperEdge(i) - lowerEdge(i)) * (rank - below)) / c;
    }
    below += c;
  }
  return BUCKETS_MS[BUCKETS_MS.length - 1]!;
}

/** The q-quantile in milliseconds with its order-statistic interval widened to bucket edges. */
export function histogramQuantileEstimate(h: LatencyHistogram, q: number, confidence = 0.95): Estimate | null {
  const n = h.count;
  if (n === 0) return null;
  const ranks = quantileRanks(n, q, confidence);
  const high = ranks && upperEdge(bucketOfRank(h.counts, ranks.upper));
  return {
    estimate: interpolated(h.counts, n, q),
    ci: ranks && high !== null && Number.isFinite(high) ? { low: lowerEdge(bucketOfRank(h.counts, ranks.lower)), high } : null,
  };
}
