// Where each fairspec_experiment_* series sits in GET /v1/experiments/{id}'s JSON, written from
// the API's side (snake_case, plugins/experiments-schema.ts), independently of src/metrics/experiment-gauges.ts,
// and the comparison of every number the Experiment dashboard's queries return through
// Prometheus with the read-out: test/monitoring/promql.test.ts runs it on a test server,
// bench/experiment-dashboard-check.ts on a live one (hence here, shared by tests and bench).

import { dashboardExpressions, metricNames, type Expression } from './monitoring-expressions.js';
import type { QueryResult } from './prometheus-server.js';

interface Interval {
  low: number;
  high: number;
}
interface Estimate {
  estimate: number;
  ci: Interval | null;
}
interface Test {
  difference: number;
  ci: Interval;
  p_adjusted: number;
  significant: boolean;
}
interface Disparity {
  mean: number;
  worst: { language: string; value: number };
  best: { language: string; value: number };
  max_min_ratio: number | null;
  cv: number | null;
}
interface Cell {
  language: string;
  requests: number;
  generated_tokens: number;
  acceptance_rate: { estimate: number; ci: Interval | null; ci_clustered: Interval | null } | null;
  mean_accepted_length: Estimate | null;
  speed_up: Estimate | null;
  latency_ms: { p50: Estimate | null; p95: Estimate | null };
}
interface WorstLanguageComparison {
  arm: string;
  difference: number;
  ci: Interval;
  probability_higher: number;
}
export interface ExperimentReadout {
  id: string;
  arms: { name: string; languages: Cell[]; fairness: { speed_up: Disparity | null; unfairness: number | null } }[];
  comparisons: { language: string; arm: string; tokens_per_second: Test | null; speed_up: Test | null }[];
  worst_language: WorstLanguageComparison[];
}

/** bound = mean | lower | upper of an estimate; undefined where the read-out has none. */
function bounded(value: Estimate | null | undefined, bound: string | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (bound === 'mean') return value.estimate;
  if (bound === 'lower') return value.ci?.low;
  if (bound === 'upper') return value.ci?.high;
  return undefined;
}

/**
 * The read-out's value for the series `name` with `labels` (the sample's labels and the
 * equality matchers its query fixed, e.g. bound="lower"); undefined when the read-out has no
 * such value (a series the API would not explain).
 */
export function readoutValue(readout: ExperimentReadout, name: string, labels: Record<string, string>): number | undefined {
  if (labels.experiment !== readout.id) return undefined;
  const arm = readout.arms.find((a) => a.name === labels.arm);
  const cell = arm?.languages.find((c) => c.language === labels.language);
  const comparison = readout.comparisons.find((c) => c.arm === labels.arm && c.language === labels.language);
  const disparity = arm?.fairness.speed_up;
  const worstComparison = readout.worst_language.find((w) => w.arm === labels.arm);
  switch (name) {
    case 'fairspec_experiment_requests':
      return cell?.requests;
    case 'fairspec_experiment_generated_tokens':
      return cell?.generated_tokens;
    case 'fairspec_experiment_speedup':
      return bounded(cell?.speed_up, labels.bound);
    case 'fairspec_experiment_acceptance_rate': {
      const a = cell?.acceptance_rate;
      return bounded(a && { estimate: a.estimate, ci: a.ci_clustered }, labels.bound);
    }
    case 'fairspec_experiment_mean_accepted_length':
      return bounded(cell?.mean_accepted_length, labels.bound);
    case 'fairspec_experiment_latency_seconds': {
      const quantile = labels.quantile === '0.5' ? cell?.latency_ms.p50 : labels.quantile === '0.95' ? cell?.latency_ms.p95 : undefined;
      const ms = bounded(quantile, labels.bound);
      return ms === undefined ? undefined : ms / 1000;
    }
    case 'fairspec_experiment_speedup_difference': {
      const s = comparison?.speed_up;
      return bounded(s && { estimate: s.difference, ci: s.ci }, labels.bound);
    }
    case 'fairspec_experiment_speedup_difference_p_adjusted':
      return comparison?.speed_up?.p_adjusted;
    case 'fairspec_experiment_arm_worse_than_control': {
      if (comparison === undefined) return undefined;
      const s = comparison.tokens_per_second;
      return s === null ? 0 : Number(s.significant && s.difference < 0);
    }
    case 'fairspec_experiment_worst_language':
      return disparity && disparity.worst.language === labels.language ? disparity.worst.value : undefined;
    case 'fairspec_experiment_worst_speedup_difference':
      return bounded(worstComparison && { estimate: worstComparison.difference, ci: worstComparison.ci }, labels.bound);
    case 'fairspec_experiment_worst_speedup_higher_probability':
      return worstComparison?.probability_higher;
    case 'fairspec_experiment_fairness': {
      const figures: Record<string, number | null | undefined> = {
        mean_speedup: disparity?.mean,
        worst_speedup: disparity?.worst.value,
        best_speedup: disparity?.best.value,
        max_min_speedup_ratio: disparity?.max_min_ratio,
        cv_speedup: disparity?.cv,
        cross_entropy_variance: arm?.fairness.unfairness,
      };
      return figures[labels.figure ?? ''] ?? undefined;
    }
    default:
      return undefined;
  }
}

/** Label = "value" matchers a query fixes (`bound="lower"`); regex matchers (=~) are not fixed. */
export function fixedMatchers(query: string): Record<string, string> {
  return Object.fromEntries([...query.matchAll(/(\w+)\s*=\s*"([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

/** The Experiment dashboard's panel queries that read the experiment gauges. */
export function experimentDashboardQueries(dashboardsDir: string): Expression[] {
  return dashboardExpressions(dashboardsDir).filter(
    (e) => e.kind === 'panel' && e.source.startsWith('experiment.json › ') && metricNames(e.query).some((n) => n.startsWith('fairspec_experiment_')),
  );
}

export interface QueryComparison {
  source: string;
  /** The query failed (parse error): its message. */
  error?: string;
  /** Samples of this experiment the query returned. */
  values: number;
  /** `labels: dashboard value, API value` for each sample that differs or that the read-out lacks. */
  wrong: string[];
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/**
 * Runs each query through `query` (Prometheus) and holds every sample of `readout`'s experiment
 * against the read-out. `shown` collects `series|arm|language` of what the dashboard returned.
 */
export async function compareWithReadout(
  queries: Expression[],
  query: (expr: string) => Promise<QueryResult>,
  readout: ExperimentReadout,
  shown: Set<string> = new Set(),
): Promise<QueryComparison[]> {
  const out: QueryComparison[] = [];
  for (const e of queries) {
    const result = await query(e.query);
    if (!result.ok) {
      out.push({ source: e.source, error: result.error, values: 0, wrong: [] });
      continue;
    }
    const name = metricNames(e.query)[0]!;
    const fixed = fixedMatchers(e.query);
    const comparison: QueryComparison = { source: e.source, values: 0, wrong: [] };
    for (const s of result.samples) {
      const labels = { ...fixed, ...s.metric };
      if (labels.experiment !== readout.id) continue;
      comparison.values++;
      const got = Number(s.value[1]);
      const want = readoutValue(readout, name, labels);
      if (want === undefined || !close(got, want)) comparison.wrong.push(`${JSON.stringify(labels)}: dashboard ${got}, API ${want}`);
      shown.add(`${name}|${labels.arm}|${labels.language ?? ''}`);
    }
    out.push(comparison);
  }
  return out;
}
