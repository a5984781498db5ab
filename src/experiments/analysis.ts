// The read-out of an experiment: per arm and language the counts, rates and latencies with
// 95% confidence intervals, per language every arm against the control (the first arm) with
// its tests, and per arm the cross-language fairness summary.
//
// It is computed from the cells' sufficient statistics (cell-statistics.ts) and the plain
// reference's sums alone, whatever holds them: one replica's memory (experiment-store.ts
// snapshot) or the counters of every replica and restart summed in Prometheus
// (src/cluster/cluster-readout.ts). The same sums give the same read-out; only latency
// quantiles need a sample, which a replica has of its own requests and the cluster does not
// (see LatencySummary).
//
// Definitions (the same as the response's `speculative` object and src/metrics-recorder.ts):
//   acceptanceRate       = accepted / drafted. Interval: Wilson over tokens (`ci`, assumes
//                          independent tokens) and the delta-method interval with the request
//                          as the unit (`ciClustered`, honest when acceptance varies by prompt).
//   meanAcceptedLength   = 1 + accepted / drafts (tokens per verifier step that checked a draft).
//                          Interval: 1 + the request-clustered interval of accepted / drafts.
//   tokensPerStep        = per-request mean of completionTokens / verifierSteps: the tokens each
//                          verifier call yields, plain steps included; t interval.
//   tokensPerSecond      = Σ completionTokens / Σ totalMs × 1000, a ratio of sums; delta-method
//                          interval with the request as the unit.
//   speedUp              = tokensPerSecond / the plain reference's (src/experiments/statistics/
//                          speed-up.ts, the one definition); the reference is the experiment's
//                          plain arms, else the server's plain requests since it was created
//                          (experiment-store.ts). Delta-method interval over both.
//   crossEntropy (K_L)   = crossEntropySum / draftedTokens (nats); meanAlpha = alphaSum / drafted.
//   latencyMs p50/p95    = type-7 quantiles of the per-cell reservoir of totalMs, with
//                          distribution-free order-statistic intervals (no resampling); without
//                          a sample (the cluster), histogram_quantile over the cell's buckets,
//                          the same intervals widened to bucket edges (latency-histogram.ts).
// Comparisons: treatment − control of the two ratios of sums, tokens per second and speed-up
// (the difference of two speed-ups over the language's one reference, its noise included), with
// delta-method t-tests; Welch's t-test on per-request acceptance rates. p-values are
// Holm-adjusted within each family (every language × treatment arm) and `significant` uses the
// adjusted one. Per treatment arm, the worst-language speed-up against the control's, with a
// bootstrap interval (worst-language.ts) over the cells' speed-ups and standard errors.

import { excludedLanguages, fairnessSummary, type FairnessOptions, type FairnessSummary } from '../fairness/disparity.js';
import type { PlainReferenceEstimate, PlainSums } from '../fairness/plain-reference.js';
import type { CellStatistics } from './cell-statistics.js';
import type { Arm, Experiment } from './experiment.js';
import { chooseReference, type ReferenceScope } from './reference-choice.js';
import { holmAdjust } from './statistics/holm.js';
import type { DifferenceTest, Estimate, Interval } from './statistics/interval.js';
import { meanEstimate, scaleEstimate } from './statistics/mean-interval.js';
import { histogramQuantileEstimate } from './statistics/latency-histogram.js';
import { quantileEstimate } from './statistics/order-statistics.js';
import { ratioInterval } from './statistics/ratio-interval.js';
import { differenceTest, speedUpEstimate, type SpeedUpEstimate, type SpeedUpSample } from './statistics/speed-up.js';
import { welchTTest } from './statistics/welch.js';
import { wilsonInterval } from './statistics/wilson.js';
import { compareWorstLanguages, type LanguageEstimate, type WorstLanguageComparison } from './worst-language.js';

/** Whose observations a read-out sums: one replica's memory, or every replica's counters in Prometheus. */
export type ReadoutScope = 'replica' | 'cluster';

/** One (arm, language) cell of the read-out's input. */
export interface ReadoutCell {
  arm: string;
  language: string;
  statistics: CellStatistics;
  /** A uniform sample of the cell's generation times, sorted (a replica's own); absent: the histogram's. */
  latencySample?: readonly number[];
}

