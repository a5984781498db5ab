// Confidence interval for a ratio of sums R = Σaᵢ / Σdᵢ over requests i (e.g. accepted over
// drafted tokens), treating the request as the independent unit. Delta method (Cochran,
// "Sampling Techniques", §6.4, the ratio estimator):
//   Var(R) ≈ s²_e / (n · d̄²),   eᵢ = aᵢ − R·dᵢ,   s²_e = (Σa² − 2RΣad + R²Σd²) / (n − 1)
// Tokens of one request succeed or fail together, which the token-level Wilson interval ignores.
//
// The six sums are all a ratio's interval needs, and they add: sums kept per replica, per time
// bucket or per cell merge into the sums of the union, and a later total minus an earlier one is
// the sums of the requests in between.

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

  /** Adds another set of requests' sums (disjoint from these). */
  merge(other: RatioSums): this {
    this.n += other.n;
    this.a += other.a;
    this.d += other.d;
    this.aa += other.aa;
    this.dd += other.dd;
    this.ad += other.ad;
    return this;
  }

  /** The sums of these requests without `earlier`'s, which must be a subset of them. */
  minus(earlier: RatioSums): RatioSums {
    const out = this.copy();
    out.n -= earlier.n;
    out.a -= earlier.a;
    out.d -= earlier.d;
    out.aa -= earlier.aa;
    out.dd -= earlier.dd;
    out.ad -= earlier.ad;
    return out;
  }

  copy(): RatioSums {
    return new RatioSums().merge(this);
  }

  /** Σa / Σd; null while Σd is not positive. */
  get ratio(): number | null {
    return this.d > 0 ? this.a / this.d : null;
  }
}

/** Σ (aᵢ − r₁dᵢ)(aᵢ − r₂dᵢ) over the requests of `s`: the residual cross-product of two ratios. */
export function residualProduct(s: RatioSums, r1: number, r2: number): number {
  return s.aa - (r1 + r2) * s.ad + r1 * r2 * s.dd;
}

export function ratioInterval(s: RatioSums, confidence = 0.95): Interval | null {
  if (s.n < 2 || s.d <= 0) return null;
  const r = s.a / s.d;
  const meanD = s.d / s.n;
  // Clamp: rounding can take a sum of squares that should be 0 a hair below.
  const residualVariance = Math.max(0, residualProduct(s, r, r) / (s.n - 1));
  const half = studentTQuantile(upperTail(confidence), s.n - 1) * Math.sqrt(residualVariance / s.n) / meanD;
  return { low: r - half, high: r + half };
}
