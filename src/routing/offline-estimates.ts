// Priors for the adaptive policy from the pack's offline evaluation, eval.json
// (models/training/fairspec_train/report.py):
//   sets.udhr_served.drafters[NAME].languages[LANG].alpha
//                                     mean exact alpha of drafter NAME on LANG where the verifier
//                                     continues UDHR prompts with its own samples at temperature 1:
//                                     what a sampled request's drafts meet, so the sampled
//                                     regime's prior (absent in older packs)
//   sets.udhr.drafters[NAME].languages[LANG].alpha
//                                     the same on the reference text, teacher-forced: the sampled
//                                     prior where udhr_served has no value
//   ...languages[LANG].greedy_agreement   (udhr) mean [argmax p == argmax q]: the greedy
//                                     regime's prior (absent in older packs)
//   cost.c                            drafter / verifier step time, one value for every drafter the
//                                     report evaluated (the neural ones: they share an architecture);
//                                     the zero-cost drafters get theirs once timed
// The report names drafters by folder ('drafter-scdf'), the engine by what follows the prefix
// ('scdf'); both spellings are accepted. Drafters the pack does not ship, and values out of range,
// are skipped and listed, so a stale or partial report degrades to weaker priors, never to a
// server that does not start. The file is optional: without it the policy starts from Beta(1, 1)
// and the drafters' measured cost.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface OfflineEstimates {
  /** alpha by language, then drafter: the sampled regime's prior. */
  alpha: Record<string, Record<string, number>>;
  /** Greedy agreement by language, then drafter: the greedy regime's prior. */
  greedyAgreement: Record<string, Record<string, number>>;
  /** c by drafter. */
  cost: Record<string, number>;
  /** What was left out and why, for a warning at boot. */
  skipped: string[];
}

const DRAFTER_PREFIX = 'drafter-';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isRate = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;

/** Reads the estimates out of a parsed eval.json; `drafters` are the pack's drafter names. */
export function offlineEstimates(report: unknown, drafters: readonly string[]): OfflineEstimates {
  const out: OfflineEstimates = { alpha: {}, greedyAgreement: {}, cost: {}, skipped: [] };
  const name = (key: string): string | undefined => {
    if (drafters.includes(key)) return key;
    const bare = key.startsWith(DRAFTER_PREFIX) ? key.slice(DRAFTER_PREFIX.length) : undefined;
    return bare !== undefined && drafters.includes(bare) ? bare : undefined;
  };
  if (!isObject(report)) {
    out.skipped.push('eval.json is not an object');
    return out;
  }
  const sets = isObject(report.sets) ? report.sets : {};
  const evaluated = new Set<string>();
  // Teacher-forced first, so that a served value, where there is one, replaces it.
  for (const set of ['udhr', 'udhr_served'] as const) {
    const drafterEntries = isObject(sets[set]) && isObject(sets[set].drafters) ? sets[set].drafters : {};
    for (const [key, entry] of Object.entries(drafterEntries)) {
      const drafter = name(key);
      if (drafter === undefined) {
        out.skipped.push(`sets.${set}.drafters.${key}: not a drafter of the pack`);
        continue;
      }
      evaluated.add(drafter);
      const languages = isObject(entry) && isObject(entry.languages) ? entry.languages : {};
      for (const [language, value] of Object.entries(languages)) {
        const at = `sets.${set}.drafters.${key}.languages.${language}`;
        const alpha = isObject(value) ? value.alpha : undefined;
        if (isRate(alpha)) (out.alpha[language] ??= {})[drafter] = alpha;
        else out.skipped.push(`${at}.alpha = ${JSON.stringify(alpha)}: not in [0, 1]`);
        if (set !== 'udhr') continue;
        // packs evaluated before greedy agreement was measured simply have none
        const agreement = isObject(value) ? value.greedy_agreement : undefined;
        if (isRate(agreement)) (out.greedyAgreement[language] ??= {})[drafter] = agreement;
        else if (agreement !== undefined) out.skipped.push(`${at}.greedy_agreement = ${JSON.stringify(agreement)}: not in [0, 1]`);
      }
    }
  }
  const c = isObject(report.cost) ? report.cost.c : undefined;
  if (typeof c === 'number' && Number.isFinite(c) && c >= 0) {
    for (const drafter of evaluated) out.cost[drafter] = c;
  } else if (c !== undefined) {
    out.skipped.push(`cost.c = ${JSON.stringify(c)}: not a finite number >= 0`);
  }
  return out;
}

/** eval.json of `packDir`, or null when the pack has none. Throws when it exists but is not JSON. */
export async function loadOfflineEstimates(packDir: string, drafters: readonly string[]): Promise<OfflineEstimates | null> {
  const path = join(packDir, 'eval.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not JSON: ${(err as Error).message}`);
  }
  return offlineEstimates(report, drafters);
}
