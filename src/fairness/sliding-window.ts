// Per-language counters over the last few minutes, for live fairness gauges. Time is cut into
// buckets of `bucketMs`; the window is the current bucket and the ones before it up to
// `windowMs`, so it spans between windowMs − bucketMs and windowMs of wall time. Old buckets
// are dropped when the window is read or written: no timer, nothing to unref or clear.
//
// It yields the same per-language quantities and FairnessSummary as the experiment summary
// (src/experiments/analysis.ts), with the same definitions: speed-up is the ratio of sums of
// src/experiments/statistics/speed-up.ts, (Σ tokens / Σ ms of the language's requests in the
// window) / (the same over the plain requests in the window: the language's own, or all
// languages' below `minRequests`), as the Prometheus rules compute it from counters; K_L is
// Σ cross-entropy / Σ drafted tokens. Plain (γ = 0) requests stay in their language's sums: a
// language that routing serves without a drafter gets speed-up 1, and fairness should see that.
// No plain request in the window, no speed-up.

import { RatioSums } from '../experiments/statistics/ratio-interval.js';
import { speedUp } from '../experiments/statistics/speed-up.js';
import { fairnessSummary, type FairnessOptions, type FairnessSummary } from './disparity.js';
import { DEFAULT_MIN_REQUESTS, PlainSums, type PlainReferenceEstimate } from './plain-reference.js';
import { addOutcomeCounts, addTiming, isPlainDecoding, mergeOutcomeCounts, OUTCOME_COUNT_FIELDS, type OutcomeCounts, type RequestOutcome } from './request-outcome.js';

interface Counters extends OutcomeCounts {
  /** Per request (completion tokens, total ms), and the same over the plain requests. */
  timing: RatioSums;
  plainTiming: RatioSums;
}

export interface LanguageWindow {
  language: string;
  requests: number;
  generatedTokens: number;
  draftedTokens: number;
  acceptedTokens: number;
  /** accepted / drafted; null when nothing was drafted. */
  acceptanceRate: number | null;
  /** Mean accepted tokens per draft plus the bonus token: 1 + accepted / drafts. */
  meanAcceptedLength: number | null;
  /** K_L = Σ cross-entropy / Σ drafted tokens (nats). */
  crossEntropy: number | null;
  /** Σ completion tokens / Σ seconds. */
  tokensPerSecond: number | null;
  /** Speed-up over plain decoding in the window; null without a plain request in it. */
  speedUp: number | null;
  reference: PlainReferenceEstimate | null;
}

export interface WindowSnapshot {
  /** Start (inclusive) and end (exclusive) of the buckets read, in the clock's milliseconds. */
  from: number;
  to: number;
  languages: LanguageWindow[];
  fairness: FairnessSummary;
}

export interface SlidingWindowOptions extends FairnessOptions {
  /** Default 5 minutes. */
  windowMs?: number;
  /** Default 10 seconds; must divide windowMs. */
  bucketMs?: number;
  /** Clock in milliseconds; default Date.now. */
  now?: () => number;
  /** Plain requests of a language in the window before its own reference replaces the pooled one (default 10). */
  minRequests?: number;
}

const empty = (): Counters => ({
  ...(Object.fromEntries(OUTCOME_COUNT_FIELDS.map((field) => [field, 0])) as Record<(typeof OUTCOME_COUNT_FIELDS)[number], number>),
  timing: new RatioSums(),
  plainTiming: new RatioSums(),
});

function add(total: Counters, c: Counters): void {
  mergeOutcomeCounts(total, c);
  total.timing.merge(c.timing);
  total.plainTiming.merge(c.plainTiming);
}

export class SlidingWindowFairness {
  readonly #minRequests: number;
  readonly #bucketMs: number;
  readonly #buckets: number;
  readonly #now: () => number;
  readonly #options: FairnessOptions;
  /** bucket index (floor(time / bucketMs)) -> language -> counters */
  readonly #data = new Map<number, Map<string, Counters>>();

  constructor(options: SlidingWindowOptions = {}) {
    const windowMs = options.windowMs ?? 5 * 60_000;
    this.#bucketMs = options.bucketMs ?? 10_000;
    if (!(Number.isInteger(this.#bucketMs) && this.#bucketMs > 0)) {
      throw new RangeError(`bucketMs must be a positive integer, got ${options.bucketMs}`);
    }
    if (!(Number.isInteger(windowMs) && windowMs >= this.#bucketMs && windowMs % this.#bucketMs === 0)) {
      throw new RangeError(`windowMs must be a multiple of bucketMs (${this.#bucketMs}), got ${options.windowMs}`);
    }
    this.#buckets = windowMs / this.#bucketMs;
    this.#now = options.now ?? Date.now;
    this.#minRequests = options.minRequests ?? DEFAULT_MIN_REQUESTS;
    if (!(Number.isInteger(this.#minRequests) && this.#minRequests >= 1)) {
      throw new RangeError(`minRequests must be a positive integer, got ${options.minRequests}`);
    }
    this.#options = { ...(options.exclude && { exclude: options.exclude }) };
  }

  /** Adds one finished generation of `language` (a bounded label) at time `at`. */
  record(language: string, outcome: RequestOutcome, at = this.#now()): void {
    const bucket = this.#prune(at);
    let languages = this.#data.get(bucket);
    if (!languages) this.#data.set(bucket, (languages = new Map()));
    let c = languages.get(language);
    if (!c) languages.set(language, (c = empty()));
    addOutcomeCounts(c, outcome);
    if (addTiming(c.timing, outcome) && isPlainDecoding(outcome)) addTiming(c.plainTiming, outcome);
  }

  snapshot(at = this.#now()): WindowSnapshot {
    const current = this.#prune(at);
    const totals = new Map<string, Counters>();
    for (const [bucket, languages] of this.#data) {
      if (bucket > current) continue; // recorded with a timestamp ahead of `at`
      for (const [language, c] of languages) {
        let t = totals.get(language);
        if (!t) totals.set(language, (t = empty()));
        add(t, c);
      }
    }
    const plain = new PlainSums();
    for (const [language, t] of totals) plain.add(language, t.plainTiming);
    const languages = [...totals.keys()].sort().map((language) => this.#summarise(language, totals.get(language)!, plain.estimate(language, this.#minRequests)));
    return {
      from: (current - this.#buckets + 1) * this.#bucketMs,
      to: (current + 1) * this.#bucketMs,
      languages,
      fairness: fairnessSummary(languages, this.#options),
    };
  }

  #summarise(language: string, c: Counters, reference: PlainReferenceEstimate | null): LanguageWindow {
    const rate = c.timing.ratio;
    return {
      language,
      requests: c.requests,
      generatedTokens: c.generatedTokens,
      draftedTokens: c.draftedTokens,
      acceptedTokens: c.acceptedTokens,
      acceptanceRate: c.draftedTokens > 0 ? c.acceptedTokens / c.draftedTokens : null,
      meanAcceptedLength: c.drafts > 0 ? 1 + c.acceptedTokens / c.drafts : null,
      crossEntropy: c.draftedTokens > 0 ? c.crossEntropySum / c.draftedTokens : null,
      tokensPerSecond: rate === null ? null : rate * 1000,
      speedUp: reference === null ? null : speedUp(c.timing, reference.sums),
      reference,
    };
  }

  /** Drops buckets that left the window ending at `at`; returns the current bucket index. */
  #prune(at: number): number {
    const current = Math.floor(at / this.#bucketMs);
    for (const bucket of this.#data.keys()) if (bucket <= current - this.#buckets) this.#data.delete(bucket);
    return current;
  }
}
