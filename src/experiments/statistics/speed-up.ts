// The speed-up over plain decoding: the one definition behind every speed-up fairspec reports
// (the experiment read-out and its gauges, the live fairness window, the Prometheus rules, which
// compute the same ratios from counters):
//
//   speed-up = (Σ completion tokens / Σ ms over the requests measured)
//            / (Σ completion tokens / Σ ms over the plain-decoding reference's requests)
//
// over completed generations that produced tokens, ms being each generation's total time. Plain
// decoding measured against its own reference reads exactly 1. The per-request mean of
// tokens × plain ms-per-token / ms, used before, is a mean of ratios against a ratio of sums:
// Jensen puts it above 1 for plain decoding once request lengths and times vary.
//
// Intervals: the delta method on the sums (ratio-delta.ts) counts the reference's noise as well
// as the measured requests', and their covariance when some of those requests are in the
// reference (a plain arm inside the experiment's plain share): a plain arm that is the whole
// reference reads 1 with no width. One speed-up's interval is taken on the log scale,
// S · exp(±t · se/S), where a ratio is nearer normal and the bounds stay positive; differences of
// speed-ups are on the linear scale, tested with t = difference / se.

import { upperTail, type DifferenceTest, type Estimate } from './interval.js';
import { deltaVariance, type RatioTerm } from './ratio-delta.js';
import type { RatioSums } from './ratio-interval.js';
import { studentTQuantile, studentTTwoSided } from './student-t.js';

/** What a speed-up is measured on: per request (completion tokens, total ms). */
export interface SpeedUpSample {
  sums: RatioSums;
  /** The sums of those of its requests that the reference counts too; null when none. */
  shared: RatioSums | null;
}

export interface SpeedUpEstimate extends Estimate {
  /** Standard error of the estimate; null when there is no interval. */
  se: number | null;
}

/** (Σ tokens / Σ ms) / (the same over the reference); null while either has no time. */
export function speedUp(sums: RatioSums, reference: RatioSums): number | null {
  const rate = sums.ratio;
  const plain = reference.ratio;
  return rate === null || plain === null || !(plain > 0) ? null : rate / plain;
}

/** The speed-up with its interval; ci null below two requests on either side. */
export function speedUpEstimate(sample: SpeedUpSample, reference: RatioSums, confidence = 0.95): SpeedUpEstimate | null {
  const estimate = speedUp(sample.sums, reference);
  if (estimate === null) return null;
  const plain = reference.ratio!;
  const terms: RatioTerm[] = [
    { sums: sample.sums, gradient: 1 / plain },
    { sums: reference, gradient: -estimate / plain },
  ];
  const v = deltaVariance(terms, () => sample.shared);
  if (v === null || !(estimate > 0)) return { estimate, ci: null, se: null };
  const se = Math.sqrt(v.variance);
  const factor = Math.exp((studentTQuantile(upperTail(confidence), v.df) * se) / estimate);
  return { estimate, se, ci: { low: estimate / factor, high: estimate * factor } };
}

/**
 * treatment − control on one scale: with a reference, the difference of their speed-ups over it,
 * (R_t − R_c) / R_ref; without one, the difference of their tokens per ms, R_t − R_c. The two
 * samples are disjoint; each may share requests with the reference. null below two requests in
 * any of them.
 */
export function differenceTest(
  control: SpeedUpSample,
  treatment: SpeedUpSample,
  reference: RatioSums | null,
  confidence = 0.95,
): DifferenceTest | null {
  const rc = control.sums.ratio;
  const rt = treatment.sums.ratio;
  const plain = reference === null ? 1 : reference.ratio;
  if (rc === null || rt === null || plain === null || !(plain > 0)) return null;
  const difference = (rt - rc) / plain;
  const terms: RatioTerm[] = [
    { sums: control.sums, gradient: -1 / plain },
    { sums: treatment.sums, gradient: 1 / plain },
    ...(reference === null ? [] : [{ sums: reference, gradient: -difference / plain }]),
  ];
  const v = deltaVariance(terms, (j, l) => (l !== 2 ? null : j === 0 ? control.shared : treatment.shared));
  if (v === null) return null;
  const se = Math.sqrt(v.variance);
  if (se === 0) {
    // No spread on any side: the difference is known exactly.
    const t = difference === 0 ? 0 : Math.sign(difference) * Infinity;
    return { difference, ci: { low: difference, high: difference }, t, df: v.df, pValue: difference === 0 ? 1 : 0 };
  }
  const half = studentTQuantile(upperTail(confidence), v.df) * se;
  const t = difference / se;
  return { difference, ci: { low: difference - half, high: difference + half }, t, df: v.df, pValue: studentTTwoSided(t, v.df) };
}
