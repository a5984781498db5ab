// Where each sufficient statistic of a cell (cell-statistics.ts) and of an experiment's plain
// reference goes among Prometheus series, both ways: a replica exports its cells as counters
// (src/metrics/experiment-counters.ts), and the cluster read-out adds the series of every replica
// and restart back into cells (src/cluster/cluster-readout.ts), as does bench/cluster-check.ts
// from replicas' own /metrics. One table serves both directions, so they cannot drift apart.
//
// Every series carries experiment, arm and language (the read-out's bounded labels) and
// `incarnation`, one value per server process: a restarted replica starts new series instead of
// resetting old ones, so the last value of each series in Prometheus is that process's total and
// their sum is the cluster's, with no counter-reset arithmetic (increase() would extrapolate).

import { PlainSums } from '../fairness/plain-reference.js';
import type { CellCounts, CellStatistics } from './cell-statistics.js';
import { emptyCellStatistics } from './cell-statistics.js';
import { LATENCY_BUCKETS_SECONDS } from './statistics/latency-histogram.js';
import type { MomentSums } from './statistics/moment-sums.js';
import { RatioSums } from './statistics/ratio-interval.js';

/** One series' value, its labels without experiment/incarnation (arm and language included where it has them). */
export interface SeriesSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface SeriesFamily {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  /** Labels besides experiment, arm, language and incarnation. */
  labels: readonly string[];
}

export const COUNT_FAMILIES: Readonly<Record<keyof CellCounts, SeriesFamily>> = Object.freeze({
  requests: counter('requests', 'Generations an experiment arm served in a language (each of n choices counts).'),
  generatedTokens: counter('generated_tokens', 'Completion tokens an experiment arm generated in a language.'),
  drafts: counter('drafts', 'Verifier steps that checked a draft, in an experiment arm and language.'),
  draftedTokens: counter('drafted_tokens', 'Drafted tokens of an experiment arm in a language.'),
  acceptedTokens: counter('accepted_tokens', 'Accepted drafted tokens of an experiment arm in a language.'),
  alphaSum: counter('alpha_sum', 'Sum of exact alpha over the drafted positions of an experiment arm in a language.'),
  crossEntropySum: counter('cross_entropy_sum', 'Sum of the drafter-verifier cross-entropy (nats) over the drafted positions of an experiment arm in a language.'),
  verifierSteps: counter('verifier_steps', 'Verifier forward passes of an experiment arm in a language.'),
});

/** Σ over requests of a ratio's numerator a and denominator d, their squares and product (ratio-interval.ts). */
export const RATIO_FAMILY: SeriesFamily = {
  name: 'fairspec_experiment_cell_ratio_sums_total',
  help:
    'Per-request sums of a ratio of an experiment arm in a language: ratio = timing (completion tokens, ms), plain_timing (the same over ' +
    'its plain requests), acceptance (accepted, drafted tokens), accepted_per_draft (accepted tokens, drafts); term = n, a, d, aa, dd, ad.',
  type: 'counter',
  labels: ['ratio', 'term'],
};

/** Count, Σx and Σx² of a per-request value (moment-sums.ts). */
export const MOMENT_FAMILY: SeriesFamily = {
  name: 'fairspec_experiment_cell_moment_sums_total',
  help: 'Count, sum and sum of squares of a per-request value of an experiment arm in a language: moment = acceptance_rate, tokens_per_step; term = n, sum, sum_squares.',
  type: 'counter',
  labels: ['moment', 'term'],
};

export const LATENCY_FAMILY: SeriesFamily = {
  name: 'fairspec_experiment_cell_latency_seconds',
  help: 'Generation time of an experiment arm in a language (the read-out latency of the cluster).',
  type: 'histogram',
  labels: [],
};

/** The plain requests since the experiment was created, per language: an experiment without a plain arm divides by these. */
export const REFERENCE_FAMILY: SeriesFamily = {
  name: 'fairspec_experiment_reference_sums_total',
  help: "Per-request sums of (completion tokens, ms) of the server's plain requests since an experiment was created, by language: term = n, a, d, aa, dd, ad.",
  type: 'counter',
  labels: ['term'],
};

function counter(stem: string, help: string): SeriesFamily {
  return { name: `fairspec_experiment_cell_${stem}_total`, help, type: 'counter', labels: [] };
}

const RATIOS = {
  timing: (s: CellStatistics) => s.timing,
  plain_timing: (s: CellStatistics) => s.plainTiming,
  acceptance: (s: CellStatistics) => s.acceptanceSums,
  accepted_per_draft: (s: CellStatistics) => s.acceptedPerDraftSums,
} as const satisfies Record<string, (s: CellStatistics) => RatioSums>;

const MOMENTS = {
  acceptance_rate: (s: CellStatistics) => s.acceptance,
  tokens_per_step: (s: CellStatistics) => s.tokensPerStep,
} as const satisfies Record<string, (s: CellStatistics) => MomentSums>;

const RATIO_TERMS = ['n', 'a', 'd', 'aa', 'dd', 'ad'] as const;
const MOMENT_TERMS = { n: 'n', sum: 'sum', sum_squares: 'sumSquares' } as const;

