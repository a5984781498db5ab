// Welch's unequal-variances t-test (Welch 1947) with the Welch–Satterthwaite degrees of freedom:
//   t = (m_b − m_a) / sqrt(s_a²/n_a + s_b²/n_b)
//   ν = (s_a²/n_a + s_b²/n_b)² / ((s_a²/n_a)²/(n_a − 1) + (s_b²/n_b)²/(n_b − 1))
// Arms of an A/B test get different traffic and different spreads, so the pooled-variance
// Student test would be miscalibrated.

import { upperTail, type DifferenceTest } from './interval.js';
import type { SampleMoments } from './running-moments.js';
import { studentTQuantile, studentTTwoSided } from './student-t.js';

/** Treatment mean minus control mean; pValue tests "the means are equal". */
export type WelchResult = DifferenceTest;

/** Compares `treatment` with `control`; null when either has fewer than two values. */
export function welchTTest(control: SampleMoments, treatment: SampleMoments, confidence = 0.95): WelchResult | null {
  if (control.n < 2 || treatment.n < 2) return null;
  const difference = treatment.mean - control.mean;
  const va = control.variance / control.n;
  const vb = treatment.variance / treatment.n;
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    // Both samples constant: the difference is known exactly.
    const df = control.n + treatment.n - 2;
    return {
      difference,
      ci: { low: difference, high: difference },
      t: difference === 0 ? 0 : Math.sign(difference) * Infinity,
      df,
      pValue: difference === 0 ? 1 : 0,
    };
  }
  const df = (va + vb) ** 2 / (va ** 2 / (control.n - 1) + vb ** 2 / (treatment.n - 1));
  const t = difference / se;
  const half = studentTQuantile(upperTail(confidence), df) * se;
  return { difference, ci: { low: difference - half, high: difference + half }, t, df, pValue: studentTTwoSided(t, df) };
}
