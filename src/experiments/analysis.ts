// The read-out of an experiment: per arm and language the counts, rates and latencies with
// 95% confidence intervals, per language every arm against the control (the first arm) with
// a Welch t-test, and per arm the cross-language fairness summary.
//
// Definitions (the same as the response's `speculative` object and src/metrics-recorder.ts):
//   acceptanceRate       = accepted / drafted. Interval: Wilson over tokens (`ci`, assumes
//                          independent tokens) and the delta-method interval with the request
//                          as the unit (`ciClustered`, honest when acceptance varies by prompt).
//   meanAcceptedLength   = 1 + accepted / drafts (tokens per verifier step that checked a draft).
//                          Interval: 1 + the request-clustered interval of accepted / drafts.
//   tokensPerStep        = per-request mean of completionTokens / verifierSteps: the tokens each
//                          verifier call yields, plain steps included; t interval.
//   tokensPerSecond      = per-request mean of completionTokens / totalMs × 1000; t interval.
//   speedUp              = per-request mean of completionTokens × plainMsPerToken / totalMs
//                          (see src/fairness/plain-reference.ts); t interval, the reference
//                          treated as known.
//   crossEntropy (K_L)   = crossEntropySum / draftedTokens (nats); meanAlpha = alphaSum / drafted.
//   latencyMs p50/p95    = type-7 quantiles of the per-cell reservoir of totalMs, with
//                          distribution-free order-statistic intervals (no resampling).
// Comparisons: Welch's t-test of treatment − control on per-request tokens/ms (the speed-up
// test: a common reference within a language scales both arms alike, so t and p are the same)
// and on per-request acceptance rates. p-values are Holm-adjusted within each family (every
// language × treatment arm) and `significant` uses the adjusted one. Per treatment arm, the
// worst-language speed-up against the control's, with a bootstrap interval (worst-language.ts).

import { excludedLanguages, fairnessSummary, type FairnessOptions, type FairnessSummary } from '../fairness/disparity.js';
import type { PlainReferenceEstimate } from '../fairness/plain-reference.js';
import type { Arm } from './experiment.js';
import type { ExperimentSnapshot } from './experiment-store.js';
import type { ObservationCell } from './observation-cell.js';
import { holmAdjust } from './statistics/holm.js';
import type { Estimate, Interval } from './statistics/interval.js';
import { meanEstimate, scaleEstimate } from './statistics/mean-interval.js';
import { quantileEstimate } from './statistics/order-statistics.js';
import { ratioInterval } from './statistics/ratio-interval.js';
import { welchTTest, type WelchResult } from './statistics/welch.js';
import { wilsonInterval } from './statistics/wilson.js';
import { compareWorstLanguages, type LanguageMean, type WorstLanguageComparison } from './worst-language.js';

export interface SummaryOptions {
  /** Confidence level of every interval, and 1 − significance level of the tests; default 0.95. */
  confidence?: number;
  fairness?: FairnessOptions;
}

export interface AcceptanceEstimate extends Estimate {
  /** Request-clustered (delta-method) interval; null below two drafting requests. */
  ciClustered: Interval | null;
}

export interface LatencySummary {
  /** Requests in the reservoir the quantiles come from. */
  samples: number;
  p50: Estimate | null;
  p95: Estimate | null;
}

export interface CellSummary {
  language: string;
  requests: number;
  generatedTokens: number;
  drafts: number;
  draftedTokens: number;
  acceptedTokens: number;
  verifierSteps: number;
  acceptanceRate: AcceptanceEstimate | null;
  meanAlpha: number | null;
  meanAcceptedLength: Estimate | null;
  tokensPerStep: Estimate | null;
  tokensPerSecond: Estimate | null;
  speedUp: Estimate | null;
  crossEntropy: number | null;
  plainReference: PlainReferenceEstimate | null;
  latencyMs: LatencySummary;
}

export interface ArmSummary extends Arm {
  /** weight / Σ weights. */
  share: number;
  requests: number;
  generatedTokens: number;
  languages: CellSummary[];
  fairness: FairnessSummary;
}

export interface TestSummary extends WelchResult {
  /** Holm-adjusted p-value. */
  pAdjusted: number;
  /** pAdjusted < 1 − confidence. */
  significant: boolean;
}

export interface Comparison {
  language: string;
  arm: string;
  control: string;
  /** Difference in mean per-request tokens/s (treatment − control). */
  tokensPerSecond: TestSummary | null;
  /** The same test on the speed-up scale; null without a plain reference. */
  speedUp: TestSummary | null;
  /** Difference in mean per-request acceptance rate. */
  acceptanceRate: TestSummary | null;
}

export interface ExperimentSummary {
  id: string;
  salt: string;
  description?: string;
  enabled: boolean;
  createdAt: string;
  confidence: number;
  control: string;
  languages: string[];
  arms: ArmSummary[];
  comparisons: Comparison[];
  /** Per treatment arm, its worst-language speed-up against the control's. */
  worstLanguage: WorstLanguageComparison[];
}

