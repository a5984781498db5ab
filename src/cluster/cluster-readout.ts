// The read-out of the whole cluster: every replica's and every restart's counters
// (src/metrics/experiment-counters.ts) summed in Prometheus over processes, read back into cells
// (src/experiments/cell-series.ts) and summarised by the same code as a replica's own read-out
// (src/experiments/analysis.ts).
//
// Each process's series carry its own `incarnation`, so the last value of every series is that
// process's total and `sum by (arm, language, …) (last_over_time(…[window]))` is the cluster's,
// exactly: no increase() extrapolation, no reset arithmetic. The window runs from the
// experiment's creation (a minute earlier, for clock skew between hosts) to the query time, one
// instant for every query so that all families come from the same scrapes. It needs each
// process's last increments to have been scraped: a replica stopping with
// FAIRSPEC_SHUTDOWN_LINGER_MS above the scrape interval is scraped after its last generation.
//
// Latency: quantiles do not add, so the cluster's come from the cells' histograms.

import type { ReadoutInput } from '../experiments/analysis.js';
import { CellSeriesReader, COUNT_FAMILIES, LATENCY_FAMILY, MOMENT_FAMILY, RATIO_FAMILY, REFERENCE_FAMILY } from '../experiments/cell-series.js';
import { parseExperiment, type Arm, type Experiment } from '../experiments/experiment.js';
import { ExperimentError } from '../experiments/errors.js';
import { NO_DRAFTER } from '../metrics/metrics-recorder.js';
import { promqlString, type PrometheusApi } from './prometheus-api.js';

/** Clock skew between the hosts that created an experiment and those that served it. */
const SKEW_SECONDS = 60;

export interface ClusterReadoutOptions {
  /** Query time; default now. */
  now?: Date;
  /** Plain requests a language needs before its own reference replaces the pooled one. */
  minReferenceRequests: number;
}

/** The read-out input of `experiment`, created at `createdAt`, from every process's counters in Prometheus. */
export async function clusterReadoutInput(
  prometheus: PrometheusApi,
  experiment: Experiment,
  createdAt: string,
  options: ClusterReadoutOptions,
): Promise<ReadoutInput> {
  const now = options.now ?? new Date();
  const time = now.getTime() / 1000;
  const window = `${Math.max(1, Math.ceil(time - Date.parse(createdAt) / 1000) + SKEW_SECONDS)}s`;
  const selector = (name: string) => `last_over_time(${name}{experiment=${promqlString(experiment.id)}}[${window}])`;
  const cell = ['arm', 'language'];
  const queries: { name: string; by: string[] }[] = [
    ...Object.values(COUNT_FAMILIES).map((f) => ({ name: f.name, by: cell })),
    { name: RATIO_FAMILY.name, by: [...cell, ...RATIO_FAMILY.labels] },
    { name: MOMENT_FAMILY.name, by: [...cell, ...MOMENT_FAMILY.labels] },
    { name: `${LATENCY_FAMILY.name}_bucket`, by: [...cell, 'le'] },
    { name: `${LATENCY_FAMILY.name}_sum`, by: cell },
    { name: REFERENCE_FAMILY.name, by: ['language', ...REFERENCE_FAMILY.labels] },
  ];
  const reader = new CellSeriesReader();
  const [processes, ...answers] = await Promise.all([
    prometheus.query(`count(count by (incarnation) (${selector(COUNT_FAMILIES.requests.name)}))`, time),
    ...queries.map((q) => prometheus.query(`sum by (${q.by.join(', ')}) (${selector(q.name)})`, time)),
  ]);
  answers.forEach((samples, i) => {
    for (const s of samples) reader.add({ name: queries[i]!.name, labels: s.labels, value: s.value });
  });
  return {
    experiment,
    createdAt,
    cells: reader.cells(),
    serverReference: reader.serverReference,
    minReferenceRequests: options.minReferenceRequests,
    scope: 'cluster',
    processes: processes[0]?.value ?? 0,
  };
}

export interface ExperimentFromPrometheus {
  experiment: Experiment;
  createdAt: string;
}

/**
 * An experiment's definition and creation time as the replicas export them
 * (fairspec_experiment_arm_info, _info, _created_timestamp_seconds), for a read-out with no
 * server to ask (`fairspec experiments report`): the latest creation within `lookback`.
 */
export async function experimentFromPrometheus(prometheus: PrometheusApi, id: string, lookback: string, now = new Date()): Promise<ExperimentFromPrometheus> {
  const time = now.getTime() / 1000;
  const match = `{experiment=${promqlString(id)}}`;
  const [created, info, arms] = await Promise.all([
    prometheus.query(`max(max_over_time(fairspec_experiment_created_timestamp_seconds${match}[${lookback}]))`, time),
    prometheus.query(`max by (salt, enabled) (last_over_time(fairspec_experiment_info${match}[${lookback}]))`, time),
    prometheus.query(`max by (arm, position, drafter, policy, weight) (last_over_time(fairspec_experiment_arm_info${match}[${lookback}]))`, time),
  ]);
  const createdSeconds = created[0]?.value;
  if (createdSeconds === undefined || arms.length === 0) {
    throw new ExperimentError('FS_EXPERIMENT_NOT_FOUND', `Prometheus has no experiment '${id}' in the last ${lookback}.`, 'id');
  }
  const byPosition = new Map<number, Arm>();
  for (const { labels } of arms) {
    const position = Number(labels.position);
    const drafter = labels.drafter === NO_DRAFTER ? null : labels.drafter || undefined;
    const arm: Arm = {
      name: labels.arm ?? '',
      ...(drafter !== undefined && { drafter }),
      ...(labels.policy === 'static' || labels.policy === 'adaptive' ? { policy: labels.policy } : {}),
      weight: Number(labels.weight),
    };
    const seen = byPosition.get(position);
    if (seen && JSON.stringify(seen) !== JSON.stringify(arm)) {
      throw new ExperimentError('FS_INVALID_EXPERIMENT', `Replicas disagree on arm ${position} of experiment '${id}': ${JSON.stringify(seen)} and ${JSON.stringify(arm)}.`, 'id');
    }
    byPosition.set(position, arm);
  }
  const latest = info.find((s) => s.labels.enabled === 'true') ?? info[0];
  const experiment = parseExperiment({
    id,
    ...(latest?.labels.salt && { salt: latest.labels.salt }),
    enabled: latest?.labels.enabled !== 'false',
    arms: [...byPosition].sort((a, b) => a[0] - b[0]).map(([, arm]) => arm),
  });
  return { experiment, createdAt: new Date(createdSeconds * 1000).toISOString() };
}
