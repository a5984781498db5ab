// The sliding fairness window (src/fairness/sliding-window.ts) as scrape-time gauges.

import type { Registry } from 'prom-client';
import type { WindowSnapshot } from '../fairness/sliding-window.js';
import { finite, gauge } from './scrape-gauge.js';

/**
 * fairspec_fairness_speedup{language}, fairspec_fairness_cross_entropy{language},
 * fairspec_fairness_worst_speedup, fairspec_fairness_speedup_max_min_ratio,
 * fairspec_fairness_cross_entropy_variance: over the sliding window (src/fairness/sliding-window.ts).
 */
export function registerFairnessGauges(registry: Registry, snapshot: () => WindowSnapshot): void {
  gauge(registry, 'fairspec_fairness_speedup', 'Speed-up over plain decoding in the live window, by language: (sum of tokens / sum of ms) over the plain requests\' in the window.', ['language'], (g) => {
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
