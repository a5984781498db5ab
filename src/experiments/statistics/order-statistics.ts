// Sample quantiles and their distribution-free confidence intervals from order statistics.
//
// The number of sample values at or below the true q-quantile ξ_q is Binomial(n, q), so
//   P(x_(l) <= ξ_q < x_(u)) = F(u − 1) − F(l − 1)     (1-based ranks, F the binomial CDF)
// With l = F⁻¹(α/2) and u = F⁻¹(1 − α/2) + 1 the coverage is at least 1 − α (Hahn & Meeker,
// "Statistical Intervals", §5.2; for n = 100, q = 0.5 this gives Conover's x_(40), x_(61)).
// No resampling, so nothing random: the same sample always gives the same interval.

import { upperTail, type Estimate } from './interval.js';
import { regularizedBeta } from './special-functions.js';

/** P(B <= k) for B ~ Binomial(n, q), as I_{1−q}(n − k, k + 1). */
export function binomialCdf(k: number, n: number, q: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (q <= 0) return 1;
  if (q >= 1) return 0;
  return regularizedBeta(1 - q, n - k, k + 1);
}

/** The smallest k with P(B <= k) >= p, by binary search (the CDF is monotone in k). */
export function binomialQuantile(p: number, n: number, q: number): number {
  let low = 0;
  let high = n;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (binomialCdf(mid, n, q) >= p) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Type-7 sample quantile (linear interpolation between order statistics; R's and numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of an empty sample');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile needs q in [0, 1], got ${q}`);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return a + (h - lo) * (b - a);
}

/** 1-based ranks (l, u) of the order statistics bounding the q-quantile, or null when n is too small. */
export function quantileRanks(n: number, q: number, confidence = 0.95): { lower: number; upper: number } | null {
  if (n === 0) return null;
  const alpha = 2 * (1 - upperTail(confidence));
  const lower = binomialQuantile(alpha / 2, n, q);
  const upper = binomialQuantile(1 - alpha / 2, n, q) + 1;
  return lower >= 1 && upper <= n ? { lower, upper } : null;
}

/** The q-quantile of a sorted sample with its order-statistic interval (null below ~3/min(q, 1−q) values). */
export function quantileEstimate(sorted: readonly number[], q: number, confidence = 0.95): Estimate | null {
  if (sorted.length === 0) return null;
  const ranks = quantileRanks(sorted.length, q, confidence);
  return {
    estimate: quantile(sorted, q),
    ci: ranks && { low: sorted[ranks.lower - 1]!, high: sorted[ranks.upper - 1]! },
  };
}
