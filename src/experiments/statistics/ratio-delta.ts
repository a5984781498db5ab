// Variance of a smooth function f(R₁, …, R_k) of ratios of sums, each over its own set of
// requests, by the delta method with the request as the unit. The sets may overlap (a plain arm
// inside the plain reference it is divided by); two ratios covary only through the requests
// they share:
//   Var f ≈ Σ_j Σ_l g_j g_l C_jl,     g_j = ∂f/∂R_j at the estimates,
//   C_jl  = κ_jl · Σ_{i ∈ X_j ∩ X_l} e_ji e_li / (D_j D_l),   e_ji = a_i − R_j d_i,   D_j = Σ_{X_j} d,
// with κ_jj = n_j / (n_j − 1), the ratio estimator's small-sample factor (as in ratioInterval),
// and κ_jl = √(κ_jj κ_ll), which keeps C positive semi-definite. Only sums enter: Σa², Σd², Σad
// of each set and of each intersection (residualProduct). Degrees of freedom: Welch–Satterthwaite
// over the terms' own variances.

import { residualProduct, type RatioSums } from './ratio-interval.js';

export interface RatioTerm {
  /** Per request (numerator, denominator) of this ratio's requests. */
  sums: RatioSums;
  /** ∂f/∂R of this ratio at the estimates. */
  gradient: number;
}

export interface DeltaVariance {
  variance: number;
  df: number;
}

/**
 * `overlap(j, l)` (j < l) gives the sums of the requests in both terms' sets, null when they
 * share none. null when a term has fewer than two requests or no positive denominator.
 */
export function deltaVariance(terms: readonly RatioTerm[], overlap: (j: number, l: number) => RatioSums | null = () => null): DeltaVariance | null {
  if (terms.some((t) => t.sums.n < 2 || !(t.sums.d > 0))) return null;
  const ratios = terms.map((t) => t.sums.a / t.sums.d);
  const kappas = terms.map((t) => t.sums.n / (t.sums.n - 1));
  const own = terms.map((t, j) => (t.gradient ** 2 * kappas[j]! * residualProduct(t.sums, ratios[j]!, ratios[j]!)) / t.sums.d ** 2);
  let variance = own.reduce((s, v) => s + v, 0);
  for (let j = 0; j < terms.length; j++) {
    for (let l = j + 1; l < terms.length; l++) {
      const shared = overlap(j, l);
      if (shared === null || shared.n === 0) continue;
      const [tj, tl] = [terms[j]!, terms[l]!];
      const kappa = Math.sqrt(kappas[j]! * kappas[l]!);
      variance += (2 * tj.gradient * tl.gradient * kappa * residualProduct(shared, ratios[j]!, ratios[l]!)) / (tj.sums.d * tl.sums.d);
    }
  }
  const ownTotal = own.reduce((s, v) => s + v, 0);
  const denominator = own.reduce((s, v, j) => s + v ** 2 / (terms[j]!.sums.n - 1), 0);
  // With no spread at all the interval has no width and the df do not matter.
  const df = denominator > 0 ? ownTotal ** 2 / denominator : terms.reduce((s, t) => s + t.sums.n - 1, 0);
  // Clamp: rounding can take a variance that should be 0 a hair below.
  return { variance: Math.max(0, variance), df };
}