/** Every series of one cell, the cell's own labels (arm, language) not included. */
export function cellSeries(s: CellStatistics): SeriesSample[] {
  const out: SeriesSample[] = [];
  for (const [key, family] of Object.entries(COUNT_FAMILIES)) out.push({ name: family.name, labels: {}, value: s.counts[key as keyof CellCounts] });
  for (const [ratio, of] of Object.entries(RATIOS)) {
    for (const term of RATIO_TERMS) out.push({ name: RATIO_FAMILY.name, labels: { ratio, term }, value: of(s)[term] });
  }
  for (const [moment, of] of Object.entries(MOMENTS)) {
    for (const [term, field] of Object.entries(MOMENT_TERMS)) out.push({ name: MOMENT_FAMILY.name, labels: { moment, term }, value: of(s)[field] });
  }
  for (const { le, count } of s.latency.cumulative()) {
    out.push({ name: `${LATENCY_FAMILY.name}_bucket`, labels: { le: le === Infinity ? '+Inf' : String(le) }, value: count });
  }
  out.push({ name: `${LATENCY_FAMILY.name}_sum`, labels: {}, value: s.latency.sumMs / 1000 });
  out.push({ name: `${LATENCY_FAMILY.name}_count`, labels: {}, value: s.latency.count });
  return out;
}

/** The series of an experiment's server reference, one set per language. */
export function referenceSeries(reference: PlainSums): SeriesSample[] {
  return [...reference.byLanguage].flatMap(([language, sums]) =>
    RATIO_TERMS.map((term) => ({ name: REFERENCE_FAMILY.name, labels: { language, term }, value: sums[term] })),
  );
}

/**
 * Adds series back into cells and a reference: from Prometheus (already summed over processes)
 * or from several replicas' expositions (summed here). Values of the same series add.
 */
export class CellSeriesReader {
  readonly #cells = new Map<string, { arm: string; language: string; statistics: CellStatistics; buckets: Map<number, number> }>();
  readonly #reference = new PlainSums();
  readonly #incarnations = new Set<string>();

  /** false when the sample is not one of these series (or lacks a label they need). */
  add({ name, labels, value }: SeriesSample): boolean {
    if (labels.incarnation !== undefined && name === COUNT_FAMILIES.requests.name) this.#incarnations.add(labels.incarnation);
    if (name === REFERENCE_FAMILY.name) return this.#addReference(labels, value);
    const { arm, language } = labels;
    if (arm === undefined || language === undefined) return false;
    const cell = this.#cell(arm, language);
    const s = cell.statistics;
    const count = Object.entries(COUNT_FAMILIES).find(([, f]) => f.name === name);
    if (count) {
      s.counts[count[0] as keyof CellCounts] += value;
      return true;
    }
    switch (name) {
      case RATIO_FAMILY.name: {
        const of = RATIOS[labels.ratio as keyof typeof RATIOS];
        const term = labels.term as (typeof RATIO_TERMS)[number];
        if (!of || !RATIO_TERMS.includes(term)) return false;
        of(s)[term] += value;
        return true;
      }
      case MOMENT_FAMILY.name: {
        const of = MOMENTS[labels.moment as keyof typeof MOMENTS];
        const field = MOMENT_TERMS[labels.term as keyof typeof MOMENT_TERMS];
        if (!of || field === undefined) return false;
        of(s)[field] += value;
        return true;
      }
      case `${LATENCY_FAMILY.name}_bucket`: {
        const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
        if (le !== Infinity && !LATENCY_BUCKETS_SECONDS.includes(le)) return false;
        cell.buckets.set(le, (cell.buckets.get(le) ?? 0) + value);
        return true;
      }
      case `${LATENCY_FAMILY.name}_sum`:
        s.latency.sumMs += value * 1000;
        return true;
      case `${LATENCY_FAMILY.name}_count`:
        return true; // the buckets hold it
      default:
        return false;
    }
  }

  /** The cells, their histograms made from the cumulative bucket counts. */
  cells(): { arm: string; language: string; statistics: CellStatistics }[] {
    return [...this.#cells.values()].map(({ arm, language, statistics, buckets }) => {
      const latency = statistics.latency;
      latency.counts.fill(0);
      let below = 0;
      for (const [le, cumulative] of [...buckets].sort((a, b) => a[0] - b[0])) {
        latency.addToBucket(le, cumulative - below);
        below = cumulative;
      }
      return { arm, language, statistics };
    });
  }

  get serverReference(): PlainSums {
    return this.#reference;
  }

  /** Distinct `incarnation` labels among the request counters read (0 when the samples were summed over them). */
  get incarnations(): number {
    return this.#incarnations.size;
  }

  #cell(arm: string, language: string) {
    const key = `${arm}\0${language}`;
    let cell = this.#cells.get(key);
    if (!cell) this.#cells.set(key, (cell = { arm, language, statistics: emptyCellStatistics(), buckets: new Map() }));
    return cell;
  }

  #addReference(labels: Record<string, string>, value: number): boolean {
    const term = labels.term as (typeof RATIO_TERMS)[number];
    if (labels.language === undefined || !RATIO_TERMS.includes(term)) return false;
    const one = new RatioSums();
    one[term] = value;
    this.#reference.add(labels.language, one);
    return true;
  }
}
