// Which drafters are failing: a drafter whose forward pass threw or gave unusable logits
// (src/engine/model-fault.ts) is routed around for a cool-down, so the requests after a fault do
// not meet it again; each of them would only fall back to plain decoding mid-generation. Once the
// cool-down ends the drafter is routed to again, and a new fault starts a new one. A burst is
// the faults of one cool-down: the caller logs its first and counts the rest.

export interface DrafterHealthOptions {
  /** How long a drafter is routed around after a fault; default 30 s. */
  coolDownMs?: number;
  /** Clock in ms; default performance.now. */
  now?: () => number;
}

export class DrafterHealth {
  readonly coolDownMs: number;
  readonly #now: () => number;
  /** drafter -> when its cool-down ends */
  readonly #until = new Map<string, number>();

  constructor({ coolDownMs = 30_000, now = () => performance.now() }: DrafterHealthOptions = {}) {
    if (!(Number.isFinite(coolDownMs) && coolDownMs >= 0)) throw new RangeError(`coolDownMs must be a finite number >= 0, got ${coolDownMs}`);
    this.coolDownMs = coolDownMs;
    this.#now = now;
  }

  /** A fault of `drafter`: it is failing for coolDownMs from now. True when this starts a burst. */
  failed(drafter: string): boolean {
    const burst = !this.failing(drafter);
    this.#until.set(drafter, this.#now() + this.coolDownMs);
    return burst;
  }

  failing(drafter: string): boolean {
    const until = this.#until.get(drafter);
    if (until === undefined) return false;
    if (this.#now() < until) return true;
    this.#until.delete(drafter);
    return false;
  }

  /** `drafter` runs a new model (a hot swap): the old model's faults are not the new one's. */
  reset(drafter: string): void {
    this.#until.delete(drafter);
  }
}
