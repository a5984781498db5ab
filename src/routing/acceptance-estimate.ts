// Online estimate of one drafter's acceptance rate alpha on one language: a Beta posterior over
// the engine's exact per-position alpha(s) = sum_x min(p, q), with exponential forgetting.
//
// Each drafted position counts as alpha(s) successes and 1 - alpha(s) failures. alpha(s) is the
// probability that the position's draft is accepted, so using it instead of the realised
// accept/reject bit (Rao-Blackwell) gives the same mean with less variance.
//
// Forgetting: before a request's n positions are added, the observed counts are multiplied by
// 2^(-n / halfLifeTokens), so the estimate follows a drafter that improves or degrades, and the
// posterior never holds more than about halfLifeTokens / ln 2 tokens of evidence. The prior is
// not decayed: it is where the estimate rests with little recent data.
//
// The interval is the normal approximation mean +- 1.96 sd, clipped to [0, 1]. It treats drafted
// positions as independent; positions of one request share a prompt, so the true uncertainty is
// somewhat larger, which is one reason the policy adds a margin on top of the lower bound.

const Z95 = 1.959964;

export interface AcceptanceEstimateOptions {
  /** Tokens after which old evidence weighs half. */
  halfLifeTokens: number;
  /** Prior mean, e.g. the offline alpha from the pack's evaluation; default 0.5. */
  prior?: number;
  /** Prior weight in drafted tokens; default 2 (Beta(1, 1) for the default prior). */
  priorStrength?: number;
}

export interface AcceptanceInterval {
  mean: number;
  sd: number;
  /** 95% credible interval (normal approximation). */
  lower: number;
  upper: number;
}

export class AcceptanceEstimate {
  readonly #decayPerToken: number;
  readonly #priorSuccesses: number;
  readonly #priorFailures: number;
  #successes = 0;
  #failures = 0;
  #observedTokens = 0;
  #requests = 0;

  constructor({ halfLifeTokens, prior = 0.5, priorStrength = 2 }: AcceptanceEstimateOptions) {
    if (!(halfLifeTokens > 0)) throw new RangeError(`halfLifeTokens must be > 0, got ${halfLifeTokens}`);
    if (!(prior >= 0 && prior <= 1)) throw new RangeError(`prior must be in [0, 1], got ${prior}`);
    if (!(priorStrength > 0)) throw new RangeError(`priorStrength must be > 0, got ${priorStrength}`);
    this.#decayPerToken = 2 ** (-1 / halfLifeTokens);
    this.#priorSuccesses = prior * priorStrength;
    this.#priorFailures = (1 - prior) * priorStrength;
  }

  /** One request: `alphaSum` = sum of alpha(s) over its `draftedTokens` drafted positions. */
  observe(alphaSum: number, draftedTokens: number): void {
    if (!(Number.isFinite(draftedTokens) && draftedTokens >= 0)) {
      throw new RangeError(`draftedTokens must be a finite number >= 0, got ${draftedTokens}`);
    }
    // float sums of values in [0, 1] may overshoot by a rounding error, never by more
    if (!(alphaSum >= -1e-6 && alphaSum <= draftedTokens * (1 + 1e-9) + 1e-6)) {
      throw new RangeError(`alphaSum must be in [0, draftedTokens = ${draftedTokens}], got ${alphaSum}`);
    }
    if (draftedTokens === 0) return;
    const accepted = Math.min(Math.max(alphaSum, 0), draftedTokens);
    const keep = this.#decayPerToken ** draftedTokens;
    this.#successes = keep * this.#successes + accepted;
    this.#failures = keep * this.#failures + (draftedTokens - accepted);
    this.#observedTokens += draftedTokens;
    this.#requests += 1;
  }

  /**
   * Caps the evidence at `maxTokens` drafted tokens, keeping the mean of the observations: what
   * was measured on a model that has since been replaced becomes a prior for its successor, of
   * that weight, which the successor's own observations soon outweigh. observedTokens and
   * requests are kept (they count what was seen, and gate readiness).
   */
  discount(maxTokens: number): void {
    if (!(Number.isFinite(maxTokens) && maxTokens >= 0)) throw new RangeError(`maxTokens must be a finite number >= 0, got ${maxTokens}`);
    const evidence = this.#successes + this.#failures;
    if (evidence <= maxTokens) return;
    const keep = maxTokens / evidence;
    this.#successes *= keep;
    this.#failures *= keep;
  }

  /** Drafted tokens observed so far, without forgetting. */
  get observedTokens(): number {
    return this.#observedTokens;
  }

  get requests(): number {
    return this.#requests;
  }

  /** Evidence the posterior holds now, in drafted tokens (decayed; prior excluded). */
  get effectiveTokens(): number {
    return this.#successes + this.#failures;
  }

  get mean(): number {
    return (this.#priorSuccesses + this.#successes) / this.#total();
  }

  interval(): AcceptanceInterval {
    const a = this.#priorSuccesses + this.#successes;
    const total = this.#total();
    const mean = a / total;
    const sd = Math.sqrt((mean * (1 - mean)) / (total + 1));
    return { mean, sd, lower: Math.max(0, mean - Z95 * sd), upper: Math.min(1, mean + Z95 * sd) };
  }

  #total(): number {
    return this.#priorSuccesses + this.#priorFailures + this.#successes + this.#failures;
  }
}
