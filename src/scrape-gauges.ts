// Gauges computed when Prometheus scrapes, from live state: the routing policy's current choice
// and estimates, the sliding fairness window, and each experiment's summary. Each gauge resets in
// its prom-client `collect` and sets one value per current series, so a language, drafter or
// experiment that left the state leaves the exposition too. grafana/README.md lists the names the
// dashboards and alerts read; grafana/prometheus/rules/*.yml derive nothing from these (they are
// already ratios, computed here over the server's own window or experiment).
//
// Label values are bounded: languages are the metric label set ('other', 'unknown'), drafters the
// pack's, experiments and arms those the registry holds (capped, src/experiments/experiment-store.ts).

import { Gauge, type Registry } from 'prom-client';
import type { CellSummary, Comparison, ExperimentSummary } from './experiments/analysis.js';
import type { Estimate } from './experiments/statistics/interval.js';
import type { WorstLanguageComparison } from './experiments/worst-language.js';
import type { WindowSnapshot } from './fairness/sliding-window.js';
import { UNDETERMINED, type LanguageSnapshot, type PolicySnapshot, type RegimeSnapshot } from './routing/adaptive-policy.js';
import { OTHER, UNKNOWN } from './routing/language-labels.js';

const NO_DRAFTER = 'none';

function gauge<T extends string>(registry: Registry, name: string, help: string, labelNames: readonly T[], fill: (g: Gauge<T>) => void): void {
  new Gauge<T>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill(this);
    },
  });
}

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * fairspec_routing_draft_length{language}, fairspec_routing_expected_speedup{language, drafter},
 * fairspec_routing_alpha{language, drafter, bound}: the sampled regime; the same three as
 * fairspec_routing_greedy_{draft_length, expected_speedup, agreement} for greedy requests (new
 * names rather than a regime label, so the existing series and every query on them keep their
 * meaning); fairspec_routing_cost_ratio{drafter}, shared.
 * `languageLabel` bounds a language as the request metrics do; a routing.json language outside
 * the metric label set is left out (FAIRSPEC_METRIC_LANGUAGES gives it a series).
 */
export function registerRoutingGauges(
  registry: Registry,
  snapshot: () => PolicySnapshot | null,
  languageLabel: (language: string | null) => string,
): void {
  const label = (key: string): string | null => {
    if (key === UNDETERMINED) return UNKNOWN;
    if (key === OTHER) return OTHER;
    return languageLabel(key) === key ? key : null;
  };
  const languages = function* (): Generator<[string, LanguageSnapshot]> {
    const s = snapshot();
    for (const [key, entry] of Object.entries(s?.languages ?? {})) {
      const language = label(key);
      if (language !== null) yield [language, entry];
    }
  };
  const regimeGauges = (prefix: string, regime: string, acceptance: string, of: (entry: LanguageSnapshot) => RegimeSnapshot): void => {
    gauge(registry, `${prefix}draft_length`, `Draft length gamma the router picks now for ${regime} requests in the language (0: plain decoding).`, ['language'], (g) => {
      for (const [language, entry] of languages()) g.set({ language }, of(entry).choice.draftLength);
    });
    gauge(
      registry,
      `${prefix}expected_speedup`,
      `Expected speed-up S of the router's current choice for ${regime} requests in the language at the posterior mean ${acceptance} (1: plain decoding).`,
      ['language', 'drafter'],
      (g) => {
        for (const [language, entry] of languages()) {
          const r = of(entry);
          if (finite(r.expectedSpeedup)) g.set({ language, drafter: r.choice.drafter ?? NO_DRAFTER }, r.expectedSpeedup);
        }
      },
    );
  };
  const estimateGauge = (name: string, help: string, of: (entry: LanguageSnapshot) => RegimeSnapshot): void =>
    gauge(registry, name, help, ['language', 'drafter', 'bound'], (g) => {
      for (const [language, entry] of languages()) {
        for (const [drafter, d] of Object.entries(of(entry).drafters)) {
          g.set({ language, drafter, bound: 'mean' }, d.alpha.mean);
          g.set({ language, drafter, bound: 'lower' }, d.alpha.lower);
          g.set({ language, drafter, bound: 'upper' }, d.alpha.upper);
        }
      }
    });
  regimeGauges('fairspec_routing_', 'sampled', 'alpha', (entry) => entry);
  estimateGauge(
    'fairspec_routing_alpha',
    "The router's online estimate of each drafter's acceptance rate alpha on the language (sampled requests): posterior mean and 95% interval.",
    (entry) => entry,
  );
  regimeGauges('fairspec_routing_greedy_', 'greedy', 'argmax agreement', (entry) => entry.greedy);
  estimateGauge(
    'fairspec_routing_greedy_agreement',
    "The router's online estimate of each drafter's argmax agreement with the verifier on the language, the acceptance rate of greedy requests: posterior mean and 95% interval.",
    (entry) => entry.greedy,
  );
  gauge(registry, 'fairspec_routing_cost_ratio', 'Drafter cost c: drafter ms per drafted token over plain verifier ms per step.', ['drafter'], (g) => {
    for (const [drafter, d] of Object.entries(snapshot()?.costs.drafters ?? {})) if (finite(d.costRatio)) g.set({ drafter }, d.costRatio);
  });
}

/**
 * fairspec_fairness_speedup{language}, fairspec_fairness_cross_entropy{language},
 * fairspec_fairness_worst_speedup, fairspec_fairness_speedup_max_min_ratio,
 * fairspec_fairness_cross_entropy_variance: over the sliding window (src/fairness/sliding-window.ts).
 */
