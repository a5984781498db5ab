// Online estimates of the cost terms in S(gamma) = E / (gamma * c + v(gamma)), from the step times
// the engine reports, in units of t0 = one plain (gamma = 0) verifier step:
//   c(drafter) = drafter ms per drafted token / t0
//   v(gamma)   = verifier ms per step at draft length gamma / t0
// Every time is an exponentially smoothed ratio (sum of ms / sum of steps, older terms decayed by
// 2^(-steps / halfLifeSteps)), so long requests weigh more than short ones and a drifting machine
// (another job, thermal limits) is followed.
//
// The verifier's cost does not depend on which drafter proposed the tokens, so v is kept per gamma
// only. Until a plain request has measured t0, the cheapest measured speculative step stands in
// for it and v is taken as 1 (the paper's memory-bound form). A c given in config (measured
// offline) is used until this drafter has been timed here.
//
// When a drafter's model is replaced (a hot swap), its timing describes a model that is gone and
// whose size may differ by any factor: replaceDrafter() keeps it standing in, so routing does not
// change at the moment of the swap, until the new model's first timed request replaces it
// outright (no blending with the old model's times, which would take about a half-life of
// drafted tokens to wash out).

export interface CostEstimateOptions {
  /** Steps (verifier steps, or drafted tokens for a drafter) after which old timings weigh half. */
  halfLifeSteps: number;
  /** Offline c per drafter, used until the drafter is timed. */
  offline?: Readonly<Record<string, number>>;
}

export interface CostSnapshot {
  /** t0: plain verifier ms per step; null until a plain request was seen. */
  verifierMsPerStep: number | null;
  /** v(gamma) for each gamma timed so far. */
  verifyCost: Record<number, number>;
  /** source 'previous': measured on a replaced model, standing in until the current one is timed. */
  drafters: Record<string, { msPerToken: number | null; costRatio: number | null; source: 'measured' | 'previous' | 'offline' | null }>;
}

class SmoothedRate {
  #ms = 0;
  #steps = 0;
  constructor(readonly decayPerStep: number) {}

  add(ms: number, steps: number): void {
    const keep = this.decayPerStep ** steps;
    this.#ms = keep * this.#ms + ms;
    this.#steps = keep * this.#steps + steps;
  }

  /** ms per step; undefined before any step. */
  get value(): number | undefined {
    return this.#steps > 0 ? this.#ms / this.#steps : undefined;
  }
}

export class CostEstimate {
  readonly #decay: number;
  readonly #offline: Readonly<Record<string, number>>;
  readonly #plain: SmoothedRate;
  readonly #verifyByGamma = new Map<number, SmoothedRate>();
  readonly #drafters = new Map<string, SmoothedRate>();
  /** Drafters whose timing is of a replaced model, until the new one is timed. */
  readonly #replaced = new Set<string>();

  constructor({ halfLifeSteps, offline = {} }: CostEstimateOptions) {
    if (!(halfLifeSteps > 0)) throw new RangeError(`halfLifeSteps must be > 0, got ${halfLifeSteps}`);
    this.#decay = 2 ** (-1 / halfLifeSteps);
    this.#offline = offline;
    this.#plain = new SmoothedRate(this.#decay);
  }

  /** A plain (gamma = 0) request: its verifier time per step is t0. */
  observePlain(verifyMs: number, verifierSteps: number): void {
    if (valid(verifyMs, verifierSteps)) this.#plain.add(verifyMs, verifierSteps);
  }

  /** A speculative request at draft length `gamma`. */
  observeSpeculative(drafter: string, gamma: number, draftMs: number, draftedTokens: number, verifyMs: number, verifierSteps: number): void {
    if (valid(draftMs, draftedTokens)) {
      if (this.#replaced.delete(drafter)) this.#drafters.delete(drafter);
      this.#rate(this.#drafters, drafter).add(draftMs, draftedTokens);
    }
    this.observeVerify(gamma, verifyMs, verifierSteps);
  }

  /** Only the verifier's part of a speculative request at draft length `gamma`. */
  observeVerify(gamma: number, verifyMs: number, verifierSteps: number): void {
    if (valid(verifyMs, verifierSteps)) this.#rate(this.#verifyByGamma, gamma).add(verifyMs, verifierSteps);
  }

  /** `drafter` now runs another model: its next timing replaces the current one instead of adding to it. */
  replaceDrafter(drafter: string): void {
    if (this.#drafters.has(drafter)) this.#replaced.add(drafter);
  }

  /** c for `drafter`: measured, else offline, else undefined (cannot be scored yet). */
  costRatio(drafter: string): number | undefined {
    const msPerToken = this.#drafters.get(drafter)?.value;
    const t0 = this.#baseline();
    if (msPerToken !== undefined && t0 !== undefined && t0 > 0) return msPerToken / t0;
    return this.#offline[drafter];
  }

  /**
   * v(gamma) >= 1. An untimed gamma borrows the nearest timed smaller gamma's value: verification
   * cost grows with gamma, so this errs towards trying the longer draft, which then gets timed.
   */
  verifyCost(gamma: number): number {
    const t0 = this.#plain.value;
    if (gamma === 0 || t0 === undefined || t0 <= 0) return 1;
    for (let g = gamma; g >= 1; g--) {
      const ms = this.#verifyByGamma.get(g)?.value;
      // a step that checks gamma + 1 tokens is never cheaper than one that checks 1: less is noise
      if (ms !== undefined) return Math.max(1, ms / t0);
    }
    return 1;
  }

  snapshot(): CostSnapshot {
    const verifyCost: Record<number, number> = {};
    for (const gamma of [...this.#verifyByGamma.keys()].sort((a, b) => a - b)) verifyCost[gamma] = this.verifyCost(gamma);
    const drafters: CostSnapshot['drafters'] = {};
    for (const name of new Set([...Object.keys(this.#offline), ...this.#drafters.keys()])) {
      const msPerToken = this.#drafters.get(name)?.value ?? null;
      const costRatio = this.costRatio(name) ?? null;
      const measured = msPerToken !== null && (this.#baseline() ?? 0) > 0;
      const source = costRatio === null ? null : !measured ? 'offline' : this.#replaced.has(name) ? 'previous' : 'measured';
      drafters[name] = { msPerToken, costRatio, source };
    }
    return { verifierMsPerStep: this.#plain.value ?? null, verifyCost, drafters };
  }

  #baseline(): number | undefined {
    const plain = this.#plain.value;
    if (plain !== undefined) return plain;
    const timed = [...this.#verifyByGamma.values()].map((r) => r.value).filter((v): v is number => v !== undefined);
    return timed.length > 0 ? Math.min(...timed) : undefined;
  }

  #rate<K>(map: Map<K, SmoothedRate>, key: K): SmoothedRate {
    let rate = map.get(key);
    if (!rate) map.set(key, (rate = new SmoothedRate(this.#decay)));
    return rate;
  }
}

const valid = (ms: number, steps: number): boolean => Number.isFinite(ms) && ms >= 0 && Number.isFinite(steps) && steps > 0;
