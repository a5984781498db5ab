// Wilson score interval for a binomial proportion (Wilson 1927; Newcombe 1998, method 3):
// unlike the Wald interval it stays inside [0, 1] and keeps its coverage near 0 and 1.
//
// It assumes independent trials. Drafted tokens are not: they are clustered by request (one
// hard prompt rejects many of its drafts), so for acceptance rates the token-level Wilson
// interval is narrower than the truth; ratio-interval.ts gives the request-clustered one.

import { normalQuantile } from './normal.js';
import { upperTail, type Interval } from './interval.js';

export function wilsonInterval(successes: number, trials: number, confidence = 0.95): Interval | null {
  if (!(Number.isInteger(successes) && Number.isInteger(trials) && successes >= 0 && successes <= trials)) {
    throw new RangeError(`wilsonInterval needs integers 0 <= successes <= trials, got ${successes}/${trials}`);
  }
  if (trials === 0) return null;
  const z = normalQuantile(upperTail(confidence));
  const n = trials;
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  // At 0 or n successes one bound is exactly 0 or 1; rounding would leave it a hair off.
  return {
    low: successes === 0 ? 0 : Math.max(0, centre - half),
    high: successes === trials ? 1 : Math.min(1, centre + half),
  };
}
