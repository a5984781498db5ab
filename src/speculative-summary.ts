// Builds the `speculative` object of a completion response (its one definition: the wire schema
// `Speculative`, src/wire/completions.ts): what routing chose and how well the drafter did, for
// one choice or summed over all choices of a request.
//
// Definitions (as in vLLM's spec-decode metrics):
//   acceptance_rate      = accepted / drafted                   (null when nothing was drafted)
//   mean_accepted_length = 1 + accepted / drafts                (tokens emitted per verifier step
//                          that checked a draft, bonus token included; null when no drafts)
// The aggregate over several choices sums the counts and recomputes both ratios from the sums;
// language/drafter/draft_length are the shared value, or 'mixed' / null when choices differ.
// experiment/arm are present only on requests assigned to an experiment arm (one per request).

import type { SpeculativeStats } from './engine/types.js';
import type { SpeculativeBody } from './wire/completions.js';

export interface RoutedStats {
  language: string;
  languageConfidence: number;
  stats: SpeculativeStats;
  /** The experiment and arm the request was assigned to, if any. */
  assignment?: { experiment: string; arm: string };
}

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

function ratios(drafts: number, drafted: number, accepted: number) {
  return {
    acceptance_rate: drafted > 0 ? round(accepted / drafted) : null,
    mean_accepted_length: drafts > 0 ? round(1 + accepted / drafts) : null,
  };
}

export function summarizeChoice({ language, languageConfidence, stats, assignment }: RoutedStats): SpeculativeBody {
  return {
    language,
    language_confidence: round(languageConfidence),
    drafter: stats.drafter,
    draft_length: stats.draftLength,
    drafts: stats.drafts,
    drafted: stats.draftedTokens,
    accepted: stats.acceptedTokens,
    ...ratios(stats.drafts, stats.draftedTokens, stats.acceptedTokens),
    verifier_steps: stats.verifierSteps,
    draft_ms: round(stats.draftMs, 3),
    verify_ms: round(stats.verifyMs, 3),
    ...(assignment && { experiment: assignment.experiment, arm: assignment.arm }),
  };
}

function shared<T>(values: T[], mixed: T): T {
  return values.every((v) => v === values[0]) ? values[0]! : mixed;
}

export function summarizeRequest(choices: readonly SpeculativeBody[]): SpeculativeBody {
  if (choices.length === 0) throw new RangeError('summarizeRequest needs at least one choice');
  if (choices.length === 1) return choices[0]!;
  const sum = (pick: (c: SpeculativeBody) => number) => choices.reduce((acc, c) => acc + pick(c), 0);
  const drafts = sum((c) => c.drafts);
  const drafted = sum((c) => c.drafted);
  const accepted = sum((c) => c.accepted);
  return {
    language: shared(choices.map((c) => c.language), 'mixed'),
    language_confidence: Math.min(...choices.map((c) => c.language_confidence)),
    drafter: shared<string | null>(choices.map((c) => c.drafter), 'mixed'),
    draft_length: shared<number | null>(choices.map((c) => c.draft_length), null),
    drafts,
    drafted,
    accepted,
    ...ratios(drafts, drafted, accepted),
    verifier_steps: sum((c) => c.verifier_steps),
    draft_ms: round(sum((c) => c.draft_ms), 3),
    verify_ms: round(sum((c) => c.verify_ms), 3),
    ...(choices[0]!.experiment !== undefined && { experiment: choices[0]!.experiment }),
    ...(choices[0]!.arm !== undefined && { arm: choices[0]!.arm }),
  };
}
