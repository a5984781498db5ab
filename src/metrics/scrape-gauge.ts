// Shared pieces of the scrape-time gauges (routing-gauges.ts, fairness-gauges.ts,
// experiment-gauges.ts): each gauge resets in its prom-client `collect` and sets one value per
// current series, so a language, drafter or experiment that left the state leaves the exposition
// too. grafana/README.md lists the names the dashboards and alerts read.

import { Gauge, type Registry } from 'prom-client';
import type { Estimate } from '../experiments/statistics/interval.js';

/** A gauge whose series are recomputed from live state on every scrape. */
export function gauge<T extends string>(registry: Registry, name: string, help: string, labelNames: readonly T[], fill: (g: Gauge<T>) => void): void {
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

export const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** bound = mean | lower | upper; the bounds only when the interval exists. */
export function setEstimate<T extends string>(g: Gauge<T | 'bound'>, labels: Record<T, string>, value: Estimate | null, scale = 1): void {
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
export function oncePerScrape<T>(compute: () => T): () => T {
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
