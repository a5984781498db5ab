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
import type { ExperimentSummary } from './experiments/analysis.js';
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

/**
 * fairspec_experiment_speedup{experiment, arm, language, bound = mean | lower | upper} and
 * fairspec_experiment_arm_worse_than_control{experiment, arm, language}: 1 when the arm is
 * slower than the control arm and the Holm-adjusted Welch test on per-request tokens/ms (the
 * same test as on speed-ups) is significant, else 0.
 */
export function registerExperimentGauges(registry: Registry, summaries: () => ExperimentSummary[]): void {
  gauge(
    registry,
    'fairspec_experiment_speedup',
    "An experiment arm's mean per-request speed-up over plain decoding by language, with its 95% confidence interval.",
    ['experiment', 'arm', 'language', 'bound'],
    (g) => {
      for (const summary of summaries()) {
        for (const arm of summary.arms) {
          for (const cell of arm.languages) {
            const s = cell.speedUp;
            if (s === null || !finite(s.estimate)) continue;
            const labels = { experiment: summary.id, arm: arm.name, language: cell.language };
            g.set({ ...labels, bound: 'mean' }, s.estimate);
            if (s.ci && finite(s.ci.low) && finite(s.ci.high)) {
              g.set({ ...labels, bound: 'lower' }, s.ci.low);
              g.set({ ...labels, bound: 'upper' }, s.ci.high);
            }
          }
        }
      }
    },
  );
  gauge(
    registry,
    'fairspec_experiment_arm_worse_than_control',
    '1 when the arm is significantly slower than the control arm for the language (Holm-adjusted Welch test), else 0.',
    ['experiment', 'arm', 'language'],
    (g) => {
      for (const summary of summaries()) {
        for (const c of summary.comparisons) {
          const test = c.tokensPerSecond;
          const worse = test !== null && test.significant && test.difference < 0;
          g.set({ experiment: summary.id, arm: c.arm, language: c.language }, worse ? 1 : 0);
        }
      }
    },
  );
}
