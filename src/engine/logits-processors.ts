// Logits processors that read the sequence so far: logit bias, min_tokens, and the repetition,
// presence and frequency penalties (issue 17), plus min-p. Each edits a float64 logits row in
// place, like those of sampling.ts, and TokenSampler chains them in vLLM's order: bias and
// min_tokens, the penalties, then (sampled requests only) temperature, min-p, top-k, top-p.
//
// Lossless speculation needs the processed target p to be the same function of the sequence at
// every position as plain decoding's: the verifier's row i is processed with the committed tokens
// plus drafts 0..i-1 as its history, and the drafter's q with the same, so rejection sampling
// stays exact for the processed p (rejection.ts) and greedy acceptance compares processed argmaxes.

import type { LogitsProcessor } from './sampling.js';

/** The tokens before a position: the prompt, then the output so far (drafts included). */
export class TokenHistory {
  #counts: Map<number, number> | null = null;
  #seen: Set<number> | null = null;

  constructor(
    /** [promptLength + output] */
    readonly tokens: readonly number[],
    readonly promptLength: number,
  ) {
    if (!(promptLength >= 0 && promptLength <= tokens.length)) {
      throw new RangeError(`history of ${tokens.length} tokens cannot hold a prompt of ${promptLength}`);
    }
  }

  get outputLength(): number {
    return this.tokens.length - this.promptLength;
  }

  /** How often each token occurs in the output. */
  outputCounts(): ReadonlyMap<number, number> {
    if (this.#counts === null) {
      this.#counts = new Map();
      for (let i = this.promptLength; i < this.tokens.length; i++) {
        const t = this.tokens[i]!;
        this.#counts.set(t, (this.#counts.get(t) ?? 0) + 1);
      }
    }
    return this.#counts;
  }

  /** Every token of the prompt and the output. */
  seen(): ReadonlySet<number> {
    this.#seen ??= new Set(this.tokens);
    return this.#seen;
  }
}

/** Adds a bias to chosen tokens' logits (OpenAI's logit_bias: -100 bans, +100 all but forces). */
export class LogitBiasProcessor implements LogitsProcessor {
  readonly #bias: Array<[number, number]>;

  constructor(bias: Readonly<Record<number, number>>) {
    this.#bias = Object.entries(bias).map(([token, value]) => [Number(token), value]);
    for (const [token, value] of this.#bias) {
      if (!(Number.isInteger(token) && token >= 0) || !Number.isFinite(value)) throw new RangeError(`bad logit bias ${token}: ${value}`);
    }
  }

  process(logits: Float64Array): void {
    for (const [token, value] of this.#bias) if (token < logits.length) logits[token]! += value;
  }
}

/** Masks the eos tokens until the output has minTokens tokens (vLLM's min_tokens). */
export class MinTokensProcessor implements LogitsProcessor {
  constructor(
    readonly minTokens: number,
    readonly eosTokenIds: readonly number[],
  ) {
    if (!(Number.isInteger(minTokens) && minTokens >= 0)) throw new RangeError(`min_tokens must be an integer >= 0, got ${minTokens}`);
  }

  process(logits: Float64Array, history: TokenHistory): void {
    if (history.outputLength >= this.minTokens) return;
    for (const eos of this.eosTokenIds) if (eos < logits.length) logits[eos] = -Infinity;
  }
}

/**
 * The CTRL repetition penalty (arXiv 1909.05858) as transformers and vLLM apply it: every token of
 * the prompt or the output has a positive logit divided by r, a negative one multiplied by r.
 */
export class RepetitionPenaltyProcessor implements LogitsProcessor {
  constructor(readonly penalty: number) {
    if (!(penalty > 0 && Number.isFinite(penalty))) throw new RangeError(`repetition_penalty must be > 0, got ${penalty}`);
  }

  process(logits: Float64Array, history: TokenHistory): void {
    for (const token of history.seen()) {
      if (token >= logits.length) continue;
      const l = logits[token]!;
      logits[token] = l > 0 ? l / this.penalty : l * this.penalty;
    }
  }
}

/**
 * OpenAI's presence and frequency penalties over the output (not the prompt):
 * logit[t] -= presence · [count(t) > 0] + frequency · count(t).
 */
export class PresenceFrequencyProcessor implements LogitsProcessor {
  constructor(
    readonly presence: number,
    readonly frequency: number,
  ) {
    if (!Number.isFinite(presence) || !Number.isFinite(frequency)) throw new RangeError(`penalties must be finite, got ${presence}, ${frequency}`);
  }

  process(logits: Float64Array, history: TokenHistory): void {
    for (const [token, count] of history.outputCounts()) {
      if (token < logits.length) logits[token]! -= this.presence + this.frequency * count;
    }
  }
}

/**
 * min-p sampling (arXiv 2407.01082): keeps the tokens whose probability is at least p times the
 * most likely one's. Runs after temperature, as in vLLM; in logit terms, l ≥ max + ln p.
 */
export class MinPProcessor implements LogitsProcessor {
  constructor(readonly p: number) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`min_p must be in [0, 1], got ${p}`);
  }

  process(logits: Float64Array): void {
    if (this.p === 0) return;
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
    const threshold = max + Math.log(this.p);
    for (let i = 0; i < logits.length; i++) if (logits[i]! < threshold) logits[i] = -Infinity;
  }
}
