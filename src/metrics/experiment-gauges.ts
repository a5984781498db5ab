// Each experiment's read-out (src/experiments/analysis.ts) as scrape-time gauges. Experiments and
// arms are those the registry holds (capped, src/experiments/experiment-store.ts), so the label
// values stay bounded.

import type { Registry } from 'prom-client';
import type { CellSummary, Comparison, ExperimentSummary } from '../experiments/analysis.js';
import type { Estimate } from '../experiments/statistics/interval.js';
import type { WorstLanguageComparison } from '../experiments/worst-language.js';
import { finite, gauge, oncePerScrape, setEstimate } from './scrape-gauge.js';

/** The series of one experiment cell: (experiment, arm, language). */
type CellLabels = Record<'experiment' | 'arm' | 'language', string>;

function* experimentCells(summaries: ExperimentSummary[]): Generator<{ labels: CellLabels; cell: CellSummary }> {
  for (const summary of summaries) {
    for (const arm of summary.arms) {
      for (const cell of arm.languages) yield { labels: { experiment: summary.id, arm: arm.name, language: cell.language }, cell };
    }
  }
}

/** Each treatment arm against the control, per language: (experiment, arm, language). */
function* experimentComparisons(summaries: ExperimentSummary[]): Generator<{ labels: CellLabels; comparison: Comparison }> {
  for (const summary of summaries) {
    for (const c of summary.comparisons) yield { labels: { experiment: summary.id, arm: c.arm, language: c.language }, comparison: c };
  }
}

function* experimentWorstLanguages(summaries: ExperimentSummary[]): Generator<{ labels: { experiment: string; arm: string }; comparison: WorstLanguageComparison }> {
  for (const summary of summaries) {
    for (const w of summary.worstLanguage) yield { labels: { experiment: summary.id, arm: w.arm }, comparison: w };
  }
}

const CELL_LABELS = ['experiment', 'arm', 'language'] as const;
const BOUNDED_CELL_LABELS = [...CELL_LABELS, 'bound'] as const;

/**
 * The read-out of GET /v1/experiments/{id} (src/experiments/analysis.ts) as gauges, so the
 * Experiment dashboard shows the same numbers. Per (experiment, arm, language):
 *   fairspec_experiment_requests, fairspec_experiment_generated_tokens;
 *   fairspec_experiment_speedup (Σ tokens / Σ ms over the plain reference's, the definition of
 *   src/experiments/statistics/speed-up.ts), fairspec_experiment_acceptance_rate (its
 *   request-clustered interval, `ci_clustered`), fairspec_experiment_mean_accepted_length, each
 *   with bound = mean | lower | upper (95% interval);
 *   fairspec_experiment_latency_seconds{quantile = 0.5 | 0.95, bound};
 *   per treatment arm against the control: fairspec_experiment_speedup_difference{bound},
 *   fairspec_experiment_speedup_difference_p_adjusted (Holm), and
 *   fairspec_experiment_arm_worse_than_control: 1 when the arm is slower than the control and the
 *   Holm-adjusted test of their tokens per second (Σ tokens / Σ seconds) is significant, else 0.
 * Per (experiment, arm): fairspec_experiment_fairness{figure} (mean, worst and best per-language
 * speed-up, max/min ratio, coefficient of variation, U) and fairspec_experiment_worst_language
 * {language}, the worst language's speed-up. Per treatment arm against the control:
 * fairspec_experiment_worst_speedup_difference{bound} and
 * fairspec_experiment_worst_speedup_higher_probability (src/experiments/worst-language.ts).
 */