export function registerFairnessGauges(registry: Registry, snapshot: () => WindowSnapshot): void {
  gauge(registry, 'fairspec_fairness_speedup', 'Mean per-request speed-up over plain decoding in the live window, by language.', ['language'], (g) => {
    for (const l of snapshot().languages) if (finite(l.speedUp)) g.set({ language: l.language }, l.speedUp);
  });
  gauge(registry, 'fairspec_fairness_cross_entropy', 'K_L: drafter-verifier cross-entropy per drafted token (nats) in the live window.', ['language'], (g) => {
    for (const l of snapshot().languages) if (finite(l.crossEntropy)) g.set({ language: l.language }, l.crossEntropy);
  });
  const single = (name: string, help: string, value: (s: WindowSnapshot) => number | null | undefined): void =>
    gauge(registry, name, help, [], (g) => {
      const v = value(snapshot());
      // prom-client gives an unlabelled gauge the value 0 on reset: a window with no data would
      // read as "the worst language gets speed-up 0". No sample at all is the honest answer.
      if (finite(v)) g.set(v);
      else g.remove({});
    });
  single('fairspec_fairness_worst_speedup', 'Lowest per-language speed-up in the live window.', (s) => s.fairness.speedUp?.worst.value);
  single('fairspec_fairness_speedup_max_min_ratio', 'Highest over lowest per-language speed-up in the live window.', (s) => s.fairness.speedUp?.maxMinRatio);
  single('fairspec_fairness_cross_entropy_variance', 'U = population variance over languages of K_L in the live window.', (s) => s.fairness.unfairness);
}

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

/** bound = mean | lower | upper; the bounds only when the interval exists. */
function setEstimate<T extends string>(g: Gauge<T | 'bound'>, labels: Record<T, string>, value: Estimate | null, scale = 1): void {
  if (value === null || !finite(value.estimate)) return;
  g.set({ ...labels, bound: 'mean' } as Record<T | 'bound', string>, value.estimate * scale);
  if (value.ci && finite(value.ci.low) && finite(value.ci.high)) {
    g.set({ ...labels, bound: 'lower' } as Record<T | 'bound', string>, value.ci.low * scale);
    g.set({ ...labels, bound: 'upper' } as Record<T | 'bound', string>, value.ci.high * scale);
  }
}

/**
 * `compute` once per scrape: prom-client's registry.metrics() calls every gauge's collect
 * synchronously, before its first await, so a cache dropped at the next microtask is shared by
 * exactly one scrape's gauges, which then all read the same summaries.
 */
function oncePerScrape<T>(compute: () => T): () => T {
  let cached: { value: T } | null = null;
  return () => {
    if (cached === null) {
      cached = { value: compute() };
      queueMicrotask(() => {
        cached = null;
      });
    }
    return cached.value;
  };
}

const CELL_LABELS = ['experiment', 'arm', 'language'] as const;
const BOUNDED_CELL_LABELS = [...CELL_LABELS, 'bound'] as const;

/**
 * The read-out of GET /v1/experiments/{id} (src/experiments/analysis.ts) as gauges, so the
 * Experiment dashboard shows the same numbers. Per (experiment, arm, language):
 *   fairspec_experiment_requests, fairspec_experiment_generated_tokens;
 *   fairspec_experiment_speedup, fairspec_experiment_acceptance_rate (its request-clustered
 *   interval, `ci_clustered`), fairspec_experiment_mean_accepted_length, each with
 *   bound = mean | lower | upper (95% interval);
 *   fairspec_experiment_latency_seconds{quantile = 0.5 | 0.95, bound};
 *   per treatment arm against the control: fairspec_experiment_speedup_difference{bound},
 *   fairspec_experiment_speedup_difference_p_adjusted (Holm), and
 *   fairspec_experiment_arm_worse_than_control: 1 when the arm is slower than the control and the
 *   Holm-adjusted Welch test on per-request tokens/ms (the same test as on speed-ups) is
 *   significant, else 0.
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
    "An experiment arm's mean per-request speed-up over plain decoding by language, with its 95% confidence interval.",
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
    'Speed-up of an arm minus the control arm by language (Welch), with its 95% interval.',
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
    "Holm-adjusted p-value of Welch's test of an arm's speed-up against the control's, by language.",
    CELL_LABELS,
    (g) => {
      for (const { labels, comparison: c } of experimentComparisons(current())) {
        // The speed-up test is the tokens/s test rescaled: the same p-value, present with the difference.
        if (c.speedUp !== null && finite(c.speedUp.pAdjusted)) g.set(labels, c.speedUp.pAdjusted);
      }
    },
  );
  gauge(
    registry,
    'fairspec_experiment_arm_worse_than_control',
    '1 when the arm is significantly slower than the control arm for the language (Holm-adjusted Welch test), else 0.',
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
          const figures: Record<string, number | null | undefined> = {
            mean_speedup: s?.mean,
            worst_speedup: s?.worst.value,
            best_speedup: s?.best.value,
            max_min_speedup_ratio: s?.maxMinRatio,
            cv_speedup: s?.cv,
            cross_entropy_variance: arm.fairness.unfairness,
          };
          for (const [figure, value] of Object.entries(figures)) if (finite(value)) g.set({ experiment: summary.id, arm: arm.name, figure }, value);
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
