// Confidence interval for a population mean from per-request values: mean ± t_{n−1} · s/√n.
// By the central limit theorem this holds for skewed per-request metrics (speed-up, tokens per
// step) once n is in the tens; below two requests there is no variance and so no interval.

import { upperTail, type Estimate } from './interval.js';
import type { SampleMoments } from './running-moments.js';
import { studentTQuantile } from './student-t.js';

export function meanEstimate(m: SampleMoments, confidence = 0.95): Estimate | null {
  if (m.n === 0) return null;
  if (m.n < 2) return { estimate: m.mean, ci: null };
  const half = studentTQuantile(upperTail(confidence), m.n - 1) * Math.sqrt(m.variance / m.n);
  return { estimate: m.mean, ci: { low: m.mean - half, high: m.mean + half } };
}

/** The same estimate on a scale: c·X has mean c·mean and interval c·[low, high] for c > 0. */
export function scaleEstimate(e: Estimate, factor: number): Estimate {
  return { estimate: e.estimate * factor, ci: e.ci && { low: e.ci.low * factor, high: e.ci.high * factor } };
}
