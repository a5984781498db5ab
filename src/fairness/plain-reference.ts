// The plain-decoding reference that turns a speculative request's time into a speed-up:
//
//   speed-up(request) = completionTokens × plainMsPerToken(language) / totalMs
//
// plainMsPerToken is estimated from γ = 0 requests (plain decoding through the same engine
// loop, e.g. an experiment's control share with drafter null) as a ratio of sums,
//   Σ totalMs / Σ completionTokens     over γ = 0 requests of that language.
// Why totalMs and not the verifier's step time (verifyMs / verifierSteps): a request's totalMs
// also holds tokenisation, prefill, sampling and detokenisation, and the speculative request's
// totalMs in the numerator holds the same overheads; timing both on the same clock makes a
// plain request's speed-up 1 by construction, where the step time alone would leave plain
// decoding looking ~3-5% slower than itself. Why per language: prompt length in tokens, and so
// the prefill share, differs by language (tokeniser fertility), so the cost per output token
// does too. A language with fewer than `minRequests` plain requests uses the pooled estimate.
//
// The reference is a common factor within a language, so an A/B difference tested on
// per-request tokens/ms has exactly the same t statistic and p-value as one on speed-ups; the
// reference only sets the scale ("× over plain decoding"). Confidence intervals treat it as
// known. It is cumulative since boot: if the machine's load changes, the concurrent control
// share of an experiment, not this figure, is the baseline to trust.

import { isPlainDecoding, type RequestOutcome } from './request-outcome.js';

export interface PlainReferenceEstimate {
  msPerToken: number;
  /** 'language': from this language's plain requests; 'pooled': from all languages'. */
  source: 'language' | 'pooled';
  /** Plain requests the estimate is based on. */
  requests: number;
}

interface Sums {
  requests: number;
  tokens: number;
  ms: number;
}

export interface PlainReferenceOptions {
  /** Plain requests a language needs before its own estimate replaces the pooled one (default 10). */
  minRequests?: number;
}

export class PlainDecodingReference {
  readonly #byLanguage = new Map<string, Sums>();
  readonly #pooled: Sums = { requests: 0, tokens: 0, ms: 0 };
  readonly #minRequests: number;

  constructor(options: PlainReferenceOptions = {}) {
    this.#minRequests = options.minRequests ?? 10;
    if (!(Number.isInteger(this.#minRequests) && this.#minRequests >= 1)) {
      throw new RangeError(`minRequests must be a positive integer, got ${options.minRequests}`);
    }
  }

  /** Adds a γ = 0 request; anything else (or a request that generated nothing) is ignored. */
  record(language: string, outcome: RequestOutcome): boolean {
    if (!isPlainDecoding(outcome) || !(outcome.completionTokens > 0 && outcome.totalMs > 0)) return false;
    let sums = this.#byLanguage.get(language);
    if (!sums) this.#byLanguage.set(language, (sums = { requests: 0, tokens: 0, ms: 0 }));
    for (const s of [sums, this.#pooled]) {
      s.requests++;
      s.tokens += outcome.completionTokens;
      s.ms += outcome.totalMs;
    }
    return true;
  }

  /** Plain decoding cost per output token for `language`, or null before any plain request. */
  estimate(language: string): PlainReferenceEstimate | null {
    const own = this.#byLanguage.get(language);
    if (own && own.requests >= this.#minRequests) return { msPerToken: own.ms / own.tokens, source: 'language', requests: own.requests };
    if (this.#pooled.requests === 0) return null;
    return { msPerToken: this.#pooled.ms / this.#pooled.tokens, source: 'pooled', requests: this.#pooled.requests };
  }
}
