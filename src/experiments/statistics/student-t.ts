// Student's t distribution through the regularised incomplete beta function:
// for t >= 0, P(T > t) = I_{ν/(ν+t²)}(ν/2, 1/2) / 2 (Abramowitz & Stegun 26.7.1 with 26.5.27).
// Degrees of freedom need not be integers (Welch's test gives fractional ones).

import { normalCdf, normalQuantile } from './normal.js';
import { regularizedBeta } from './special-functions.js';

// Beyond this the t and normal distributions agree to ~1e-8 and the beta fraction gets slow.
const NORMAL_DF = 1e7;

function checkDf(df: number): void {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0, got ${df}`);
}

/** P(|T| >= |t|) for T ~ t(df): the two-sided p-value of a t statistic. */
export function studentTTwoSided(t: number, df: number): number {
  checkDf(df);
  if (Number.isNaN(t)) return NaN;
  if (df > NORMAL_DF) return 2 * normalCdf(-Math.abs(t));
  if (!Number.isFinite(t)) return 0;
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/** P(T <= t) for T ~ t(df). */
export function studentTCdf(t: number, df: number): number {
  checkDf(df);
  if (Number.isNaN(t)) return NaN;
  if (df > NORMAL_DF) return normalCdf(t);
  const tail = studentTTwoSided(t, df) / 2;
  return t > 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of t(df), by bisection (the CDF is monotone, so it cannot fail to converge).
 * It bisects on the upper tail P(T > t) = 1 − p, not on the CDF: near p = 1 the CDF is
 * 1 − tiny and its rounding would cost the quantile half its digits.
 */
export function studentTQuantile(p: number, df: number): number {
  checkDf(df);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`studentTQuantile needs p in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (df > NORMAL_DF) return normalQuantile(p);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const target = 1 - p;
  const tail = (t: number) => studentTTwoSided(t, df) / 2;
  // The t quantile is at least the normal one; grow the upper bracket until it holds p.
  let low = normalQuantile(p);
  let high = Math.max(2 * low, 1);
  while (tail(high) > target) {
    low = high;
    high *= 2;
  }
  for (let i = 0; i < 200 && high - low > 1e-14 * high; i++) {
    const mid = (low + high) / 2;
    if (tail(mid) > target) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}
