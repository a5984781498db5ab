// Repeated faults within a time window: `threshold` of them in the last `windowMs` make the
// component failing, and it recovers by itself once faults stop (nothing has to succeed first,
// which a server taken out of rotation could not do). Readiness uses it for verifier faults: one
// fails only its own request, a run of them says the model is broken (issue 16).

export interface FaultWindowOptions {
  /** Faults within the window that make it failing; default 3. */
  threshold?: number;
  /** default 60 s */
  windowMs?: number;
  /** Clock in ms; default performance.now. */
  now?: () => number;
}

export class FaultWindow {
  readonly threshold: number;
  readonly windowMs: number;
  readonly #now: () => number;
  /** The times of the last `threshold` faults, oldest first. */
  readonly #times: number[] = [];

  constructor({ threshold = 3, windowMs = 60_000, now = () => performance.now() }: FaultWindowOptions = {}) {
    if (!(Number.isInteger(threshold) && threshold >= 1)) throw new RangeError(`threshold must be an integer >= 1, got ${threshold}`);
    if (!(Number.isFinite(windowMs) && windowMs > 0)) throw new RangeError(`windowMs must be a finite number > 0, got ${windowMs}`);
    this.threshold = threshold;
    this.windowMs = windowMs;
    this.#now = now;
  }

  record(): void {
    this.#times.push(this.#now());
    if (this.#times.length > this.threshold) this.#times.shift();
  }

  /** Faults within the window, at most threshold. */
  get recent(): number {
    const since = this.#now() - this.windowMs;
    return this.#times.filter((t) => t > since).length;
  }

  get failing(): boolean {
    return this.recent >= this.threshold;
  }
}
