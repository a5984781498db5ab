// How long a step takes at a given batch, measured as the scheduler runs, and the draft length
// that makes the most tokens per second from it (issue 15, speculation under load).
//
// A verifier pass over `rows` rows `width` tokens wide costs more as either grows, and on a
// memory-bound CPU the growth with rows is steep (each row's cache is read and copied whole every
// pass). Speculation pays while the tokens it adds outweigh that growth plus the drafting. So per
// batch size the scheduler keeps the measured cost of a verifier pass per width and of one drafter
// pass, and each step picks the cap on γ that maximises
//     Σ_rows E[tokens | γ_row, α_row] / (cap · draftPassMs + verifyMs(width = cap + 1)),
// with E[tokens | γ, α] = (1 − α^(γ+1)) / (1 − α) (Leviathan et al., arXiv 2211.17192, eq. 1).
// A width not yet measured at this batch size is tried once; every EXPLORE_EVERY steps the
// neighbour of the best cap is re-measured, since costs drift as contexts grow.

/** Re-measure a neighbouring cap every this many steps at one batch size. */
const EXPLORE_EVERY = 24;
/** Weight of a new measurement in the moving means. */
const EWMA = 0.2;

export interface RowOutlook {
  /** The row's routed γ. */
  gamma: number;
  /** Its acceptance rate so far (or a prior). */
  alpha: number;
}

export function expectedTokens(gamma: number, alpha: number): number {
  if (gamma === 0) return 1;
  if (alpha >= 1) return gamma + 1;
  return (1 - alpha ** (gamma + 1)) / (1 - alpha);
}

export class StepCostModel {
  /** `${batch rows}:${cap}` -> ms of one verifier pass of a step run with that cap (width cap + 1) */
  readonly #verify = new Map<string, number>();
  /** rows -> ms of one drafted position, all drafters of the step together */
  readonly #draft = new Map<number, number>();
  readonly #steps = new Map<number, number>();

  observeVerify(rows: number, cap: number, ms: number): void {
    update(this.#verify, `${rows}:${cap}`, ms);
  }

  observeDraftPass(rows: number, ms: number): void {
    update(this.#draft, rows, ms);
  }

  /**
   * The cap on γ for the next step: `rows` has one entry per row that runs this step, `batchRows`
   * counts the pass's rows (those sitting it out too).
   */
  chooseCap(rows: readonly RowOutlook[], batchRows = rows.length): number {
    const maxGamma = Math.max(0, ...rows.map((r) => r.gamma));
    if (maxGamma === 0) return 0;
    const n = batchRows;
    const step = (this.#steps.get(n) ?? 0) + 1;
    this.#steps.set(n, step);
    let best = maxGamma;
    let bestRate = -1;
    for (let cap = 0; cap <= maxGamma; cap++) {
      const verifyMs = this.#verify.get(`${n}:${cap}`);
      const passMs = cap === 0 ? 0 : this.#draft.get(rows.length);
      if (verifyMs === undefined || passMs === undefined) return cap; // not measured yet: try it
      const tokens = rows.reduce((sum, r) => sum + expectedTokens(Math.min(r.gamma, cap), r.alpha), 0);
      const rate = tokens / (verifyMs + cap * passMs);
      if (rate > bestRate) {
        bestRate = rate;
        best = cap;
      }
    }
    if (step % EXPLORE_EVERY === 0) return best === maxGamma ? best - 1 : best + 1;
    return best;
  }
}

function update<K>(map: Map<K, number>, key: K, ms: number): void {
  const old = map.get(key);
  map.set(key, old === undefined ? ms : (1 - EWMA) * old + EWMA * ms);
}
