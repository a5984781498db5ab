// The read-out of GET /v1/experiments/{id}: the analysis summary (src/experiments/analysis.ts)
// mapped field by field onto its wire schema (experiments.ts), so a field added on either side
// without the other is a type error rather than a silently dropped or missing key.

import type { ArmSummary, CellSummary, Comparison, ExperimentSummary, TestSummary } from '../experiments/analysis.js';
import type { Estimate, Interval } from '../experiments/statistics/interval.js';
import type { WorstLanguageComparison } from '../experiments/worst-language.js';
import type { Disparity } from '../fairness/disparity.js';
import type { ExperimentSummaryBody } from './experiments.js';

type ArmBody = ExperimentSummaryBody['arms'][number];
type CellBody = ArmBody['languages'][number];
type DisparityBody = NonNullable<ArmBody['fairness']['speed_up']>;
type ComparisonBody = ExperimentSummaryBody['comparisons'][number];
type TestBody = NonNullable<ComparisonBody['speed_up']>;
type WorstLanguageBody = ExperimentSummaryBody['worst_language'][number];

const interval = (i: Interval): Interval => ({ low: i.low, high: i.high });
const estimate = (e: Estimate | null): { estimate: number; ci: Interval | null } | null => e && { estimate: e.estimate, ci: e.ci && interval(e.ci) };

function cell(c: CellSummary): CellBody {
  return {
    language: c.language,
    requests: c.requests,
    generated_tokens: c.generatedTokens,
    drafts: c.drafts,
    drafted_tokens: c.draftedTokens,
    accepted_tokens: c.acceptedTokens,
    verifier_steps: c.verifierSteps,
    acceptance_rate: c.acceptanceRate && {
      estimate: c.acceptanceRate.estimate,
      ci: c.acceptanceRate.ci && interval(c.acceptanceRate.ci),
      ci_clustered: c.acceptanceRate.ciClustered && interval(c.acceptanceRate.ciClustered),
    },
    mean_alpha: c.meanAlpha,
    mean_accepted_length: estimate(c.meanAcceptedLength),
    tokens_per_step: estimate(c.tokensPerStep),
    tokens_per_second: estimate(c.tokensPerSecond),
    speed_up: estimate(c.speedUp),
    cross_entropy: c.crossEntropy,
    plain_reference: c.plainReference && {
      ms_per_token: c.plainReference.msPerToken,
      source: c.plainReference.source,
      requests: c.plainReference.requests,
      scope: c.plainReference.scope,
    },
    latency_ms: { method: c.latencyMs.method, samples: c.latencyMs.samples, p50: estimate(c.latencyMs.p50), p95: estimate(c.latencyMs.p95) },
  };
}

function disparity(d: Disparity | null): DisparityBody | null {
  if (d === null) return null;
  const { languages, mean, worst, best, maxMinRatio, sd, cv } = d;
  return { languages, mean, worst: { ...worst }, best: { ...best }, max_min_ratio: maxMinRatio, sd, cv };
}

function arm(a: ArmSummary): ArmBody {
  return {
    name: a.name,
    ...(a.drafter !== undefined && { drafter: a.drafter }),
    ...(a.policy !== undefined && { policy: a.policy }),
    weight: a.weight,
    share: a.share,
    requests: a.requests,
    generated_tokens: a.generatedTokens,
    languages: a.languages.map(cell),
    fairness: { speed_up: disparity(a.fairness.speedUp), cross_entropy: disparity(a.fairness.crossEntropy), unfairness: a.fairness.unfairness },
  };
}

function test(r: TestSummary | null): TestBody | null {
  return (
    r && {
      difference: r.difference,
      ci: interval(r.ci),
      // JSON has no Infinity: an exactly known, non-zero difference has t = ±∞.
      t: Number.isFinite(r.t) ? r.t : null,
      df: r.df,
      p_value: r.pValue,
      p_adjusted: r.pAdjusted,
      significant: r.significant,
    }
  );
}

function comparison(c: Comparison): ComparisonBody {
  return {
    language: c.language,
    arm: c.arm,
    control: c.control,
    tokens_per_second: test(c.tokensPerSecond),
    speed_up: test(c.speedUp),
    acceptance_rate: test(c.acceptanceRate),
  };
}

function worstLanguageBody(w: WorstLanguageComparison): WorstLanguageBody {
  return {
    arm: w.arm,
    control: w.control,
    languages: w.languages,
    control_worst: { language: w.controlWorst.language, speed_up: w.controlWorst.speedUp },
    arm_worst: { language: w.armWorst.language, speed_up: w.armWorst.speedUp },
    difference: w.difference,
    ci: interval(w.ci),
    probability_higher: w.probabilityHigher,
    draws: w.draws,
  };
}

export function experimentSummaryBody(s: ExperimentSummary): ExperimentSummaryBody {
  // The fields whose names are one word read the same on the wire; the rest are mapped.
  const { createdAt, languages, arms, comparisons, worstLanguage, ...sameNames } = s;
  return {
    ...sameNames,
    created_at: createdAt,
    languages: [...languages],
    arms: arms.map(arm),
    comparisons: comparisons.map(comparison),
    worst_language: worstLanguage.map(worstLanguageBody),
  };
}
