// Each experiment's read-out for the scrape-time gauges, computed at most once per interval.
// A read-out is every (arm, language) cell's intervals, the arm comparisons and, per treatment
// arm, a bootstrap of the worst language; recomputed on every scrape, /metrics would cost that
// many times the experiments held, however often Prometheus (or several) scraped. The gauges
// lag the traffic by at most the interval; GET /v1/experiments/{id} stays exact.

import type { Experiment } from '../experiments/experiment.js';

export interface ReadoutCacheOptions {
  /** How long a read-out is reused; 0: never. */
  ttlMs: number;
  /** Clock; default performance.now. */
  now?: () => number;
}

interface Entry<T> {
  experiment: Experiment;
  at: number;
  readout: T;
}

export class ReadoutCache<T> {
  readonly #compute: (experiment: Experiment) => T;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry<T>>();

  constructor(compute: (experiment: Experiment) => T, options: ReadoutCacheOptions) {
    this.#compute = compute;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The read-outs of `experiments`, each computed less than ttlMs ago; those of any others are dropped. */
  readouts(experiments: readonly Experiment[]): T[] {
    const now = this.#now();
    const ids = new Set(experiments.map((e) => e.id));
    for (const id of this.#entries.keys()) if (!ids.has(id)) this.#entries.delete(id);
    return experiments.map((experiment) => {
      const entry = this.#entries.get(experiment.id);
      // Identity: an experiment deleted and created again, or enabled or disabled, is a new object.
      if (entry && entry.experiment === experiment && now - entry.at < this.#ttlMs) return entry.readout;
      const readout = this.#compute(experiment);
      // Stamped when done: however long a computation takes, the next waits a whole interval.
      this.#entries.set(experiment.id, { experiment, at: this.#now(), readout });
      return readout;
    });
  }
}