function summariseCell(language: string, cell: ObservationCell, reference: PlainReferenceEstimate | null, confidence: number): CellSummary {
  const c = cell.counts;
  const perSecond = meanEstimate(cell.tokensPerMs.moments(), confidence);
  const latency = cell.latencyMs.sorted();
  const clustered = ratioInterval(cell.acceptanceSums, confidence);
  const perDraft = ratioInterval(cell.acceptedPerDraftSums, confidence);
  return {
    language,
    requests: c.requests,
    generatedTokens: c.generatedTokens,
    drafts: c.drafts,
    draftedTokens: c.draftedTokens,
    acceptedTokens: c.acceptedTokens,
    verifierSteps: c.verifierSteps,
    acceptanceRate:
      c.draftedTokens > 0
        ? {
            estimate: c.acceptedTokens / c.draftedTokens,
            ci: wilsonInterval(c.acceptedTokens, c.draftedTokens, confidence),
            ciClustered: clustered && { low: Math.max(0, clustered.low), high: Math.min(1, clustered.high) },
          }
        : null,
    meanAlpha: c.draftedTokens > 0 ? c.alphaSum / c.draftedTokens : null,
    meanAcceptedLength:
      c.drafts > 0
        ? { estimate: 1 + c.acceptedTokens / c.drafts, ci: perDraft && { low: 1 + Math.max(0, perDraft.low), high: 1 + perDraft.high } }
        : null,
    tokensPerStep: meanEstimate(cell.tokensPerStep.moments(), confidence),
    tokensPerSecond: perSecond && scaleEstimate(perSecond, 1000),
    speedUp: perSecond && reference && scaleEstimate(perSecond, reference.msPerToken),
    crossEntropy: c.draftedTokens > 0 ? c.crossEntropySum / c.draftedTokens : null,
    plainReference: reference,
    latencyMs: {
      samples: latency.length,
      p50: quantileEstimate(latency, 0.5, confidence),
      p95: quantileEstimate(latency, 0.95, confidence),
    },
  };
}

function scaleTest(r: WelchResult, factor: number): WelchResult {
  return { ...r, difference: r.difference * factor, ci: { low: r.ci.low * factor, high: r.ci.high * factor } };
}

export function summarise(snapshot: ExperimentSnapshot, options: SummaryOptions = {}): ExperimentSummary {
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const { experiment } = snapshot;
  const totalWeight = experiment.arms.reduce((s, a) => s + a.weight, 0);
  const languages = [...new Set(snapshot.cells.map((c) => c.language))].sort();
  const cellOf = new Map(snapshot.cells.map((c) => [`${c.arm}\0${c.language}`, c.cell]));
  const referenceOf = (language: string) => snapshot.reference.get(language) ?? null;

  const arms: ArmSummary[] = experiment.arms.map((arm) => {
    const cells = languages.flatMap((language) => {
      const cell = cellOf.get(`${arm.name}\0${language}`);
      return cell ? [summariseCell(language, cell, referenceOf(language), confidence)] : [];
    });
    return {
      ...arm,
      share: arm.weight / totalWeight,
      requests: cells.reduce((s, c) => s + c.requests, 0),
      generatedTokens: cells.reduce((s, c) => s + c.generatedTokens, 0),
      languages: cells,
      fairness: fairnessSummary(
        cells.map((c) => ({ language: c.language, speedUp: c.speedUp?.estimate ?? null, crossEntropy: c.crossEntropy })),
        options.fairness,
      ),
    };
  });

  const control = experiment.arms[0]!;
  const raw: { language: string; arm: string; speed: WelchResult | null; acceptance: WelchResult | null }[] = [];
  for (const arm of experiment.arms.slice(1)) {
    for (const language of languages) {
      const a = cellOf.get(`${control.name}\0${language}`);
      const b = cellOf.get(`${arm.name}\0${language}`);
      raw.push({
        language,
        arm: arm.name,
        speed: a && b ? welchTTest(a.tokensPerMs.moments(), b.tokensPerMs.moments(), confidence) : null,
        acceptance: a && b ? welchTTest(a.acceptance.moments(), b.acceptance.moments(), confidence) : null,
      });
    }
  }
  const alpha = 1 - confidence;
  const speedAdjusted = holmAdjust(raw.map((r) => r.speed?.pValue ?? null));
  const acceptanceAdjusted = holmAdjust(raw.map((r) => r.acceptance?.pValue ?? null));
  const withHolm = (r: WelchResult | null, pAdjusted: number | null): TestSummary | null =>
    r && pAdjusted !== null ? { ...r, pAdjusted, significant: pAdjusted < alpha } : null;

  const comparisons: Comparison[] = raw.map((r, i) => {
    const perSecond = r.speed && withHolm(scaleTest(r.speed, 1000), speedAdjusted[i] ?? null);
    const reference = referenceOf(r.language);
    return {
      language: r.language,
      arm: r.arm,
      control: control.name,
      tokensPerSecond: perSecond,
      speedUp: r.speed && reference ? withHolm(scaleTest(r.speed, reference.msPerToken), speedAdjusted[i] ?? null) : null,
      acceptanceRate: withHolm(r.acceptance, acceptanceAdjusted[i] ?? null),
    };
  });

  const excluded = excludedLanguages(options.fairness);
  const speedUpMeans = (arm: string): LanguageMean[] =>
    languages.flatMap((language) => {
      const m = cellOf.get(`${arm}\0${language}`)?.tokensPerMs.moments();
      const reference = referenceOf(language);
      if (excluded.has(language) || !m || m.n < 2 || !reference) return [];
      return [{ language, mean: m.mean * reference.msPerToken, se: Math.sqrt(m.variance / m.n) * reference.msPerToken }];
    });
  const controlMeans = { name: control.name, means: speedUpMeans(control.name) };
  const worstLanguage = experiment.arms
    .slice(1)
    .flatMap((arm) => compareWorstLanguages({ name: arm.name, means: speedUpMeans(arm.name) }, controlMeans, { confidence }) ?? []);

  return {
    id: experiment.id,
    salt: experiment.salt,
    ...(experiment.description !== undefined && { description: experiment.description }),
    enabled: experiment.enabled,
    createdAt: snapshot.createdAt,
    confidence,
    control: control.name,
    languages,
    arms,
    comparisons,
    worstLanguage,
  };
}
