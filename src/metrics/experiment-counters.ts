// Each experiment cell's sufficient statistics as Prometheus counters, and each experiment's
// definition as info series, so that Prometheus holds everything a read-out is computed from:
// summed over replicas and restarts, the counters are the cluster's cells
// (src/cluster/cluster-readout.ts), and `fairspec experiments report` needs nothing but
// Prometheus (bin/fairspec.ts).
//
// The counters are read from the experiment registry at scrape time rather than incremented
// beside it: one set of sums, so a replica's own read-out and what it exports cannot disagree.
// They are counters all the same (they only grow while the process and the experiment live);
// each process labels its series with its own `incarnation` (src/experiments/cell-series.ts).
// Series names and label values are bounded as the read-out's gauges are (experiment-gauges.ts).

import type { Metric, Registry } from 'prom-client';
import { cellSeries, COUNT_FAMILIES, LATENCY_FAMILY, MOMENT_FAMILY, RATIO_FAMILY, REFERENCE_FAMILY, referenceSeries, type SeriesFamily } from '../experiments/cell-series.js';
import type { ExperimentStatistics } from '../experiments/experiment-store.js';
import { NO_DRAFTER } from './metrics-recorder.js';
import { gauge, oncePerScrape } from './scrape-gauge.js';

interface ExposedValue {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

/**
 * A metric family whose values are computed on each scrape, of any type (prom-client's Counter
 * and Histogram can only be incremented). It implements the part of prom-client's metric
 * interface the registry reads: name, help, type, get() and reset().
 */
class ComputedFamily {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly values: () => ExposedValue[],
  ) {}

  // The registry calls every family's get() in one synchronous pass before awaiting any, so all
  // families of a scrape read the same state.
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExposedValue[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() });
  }

  reset(): void {}
}

export interface ExperimentCountersOptions {
  /** This process's `incarnation` label value, different from every other process's. */
  incarnation: string;
}

export function registerExperimentCounters(registry: Registry, experiments: () => ExperimentStatistics[], options: ExperimentCountersOptions): void {
  const current = oncePerScrape(experiments);
  const { incarnation } = options;
  const register = (family: SeriesFamily, values: () => ExposedValue[]) =>
    registry.registerMetric(new ComputedFamily(family.name, family.help, family.type, values) as unknown as Metric);

  // One pass over the cells per scrape, split by family.
  const byFamily = oncePerScrape(() => {
    const out = new Map<string, ExposedValue[]>();
    const push = (family: string, value: ExposedValue) => {
      let list = out.get(family);
      if (!list) out.set(family, (list = []));
      list.push(value);
    };
    for (const { experiment, cells, serverReference } of current()) {
      for (const { arm, language, statistics } of cells) {
        for (const s of cellSeries(statistics)) {
          const family = s.name.startsWith(LATENCY_FAMILY.name) ? LATENCY_FAMILY.name : s.name;
          push(family, { metricName: s.name, value: s.value, labels: { experiment: experiment.id, arm, language, incarnation, ...s.labels } });
        }
      }
      if (serverReference) {
        for (const s of referenceSeries(serverReference)) push(s.name, { value: s.value, labels: { experiment: experiment.id, incarnation, ...s.labels } });
      }
    }
    return out;
  });
  for (const family of [...Object.values(COUNT_FAMILIES), RATIO_FAMILY, MOMENT_FAMILY, LATENCY_FAMILY, REFERENCE_FAMILY]) {
    register(family, () => byFamily().get(family.name) ?? []);
  }

  gauge(registry, 'fairspec_experiment_info', 'An experiment this server holds: its salt and whether it assigns traffic (value 1).', ['experiment', 'salt', 'enabled'], (g) => {
    for (const { experiment } of current()) g.set({ experiment: experiment.id, salt: experiment.salt, enabled: String(experiment.enabled) }, 1);
  });
  gauge(registry, 'fairspec_experiment_created_timestamp_seconds', 'When an experiment was created (shared by every replica through FAIRSPEC_STATE_DIR).', ['experiment'], (g) => {
    for (const { experiment, createdAt } of current()) g.set({ experiment: experiment.id }, createdAt / 1000);
  });
  gauge(
    registry,
    'fairspec_experiment_arm_info',
    `An experiment arm (value 1): position 0 is the control; drafter "${NO_DRAFTER}" is plain decoding, "" the routing policy's drafter.`,
    ['experiment', 'arm', 'position', 'drafter', 'policy', 'weight'],
    (g) => {
      for (const { experiment } of current()) {
        experiment.arms.forEach((arm, position) => {
          const drafter = arm.drafter === null ? NO_DRAFTER : (arm.drafter ?? '');
          g.set({ experiment: experiment.id, arm: arm.name, position: String(position), drafter, policy: arm.policy ?? '', weight: String(arm.weight) }, 1);
        });
      }
    },
  );
}
