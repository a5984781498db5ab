// routing.json from measured speed-ups (route_drafters.ts measures them). Per language and regime
// the fastest candidate (drafter, γ) wins, or plain decoding when none reaches minSpeedup. A few
// prompts per language leave each figure noisy, and the fastest of sixteen noisy figures is
// partly luck: so among a language's candidates within `tolerance` of its fastest, the one with
// the best geometric mean over all languages is taken, which keeps a noisy win from routing a
// language to a configuration that is fast nowhere else. The default route (languages the file
// does not list) is the candidate with the best geometric mean, or plain below minSpeedup.
// A candidate need not be measured in every language (a specialist drafter is measured only in
// its script group's): it competes where it was measured, its geometric mean is over those
// languages, and only candidates measured everywhere can be the default.

import { geomean } from '../../bench/summary-statistics.js';
import type { RoutingFile } from '../../src/routing/routing-table.js';

export type Regime = 'sampled' | 'greedy';

export interface Candidate {
  drafter: string;
  draftLength: number;
}

/** Measured speed-up over plain decoding per language, regime and candidate label. */
export type SpeedupEvidence = Record<string, Record<Regime, Record<string, { speedup: number }>>>;

export const candidateLabel = (c: Candidate): string => `${c.drafter}@${c.draftLength}`;

export interface RoutingChoiceOptions {
  minSpeedup: number;
  /** Relative distance to a language's fastest within which candidates count as tied. */
  tolerance: number;
}

type Route = { drafter: string | null; draft_length: number };
const PLAIN: Route = { drafter: null, draft_length: 0 };

export function routingFromEvidence(evidence: SpeedupEvidence, candidates: readonly Candidate[], options: RoutingChoiceOptions): RoutingFile {
  const languages = Object.keys(evidence).sort();
  const route = (label: string): Route => {
    const c = candidates.find((x) => candidateLabel(x) === label);
    if (!c) throw new RangeError(`no candidate ${label}`);
    return { drafter: c.drafter, draft_length: c.draftLength };
  };
  const table = (regime: Regime) => {
    const has = (language: string, label: string): boolean => evidence[language]![regime][label] !== undefined;
    const measured = (language: string, label: string): number => {
      const s = evidence[language]![regime][label]?.speedup;
      if (!(typeof s === 'number' && s > 0)) throw new RangeError(`no speed-up of ${label} for ${language} (${regime})`);
      return s;
    };
    const where = new Map(candidates.map((c) => [candidateLabel(c), languages.filter((l) => has(l, candidateLabel(c)))]));
    const overallSpeedup = new Map(
      candidates
        .filter((c) => where.get(candidateLabel(c))!.length > 0)
        .map((c) => [candidateLabel(c), geomean(where.get(candidateLabel(c))!.map((l) => measured(l, candidateLabel(c))))]),
    );
    const overall = [...overallSpeedup.keys()].sort((a, b) => overallSpeedup.get(b)! - overallSpeedup.get(a)!);
    const byLanguage: Record<string, Route> = {};
    for (const language of languages) {
      const here = overall.filter((label) => has(language, label));
      const fastest = Math.max(0, ...here.map((label) => measured(language, label)));
      if (fastest < options.minSpeedup) {
        byLanguage[language] = PLAIN;
        continue;
      }
      const pick = here.find((label) => measured(language, label) >= fastest * (1 - options.tolerance) && measured(language, label) >= options.minSpeedup)!;
      byLanguage[language] = route(pick);
    }
    const best = overall.find((label) => where.get(label)!.length === languages.length);
    return { default: best !== undefined && overallSpeedup.get(best)! >= options.minSpeedup ? route(best) : PLAIN, languages: byLanguage };
  };
  return { ...table('sampled'), greedy: table('greedy') };
}
