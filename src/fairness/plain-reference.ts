// The plain-decoding reference a speed-up divides by (src/experiments/statistics/speed-up.ts):
// the per-request sums of (completion tokens, total ms) of plain (γ = 0) requests, per language
// and pooled over languages, so that
//
//   plainMsPerToken(language) = Σ totalMs / Σ completionTokens     over its plain requests.
//
// Why totalMs and not the verifier's step time (verifyMs / verifierSteps): a request's totalMs
// also holds tokenisation, prefill, sampling and detokenisation, and the speculative request's
// totalMs holds the same overheads; timing both on the same clock makes plain decoding's
// speed-up 1 by construction, where the step time alone would leave it looking ~3-5% slower
// than itself. Why per language: prompt length in tokens, and so the prefill share, differs by
// language (tokeniser fertility), so the cost per output token does too. A language with fewer
// than `minRequests` plain requests uses the pooled sums.
//
// The sums add and subtract: an experiment adds up the plain requests recorded after it was
// created (src/experiments/experiment-store.ts, through onRecord); the live fairness window adds
// up its buckets' (src/fairness/sliding-window.ts).

import { RatioSums } from '../experiments/statistics/ratio-interval.js';
import { addTiming, isPlainDecoding, type RequestOutcome } from './request-outcome.js';

export interface PlainReferenceEstimate {
  msPerToken: number;
  /** 'language': from this language's plain requests; 'pooled': from all languages'. */
  source: 'language' | 'pooled';
  /** Plain requests the estimate is based on. */
  requests: number;
  /** Their per-request (completion tokens, total ms) sums: what a speed-up divides by. */
  sums: RatioSums;
}

/** Plain requests a language needs before its own estimate replaces the pooled one. */
export const DEFAULT_MIN_REQUESTS = 10;

/** Sums of plain requests per language and pooled. */
export class PlainSums {
  readonly byLanguage = new Map<string, RatioSums>();
  readonly pooled = new RatioSums();

  /** Adds a set of `language`'s plain requests (disjoint from those already in). */
  add(language: string, sums: RatioSums): this {
    let own = this.byLanguage.get(language);
    if (!own) this.byLanguage.set(language, (own = new RatioSums()));
    own.merge(sums);
    this.pooled.merge(sums);
    return this;
  }

  copy(): PlainSums {
    const out = new PlainSums();
    for (const [language, sums] of this.byLanguage) out.add(language, sums);
    return out;
  }

  /** The requests added since `earlier`, a copy taken of these sums before. */
  minus(earlier: PlainSums): PlainSums {
    const out = new PlainSums();
    for (const [language, sums] of this.byLanguage) {
      const before = earlier.byLanguage.get(language);
      out.add(language, before ? sums.minus(before) : sums);
    }
    return out;
  }

  /** The reference for `language`, or null before any plain request. */
  estimate(language: string, minRequests = DEFAULT_MIN_REQUESTS): PlainReferenceEstimate | null {
    const own = this.byLanguage.get(language);
    if (own && own.n >= minRequests && own.a > 0) return reference(own, 'language');
    return this.pooled.n > 0 && this.pooled.a > 0 ? reference(this.pooled, 'pooled') : null;
  }
}

function reference(sums: RatioSums, source: PlainReferenceEstimate['source']): PlainReferenceEstimate {
  return { msPerToken: sums.d / sums.a, source, requests: sums.n, sums: sums.copy() };
}

export interface PlainReferenceOptions {
  /** Plain requests a language needs before its own estimate replaces the pooled one (default 10). */
  minRequests?: number;
}

/** The server's plain requests since boot. */
export class PlainDecodingReference {
  readonly #sums = new PlainSums();
  readonly #listeners: ((language: string, sums: RatioSums) => void)[] = [];
  readonly minRequests: number;

  constructor(options: PlainReferenceOptions = {}) {
    this.minRequests = options.minRequests ?? DEFAULT_MIN_REQUESTS;
    if (!(Number.isInteger(this.minRequests) && this.minRequests >= 1)) {
      throw new RangeError(`minRequests must be a positive integer, got ${options.minRequests}`);
    }
  }

  /** Adds a γ = 0 request; anything else (or a request that generated nothing) is ignored. */
  record(language: string, outcome: RequestOutcome): boolean {
    if (!isPlainDecoding(outcome)) return false;
    const one = new RatioSums();
    if (!addTiming(one, outcome)) return false;
    this.#sums.add(language, one);
    for (const listener of this.#listeners) listener(language, one);
    return true;
  }

  /** Hands every plain request recorded from now on, as its own sums, to `listener` too. */
  onRecord(listener: (language: string, sums: RatioSums) => void): void {
    this.#listeners.push(listener);
  }

  /** Plain decoding cost per output token for `language`, or null before any plain request. */
  estimate(language: string): PlainReferenceEstimate | null {
    return this.#sums.estimate(language, this.minRequests);
  }

  /** A copy of the sums so far. */
  totals(): PlainSums {
    return this.#sums.copy();
  }
}