/** Everything a read-out is computed from. */
export interface ReadoutInput {
  experiment: Experiment;
  createdAt: string;
  cells: readonly ReadoutCell[];
  /** Per language, the plain requests served since the experiment was created; null when not kept. */
  serverReference: PlainSums | null;
  /** Plain requests a language needs before its own reference replaces the pooled one. */
  minReferenceRequests: number;
  scope: ReadoutScope;
  /** Server processes whose observations the cells hold (every replica and restart, for the cluster). */
  processes: number;
}

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
  /** 'sample': order statistics of a uniform sample of the cell's requests; 'histogram': its buckets. */
  method: 'sample' | 'histogram';
  /** Requests the quantiles come from (the sample's size, or the histogram's count). */
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
  speedUp: SpeedUpEstimate | null;
  crossEntropy: number | null;
  plainReference: PlainReferenceSummary | null;
  latencyMs: LatencySummary;
}

export interface PlainReferenceSummary extends Omit<PlainReferenceEstimate, 'sums'> {
  scope: ReferenceScope;
}

export interface ArmSummary extends Arm {
  /** weight / Σ weights. */
  share: number;
  requests: number;
  generatedTokens: number;
  languages: CellSummary[];
  fairness: FairnessSummary;
}

export interface TestSummary extends DifferenceTest {
  /** Holm-adjusted p-value. */
  pAdjusted: number;
  /** pAdjusted < 1 − confidence. */
  significant: boolean;
}

export interface Comparison {
  language: string;
  arm: string;
  control: string;
  /** Difference in Σ tokens / Σ seconds (treatment − control). */
  tokensPerSecond: TestSummary | null;
  /** Difference in speed-up over the language's plain reference; null without one. */
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
  scope: ReadoutScope;
  processes: number;
  confidence: number;
  control: string;
  languages: string[];
  arms: ArmSummary[];
  comparisons: Comparison[];
  /** Per treatment arm, its worst-language speed-up against the control's. */
  worstLanguage: WorstLanguageComparison[];
}

interface CellInput {
  cell: ReadoutCell;
  sample: SpeedUpSample;
  reference: PlainReferenceEstimate | null;
  scope: ReferenceScope;
}

function latencySummary({ statistics, latencySample }: ReadoutCell, confidence: number): LatencySummary {
  if (latencySample !== undefined) {
    return {
      method: 'sample',
      samples: latencySample.length,
      p50: quantileEstimate(latencySample, 0.5, confidence),
      p95: quantileEstimate(latencySample, 0.95, confidence),
    };
  }
  const h = statistics.latency;
  return { method: 'histogram', samples: h.count, p50: histogramQuantileEstimate(h, 0.5, confidence), p95: histogramQuantileEstimate(h, 0.95, confidence) };
}

function summariseCell({ cell: input, sample, reference, scope }: CellInput, confidence: number): CellSummary {
  const { language, statistics: cell } = input;
  const c = cell.counts;
  const perMs = cell.timing.ratio;
  const perMsInterval = ratioInterval(cell.timing, confidence);
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
    tokensPerSecond: perMs === null ? null : scaleEstimate({ estimate: perMs, ci: perMsInterval }, 1000),
    speedUp: reference && speedUpEstimate(sample, reference.sums, confidence),
    crossEntropy: c.draftedTokens > 0 ? c.crossEntropySum / c.draftedTokens : null,
    plainReference: reference && { msPerToken: reference.msPerToken, source: reference.source, requests: reference.requests, scope },
    latencyMs: latencySummary(input, confidence),
  };
}

function scaleTest(r: DifferenceTest, factor: number): DifferenceTest {
  return { ...r, difference: r.difference * factor, ci: { low: r.ci.low * factor, high: r.ci.high * factor } };
}

