// Holm's step-down adjustment (Holm 1979): controls the family-wise error rate over m tests
// without assuming independence, and is uniformly more powerful than Bonferroni.
// An A/B test compared per language runs one test per language; with 20 languages and no
// adjustment one "significant" language in 20 is expected by chance alone.

/** Holm-adjusted p-values in the input order; null entries (tests that could not run) stay null. */
export function holmAdjust(pValues: readonly (number | null)[]): (number | null)[] {
  const ranked = pValues
    .map((p, index) => ({ p, index }))
    .filter((e): e is { p: number; index: number } => e.p !== null)
    .sort((a, b) => a.p - b.p);
  const m = ranked.length;
  const out: (number | null)[] = pValues.map(() => null);
  let running = 0;
  ranked.forEach(({ p, index }, i) => {
    running = Math.max(running, Math.min(1, (m - i) * p));
    out[index] = running;
  });
  return out;
}
