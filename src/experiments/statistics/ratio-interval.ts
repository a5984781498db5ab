// Confidence interval for a ratio of sums R = Σaᵢ / Σdᵢ over requests i (e.g. accepted over
// drafted tokens), treating the request as the independent unit. Delta method (Cochran,
// "Sampling Techniques", §6.4, the ratio estimator):
//   Var(R) ≈ s²_e / (n · d̄²),   eᵢ = aᵢ − R·dᵢ,   s²_e = (Σa² − 2RΣad + R²Σd²) / (n − 1)
// Tokens of one request succeed or fail together, which the token-level Wilson interval ignores.

import { upperTail, type Interval } from './interval.js';
import { studentTQuantile } from './student-t.js';

/** Running sums over requests of a numerator a and a denominator d. */
export class RatioSums {
  n = 0;
  a = 0;
  d = 0;
  aa = 0;
  dd = 0;
  ad = 0;

  push(a: number, d: number): void {
    this.n++;
    this.a += a;
    this.d += d;
    this.aa += a * a;
    this.dd += d * d;
    this.ad += a * d;
  }
}

export function ratioInterval(s: RatioSums, confidence = 0.95): Interval | null {
  if (s.n < 2 || s.d <= 0) return null;
  const r = s.a / s.d;
  const meanD = s.d / s.n;
  // Clamp: rounding can take a sum of squares that should be 0 a hair below.
  const residualVariance = Math.max(0, (s.aa - 2 * r * s.ad + r * r * s.dd) / (s.n - 1));
  const half = studentTQuantile(upperTail(confidence), s.n - 1) * Math.sqrt(residualVariance / s.n) / meanD;
  return { low: r - half, high: r + half };
}
