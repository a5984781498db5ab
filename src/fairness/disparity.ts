// How unequally a per-language quantity is spread across languages. Every language counts
// once, whatever its traffic: the question is whether speakers of some language get a worse
// service, not what the average token gets. Spreads are population statistics (the languages
// served are the whole population, not a sample of one), as Prometheus' stdvar computes them.
//
//   mean        = (1/L) Σ_L v_L
//   worst       = the language with the lowest value (highest when lower is better)
//   maxMinRatio = max_L v_L / min_L v_L                (null when the minimum is <= 0)
//   cv          = sd_L(v) / mean                       (null when the mean is 0)
//   U           = Var_L(K_L), K_L = mean per-token drafter–verifier cross-entropy
//                 −Σ_x p log q of language L (nats): the unfairness that s-CDF training
//                 reduces (src/metrics-recorder.ts gives the PromQL of the live version)

import { UNKNOWN } from '../language.js';

export interface LanguageValue {
  language: string;
  value: number;
}

export interface Disparity {
  languages: number;
  mean: number;
  worst: LanguageValue;
  best: LanguageValue;
  maxMinRatio: number | null;
  /** Population standard deviation across languages. */
  sd: number;
  cv: number | null;
}

/** Population variance (divides by n); NaN for no values. */
export function populationVariance(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((acc, x) => acc + (x - mean) ** 2, 0) / xs.length;
}

/** Disparity of per-language values (non-finite ones skipped); null when none is left. Ties go to the first language in sort order. */
export function disparity(values: Iterable<LanguageValue>, options: { higherIsBetter?: boolean } = {}): Disparity | null {
  const higherIsBetter = options.higherIsBetter ?? true;
  const list = [...values].filter((v) => Number.isFinite(v.value)).sort((a, b) => (a.language < b.language ? -1 : a.language > b.language ? 1 : 0));
  if (list.length === 0) return null;
  let min = list[0]!;
  let max = list[0]!;
  for (const v of list) {
    if (v.value < min.value) min = v;
    if (v.value > max.value) max = v;
  }
  const xs = list.map((v) => v.value);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(populationVariance(xs));
  return {
    languages: list.length,
    mean,
    worst: { ...(higherIsBetter ? min : max) },
    best: { ...(higherIsBetter ? max : min) },
    maxMinRatio: min.value > 0 ? max.value / min.value : null,
    sd,
    cv: mean !== 0 ? sd / mean : null,
  };
}

export interface LanguageFairnessInput {
  language: string;
  /** Speed-up over plain decoding (src/experiments/statistics/speed-up.ts); null when unknown. */
  speedUp: number | null;
  /** crossEntropySum / draftedTokens; null when nothing was drafted. */
  crossEntropy: number | null;
}

export interface FairnessSummary {
  /** Spread of speed-up across languages (higher is better). */
  speedUp: Disparity | null;
  /** Spread of the per-token cross-entropy K_L across languages (lower is better). */
  crossEntropy: Disparity | null;
  /** U = Var_L(K_L), population variance; null when no language drafted. */
  unfairness: number | null;
}

export interface FairnessOptions {
  /**
   * Labels left out of the cross-language statistics. Default: 'unknown' (no language was
   * detected, so it is not a population of speakers). 'other' stays in: the languages without
   * a label of their own are the ones most likely to be served worst.
   */
  exclude?: readonly string[];
}

/** The labels the cross-language statistics leave out (FairnessOptions.exclude, default 'unknown'). */
export function excludedLanguages(options: FairnessOptions = {}): Set<string> {
  return new Set(options.exclude ?? [UNKNOWN]);
}

export function fairnessSummary(perLanguage: readonly LanguageFairnessInput[], options: FairnessOptions = {}): FairnessSummary {
  const exclude = excludedLanguages(options);
  const kept = perLanguage.filter((l) => !exclude.has(l.language));
  const pick = (f: (l: LanguageFairnessInput) => number | null): LanguageValue[] =>
    kept.flatMap((l) => {
      const value = f(l);
      return value === null ? [] : [{ language: l.language, value }];
    });
  const k = pick((l) => l.crossEntropy).filter((v) => Number.isFinite(v.value));
  return {
    speedUp: disparity(pick((l) => l.speedUp)),
    crossEntropy: disparity(k, { higherIsBetter: false }),
    unfairness: k.length > 0 ? populationVariance(k.map((v) => v.value)) : null,
  };
}
