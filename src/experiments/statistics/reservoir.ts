// A uniform random sample of fixed size from a stream of unknown length (Vitter's algorithm R):
// after n pushes every value is in the sample with probability capacity/n, so quantiles of the
// sample estimate quantiles of the stream with bounded memory. The random source is injected
// (seeded by the caller) so a replayed stream gives the same sample.

export interface UniformSource {
  /** Uniform in [0, 1). */
  next(): number;
}

export class Reservoir {
  readonly #values: number[] = [];
  #seen = 0;

  constructor(
    readonly capacity: number,
    private readonly random: UniformSource,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`reservoir capacity must be a positive integer, got ${capacity}`);
  }

  push(x: number): void {
    this.#seen++;
    if (this.#values.length < this.capacity) {
      this.#values.push(x);
      return;
    }
    const j = Math.floor(this.random.next() * this.#seen); // uniform in [0, seen)
    if (j < this.capacity) this.#values[j] = x;
  }

  /** Values pushed so far, kept or not. */
  get seen(): number {
    return this.#seen;
  }

  /** A sorted copy of the sample. */
  sorted(): number[] {
    return [...this.#values].sort((a, b) => a - b);
  }
}
