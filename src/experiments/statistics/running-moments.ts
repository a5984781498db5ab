// Count, mean and variance of a stream in one pass, numerically stable (Welford 1962), with
// the pairwise merge of Chan, Golub & LeVeque (1979) to pool two streams.

/** Summary statistics of a sample; variance is the unbiased sample variance (n − 1). */
export interface SampleMoments {
  n: number;
  mean: number;
  variance: number;
}

export class RunningMoments {
  #n = 0;
  #mean = 0;
  #m2 = 0; // sum of squared deviations from the mean

  push(x: number): void {
    if (!Number.isFinite(x)) throw new RangeError(`RunningMoments: not a finite number: ${x}`);
    this.#n++;
    const delta = x - this.#mean;
    this.#mean += delta / this.#n;
    this.#m2 += delta * (x - this.#mean);
  }

  merge(other: RunningMoments): void {
    if (other.#n === 0) return;
    const n = this.#n + other.#n;
    const delta = other.#mean - this.#mean;
    this.#m2 += other.#m2 + (delta * delta * this.#n * other.#n) / n;
    this.#mean += (delta * other.#n) / n;
    this.#n = n;
  }

  get n(): number {
    return this.#n;
  }

  /** NaN when empty. */
  get mean(): number {
    return this.#n === 0 ? NaN : this.#mean;
  }

  /** Unbiased sample variance; NaN below two values. */
  get variance(): number {
    return this.#n < 2 ? NaN : this.#m2 / (this.#n - 1);
  }

  moments(): SampleMoments {
    return { n: this.n, mean: this.mean, variance: this.variance };
  }
}
