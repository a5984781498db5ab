// The routing policy's current choice and estimates as scrape-time gauges.
//
// Label values are bounded: languages are the metric label set ('other', 'unknown'), drafters the
// pack's.

import type { Registry } from 'prom-client';
import type { LanguageSnapshot, PolicySnapshot, RegimeSnapshot } from '../routing/adaptive-policy.js';
import { OTHER, UNKNOWN } from '../language.js';
import { NO_DRAFTER } from './metrics-recorder.js';
import { finite, gauge } from './scrape-gauge.js';

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
    if (key === UNKNOWN || key === OTHER) return key;
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
