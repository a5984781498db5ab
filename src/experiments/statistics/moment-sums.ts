// Count, sum and sum of squares of a per-request value: the sufficient statistics of its mean and
// variance that add across replicas and restarts (a Prometheus counter each), where Welford's
// running mean (running-moments.ts) does not. The values summed here are bounded per-request
// rates (acceptance in [0, 1], tokens per verifier step ≤ γ + 1), so the textbook variance
// formula loses nothing that matters to cancellation.

import type { SampleMoments } from './running-moments.js';

export class MomentSums {
  n = 0;
  sum = 0;
  sumSquares = 0;

  push(x: number): void {
    if (!Number.isFinite(x)) throw new RangeError(`MomentSums: not a finite number: ${x}`);
    this.n++;
    this.sum += x;
    this.sumSquares += x * x;
  }

  /** Adds another set of requests' sums (disjoint from these). */
  merge(other: MomentSums): this {
    this.n += other.n;
    this.sum += other.sum;
    this.sumSquares += other.sumSquares;
    return this;
  }

  /** Mean NaN when empty; unbiased variance NaN below two values. */
  moments(): SampleMoments {
    const mean = this.n === 0 ? NaN : this.sum / this.n;
    if (this.n < 2) return { n: this.n, mean, variance: NaN };
    const squares = this.sumSquares - this.sum * mean;
    // A constant sample leaves rounding, of either sign, where 0 belongs; Welch's test then knows
    // the difference exactly instead of dividing by noise.
    const variance = squares <= 16 * Number.EPSILON * this.sumSquares ? 0 : squares / (this.n - 1);
    return { n: this.n, mean, variance };
  }
}
