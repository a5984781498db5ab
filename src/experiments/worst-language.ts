// Is a treatment arm's worst language served better than the control's? Each arm's worst-language
// speed-up is the minimum of noisy per-language estimates, so two point minima can differ by
// noise alone, and the minimum of many noisy estimates is biased low (more so the more languages
// sit near it). A parametric bootstrap answers with the uncertainty: every draw takes each
// (arm, language) speed-up from N(estimate, se²), the normal approximation of the delta method
// behind the per-language intervals (statistics/speed-up.ts, whose se already holds the plain
// reference's noise), then each arm's minimum over the same languages. Reported: the observed
// difference of minima, the percentile interval of the drawn differences, and the share of draws
// in which the treatment's minimum is the higher one. Only languages both arms measured with a
// standard error (n ≥ 2) count, so both minima run over one set. Draws are independent across
// arms although both arms of a language share its reference, which can only widen the interval.
// The seed is fixed: the same snapshot always gives the same answer.

import { createRandom, standardNormal } from '../engine/random.js';
import { upperTail, type Interval } from './statistics/interval.js';
import { quantile } from './statistics/order-statistics.js';

export interface LanguageEstimate {
  language: string;
  /** The language's speed-up. */
  estimate: number;
  /** Its standard error. */
  se: number;
}

export interface WorstLanguage {
  language: string;
  speedUp: number;
}

export interface WorstLanguageComparison {
  arm: string;
  control: string;
  /** Languages both arms measured with a standard error; the minima run over these. */
  languages: number;
  controlWorst: WorstLanguage;
  armWorst: WorstLanguage;
  /** armWorst.speedUp − controlWorst.speedUp. */
  difference: number;
  /** Percentile interval of the bootstrap differences at the summary's confidence. */
  ci: Interval;
  /** Share of bootstrap draws in which the arm's worst language is faster than the control's. */
  probabilityHigher: number;
  draws: number;
}

export interface WorstLanguageOptions {
  confidence?: number;
  draws?: number;
  seed?: number;
}

const DEFAULT_DRAWS = 4000;
const DEFAULT_SEED = 20251002; // arXiv 2510.02128

function lowest(estimates: readonly LanguageEstimate[]): WorstLanguage {
  let worst = estimates[0]!;
  for (const e of estimates) if (e.estimate < worst.estimate) worst = e;
  return { language: worst.language, speedUp: worst.estimate };
}

/** null when the arms share no language with a standard error. */
export function compareWorstLanguages(
  arm: { name: string; estimates: readonly LanguageEstimate[] },
  control: { name: string; estimates: readonly LanguageEstimate[] },
  options: WorstLanguageOptions = {},
): WorstLanguageComparison | null {
  const confidence = options.confidence ?? 0.95;
  const draws = options.draws ?? DEFAULT_DRAWS;
  if (!(Number.isInteger(draws) && draws >= 2)) throw new RangeError(`draws must be an integer >= 2, got ${draws}`);
  const usable = (e: LanguageEstimate) => Number.isFinite(e.estimate) && Number.isFinite(e.se) && e.se >= 0;
  const controlBy = new Map(control.estimates.filter(usable).map((e) => [e.language, e]));
  const pairs = arm.estimates.filter(usable).flatMap((m) => {
    const c = controlBy.get(m.language);
    return c ? [{ arm: m, control: c }] : [];
  });
  if (pairs.length === 0) return null;
  pairs.sort((a, b) => (a.arm.language < b.arm.language ? -1 : 1));

  const random = createRandom(options.seed ?? DEFAULT_SEED);
  const differences = new Float64Array(draws);
  let higher = 0;
  for (let d = 0; d < draws; d++) {
    let armMin = Infinity;
    let controlMin = Infinity;
    for (const p of pairs) {
      armMin = Math.min(armMin, p.arm.estimate + p.arm.se * standardNormal(random));
      controlMin = Math.min(controlMin, p.control.estimate + p.control.se * standardNormal(random));
    }
    differences[d] = armMin - controlMin;
    if (armMin > controlMin) higher++;
  }
  differences.sort();
  const tail = upperTail(confidence);
  const armWorst = lowest(pairs.map((p) => p.arm));
  const controlWorst = lowest(pairs.map((p) => p.control));
  return {
    arm: arm.name,
    control: control.name,
    languages: pairs.length,
    controlWorst,
    armWorst,
    difference: armWorst.speedUp - controlWorst.speedUp,
    ci: { low: quantile(differences, 1 - tail), high: quantile(differences, tail) },
    probabilityHigher: higher / draws,
    draws,
  };
}