export function summarise(input: ReadoutInput, options: SummaryOptions = {}): ExperimentSummary {
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const { experiment } = input;
  const totalWeight = experiment.arms.reduce((s, a) => s + a.weight, 0);
  const languages = [...new Set(input.cells.map((c) => c.language))].sort();
  const inputOf = new Map(input.cells.map((c) => [`${c.arm}\0${c.language}`, c]));
  const cellOf = (arm: string, language: string) => inputOf.get(`${arm}\0${language}`)?.statistics;
  const reference = chooseReference(experiment, input.cells, input.serverReference);
  const references = new Map(languages.map((l) => [l, reference.sums.estimate(l, input.minReferenceRequests)]));
  const referenceOf = (language: string) => references.get(language) ?? null;
  /** The cell's timing sums, and the part of them the reference counts. */
  const sampleOf = (arm: string, language: string): SpeedUpSample | null => {
    const cell = cellOf(arm, language);
    return cell ? { sums: cell.timing, shared: reference.arms.has(arm) ? cell.plainTiming : null } : null;
  };

  const arms: ArmSummary[] = experiment.arms.map((arm) => {
    const cells = languages.flatMap((language) => {
      const cell = inputOf.get(`${arm.name}\0${language}`);
      const sample = sampleOf(arm.name, language);
      if (!cell || !sample) return [];
      return [summariseCell({ cell, sample, reference: referenceOf(language), scope: reference.scope }, confidence)];
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
  const raw: { language: string; arm: string; perMs: DifferenceTest | null; speed: DifferenceTest | null; acceptance: DifferenceTest | null }[] = [];
  for (const arm of experiment.arms.slice(1)) {
    for (const language of languages) {
      const a = sampleOf(control.name, language);
      const b = sampleOf(arm.name, language);
      const plain = referenceOf(language);
      const acceptance = [cellOf(control.name, language), cellOf(arm.name, language)];
      raw.push({
        language,
        arm: arm.name,
        perMs: a && b && differenceTest(a, b, null, confidence),
        speed: a && b && plain && differenceTest(a, b, plain.sums, confidence),
        acceptance: acceptance[0] && acceptance[1] ? welchTTest(acceptance[0].acceptance.moments(), acceptance[1].acceptance.moments(), confidence) : null,
      });
    }
  }
  const alpha = 1 - confidence;
  const perMsAdjusted = holmAdjust(raw.map((r) => r.perMs?.pValue ?? null));
  const speedAdjusted = holmAdjust(raw.map((r) => r.speed?.pValue ?? null));
  const acceptanceAdjusted = holmAdjust(raw.map((r) => r.acceptance?.pValue ?? null));
  const withHolm = (r: DifferenceTest | null, pAdjusted: number | null): TestSummary | null =>
    r && pAdjusted !== null ? { ...r, pAdjusted, significant: pAdjusted < alpha } : null;

  const comparisons: Comparison[] = raw.map((r, i) => ({
    language: r.language,
    arm: r.arm,
    control: control.name,
    tokensPerSecond: r.perMs && withHolm(scaleTest(r.perMs, 1000), perMsAdjusted[i] ?? null),
    speedUp: withHolm(r.speed, speedAdjusted[i] ?? null),
    acceptanceRate: withHolm(r.acceptance, acceptanceAdjusted[i] ?? null),
  }));

  const excluded = excludedLanguages(options.fairness);
  const speedUps = (arm: ArmSummary): LanguageEstimate[] =>
    arm.languages.flatMap(({ language, speedUp }) =>
      excluded.has(language) || !speedUp || speedUp.se === null ? [] : [{ language, estimate: speedUp.estimate, se: speedUp.se }],
    );
  const controlSpeedUps = { name: control.name, estimates: speedUps(arms[0]!) };
  const worstLanguage = arms
    .slice(1)
    .flatMap((arm) => compareWorstLanguages({ name: arm.name, estimates: speedUps(arm) }, controlSpeedUps, { confidence }) ?? []);

  return {
    id: experiment.id,
    salt: experiment.salt,
    ...(experiment.description !== undefined && { description: experiment.description }),
    enabled: experiment.enabled,
    createdAt: input.createdAt,
    scope: input.scope,
    processes: input.processes,
    confidence,
    control: control.name,
    languages,
    arms,
    comparisons,
    worstLanguage,
  };
}