export function registerExperimentGauges(registry: Registry, summaries: () => ExperimentSummary[]): void {
  const current = oncePerScrape(summaries);
  const perCell = (name: string, help: string, value: (c: CellSummary) => number) =>
    gauge(registry, name, help, CELL_LABELS, (g) => {
      for (const { labels, cell } of experimentCells(current())) g.set(labels, value(cell));
    });
  const perCellEstimate = (name: string, help: string, value: (c: CellSummary) => Estimate | null, scale = 1) =>
    gauge(registry, name, help, BOUNDED_CELL_LABELS, (g) => {
      for (const { labels, cell } of experimentCells(current())) setEstimate(g, labels, value(cell), scale);
    });

  perCell('fairspec_experiment_requests', "Generations an experiment arm served in a language (each of n choices counts).", (c) => c.requests);
  perCell('fairspec_experiment_generated_tokens', 'Completion tokens an experiment arm generated in a language.', (c) => c.generatedTokens);
  perCellEstimate(
    'fairspec_experiment_speedup',
    "An experiment arm's speed-up over plain decoding by language, (sum of tokens / sum of ms) over the plain reference's, with its 95% interval.",
    (c) => c.speedUp,
  );
  perCellEstimate(
    'fairspec_experiment_acceptance_rate',
    'Accepted / drafted tokens of an experiment arm by language, with its request-clustered 95% interval.',
    (c) => c.acceptanceRate && { estimate: c.acceptanceRate.estimate, ci: c.acceptanceRate.ciClustered },
  );
  perCellEstimate(
    'fairspec_experiment_mean_accepted_length',
    '1 + accepted / drafts (tokens per verifier step that checked a draft) of an experiment arm by language, with its 95% interval.',
    (c) => c.meanAcceptedLength,
  );
  gauge(
    registry,
    'fairspec_experiment_latency_seconds',
    "Quantiles of an experiment arm's generation time by language, with distribution-free 95% intervals.",
    [...BOUNDED_CELL_LABELS, 'quantile'],
    (g) => {
      for (const { labels, cell } of experimentCells(current())) {
        setEstimate(g, { ...labels, quantile: '0.5' }, cell.latencyMs.p50, 1 / 1000);
        setEstimate(g, { ...labels, quantile: '0.95' }, cell.latencyMs.p95, 1 / 1000);
      }
    },
  );
  gauge(
    registry,
    'fairspec_experiment_speedup_difference',
    'Speed-up of an arm minus the control arm by language, with its 95% interval (delta method, the plain reference included).',
    BOUNDED_CELL_LABELS,
    (g) => {
      for (const { labels, comparison: c } of experimentComparisons(current())) {
        if (c.speedUp !== null) setEstimate(g, labels, { estimate: c.speedUp.difference, ci: c.speedUp.ci });
      }
    },
  );
  gauge(
    registry,
    'fairspec_experiment_speedup_difference_p_adjusted',
    "Holm-adjusted p-value of the test of an arm's speed-up against the control's, by language.",
    CELL_LABELS,
    (g) => {
      for (const { labels, comparison: c } of experimentComparisons(current())) {
        if (c.speedUp !== null && finite(c.speedUp.pAdjusted)) g.set(labels, c.speedUp.pAdjusted);
      }
    },
  );
  gauge(
    registry,
    'fairspec_experiment_arm_worse_than_control',
    '1 when the arm is significantly slower than the control arm for the language (Holm-adjusted test of tokens per second), else 0.',
    CELL_LABELS,
    (g) => {
      for (const { labels, comparison: c } of experimentComparisons(current())) {
        const test = c.tokensPerSecond;
        g.set(labels, test !== null && test.significant && test.difference < 0 ? 1 : 0);
      }
    },
  );
  gauge(
    registry,
    'fairspec_experiment_fairness',
    "An experiment arm's fairness summary across languages: figure = mean_speedup, worst_speedup, best_speedup, max_min_speedup_ratio, cv_speedup, cross_entropy_variance (U).",
    ['experiment', 'arm', 'figure'],
    (g) => {
      for (const summary of current()) {
        for (const arm of summary.arms) {
          const s = arm.fairness.speedUp;
          const figures: [string, number | null | undefined][] = [
            ['mean_speedup', s?.mean],
            ['worst_speedup', s?.worst.value],
            ['best_speedup', s?.best.value],
            ['max_min_speedup_ratio', s?.maxMinRatio],
            ['cv_speedup', s?.cv],
            ['cross_entropy_variance', arm.fairness.unfairness],
          ];
          for (const [figure, value] of figures) if (finite(value)) g.set({ experiment: summary.id, arm: arm.name, figure }, value);
        }
      }
    },
  );
  gauge(
    registry,
    'fairspec_experiment_worst_language',
    "The speed-up of an experiment arm's worst language, labelled with that language.",
    CELL_LABELS,
    (g) => {
      for (const summary of current()) {
        for (const arm of summary.arms) {
          const worst = arm.fairness.speedUp?.worst;
          if (worst && finite(worst.value)) g.set({ experiment: summary.id, arm: arm.name, language: worst.language }, worst.value);
        }
      }
    },
  );
  gauge(
    registry,
    'fairspec_experiment_worst_speedup_difference',
    "An arm's worst-language speed-up minus the control's, over the languages both measured, with its 95% bootstrap interval.",
    ['experiment', 'arm', 'bound'],
    (g) => {
      for (const { labels, comparison: w } of experimentWorstLanguages(current())) setEstimate(g, labels, { estimate: w.difference, ci: w.ci });
    },
  );
  gauge(
    registry,
    'fairspec_experiment_worst_speedup_higher_probability',
    "Share of bootstrap draws in which an arm's worst language is faster than the control's.",
    ['experiment', 'arm'],
    (g) => {
      for (const { labels, comparison: w } of experimentWorstLanguages(current())) g.set(labels, w.probabilityHigher);
    },
  );
}
