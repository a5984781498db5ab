// The shapes every estimator in the experiment summary returns.

/** A two-sided confidence interval. */
export interface Interval {
  low: number;
  high: number;
}

/** A point estimate with its confidence interval; ci is null when the data cannot support one. */
export interface Estimate {
  estimate: number;
  ci: Interval | null;
}

/** A two-sample comparison: treatment minus control, its interval, and the test of "no difference". */
export interface DifferenceTest {
  /** Treatment minus control. */
  difference: number;
  /** Confidence interval of the difference. */
  ci: Interval;
  t: number;
  df: number;
  /** Two-sided p-value of "no difference". */
  pValue: number;
}

/** z or t quantile for a two-sided interval at `confidence` (e.g. 0.95 -> the 0.975 quantile). */
export function upperTail(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  return 1 - (1 - confidence) / 2;
}
