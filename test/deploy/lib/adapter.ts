// prometheus-adapter's rules, from the Helm values an overlay ships beside its kustomization
// (prometheus-adapter-values.yaml): which metrics each rule serves, from which series, for which
// resources.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { metricNames } from '../../../monitoring/monitoring-expressions.js';
import { REPO } from './render.js';

export const ADAPTER_VALUES = 'prometheus-adapter-values.yaml';

export interface AdapterRule {
  /** custom.metrics.k8s.io (Pods and Object metrics) or external.metrics.k8s.io. */
  api: 'custom' | 'external';
  /** Where it is written, e.g. `deploy/overlays/hpa/prometheus-adapter-values.yaml: rules.custom[0]`. */
  source: string;
  seriesQuery: string;
  metricsQuery?: string;
  name?: { matches?: string; as?: string };
  resources?: { overrides?: Record<string, { resource?: string; group?: string }>; template?: string };
}

/** The Prometheus address the overlay's adapter values point at (`prometheus.url:port`), or null. */
export function adapterPrometheusUrl(kustomization: string): string | null {
  const file = join(REPO, kustomization, ADAPTER_VALUES);
  if (!existsSync(file)) return null;
  const prometheus = (parse(readFileSync(file, 'utf8')) as { prometheus?: { url?: string; port?: number } }).prometheus;
  return prometheus?.url === undefined ? null : `${prometheus.url}${prometheus.port === undefined ? '' : `:${prometheus.port}`}`;
}

/** The overlay's adapter rules, or null when it ships no adapter values. */
export function adapterRules(kustomization: string): AdapterRule[] | null {
  const file = join(REPO, kustomization, ADAPTER_VALUES);
  if (!existsSync(file)) return null;
  const values = parse(readFileSync(file, 'utf8')) as { rules?: { custom?: AdapterRule[]; external?: AdapterRule[] } };
  const rules = (api: 'custom' | 'external'): AdapterRule[] =>
    (values.rules?.[api] ?? []).map((r, i) => ({ ...r, api, source: `${kustomization}/${ADAPTER_VALUES}: rules.${api}[${i}]` }));
  return [...rules('custom'), ...rules('external')];
}

/** The metric names a rule serves: each series it selects, renamed by name.matches/as (a Go regexp replacement). */
export function servedMetrics(rule: AdapterRule): string[] {
  return metricNames(rule.seriesQuery).map((series) => {
    if (rule.name?.as === undefined) return series;
    const pattern = new RegExp(rule.name.matches ?? '^(.*)$');
    if (!pattern.test(series)) return series;
    return series.replace(pattern, rule.name.as.replace(/\$\{(\d+)\}/g, '$$$1'));
  });
}

/** The Kubernetes resources a rule attaches its series to (pod, namespace, ...). */
export function ruleResources(rule: AdapterRule): string[] {
  if (rule.resources?.template !== undefined) return ['*'];
  return Object.values(rule.resources?.overrides ?? {}).flatMap((o) => (o.resource === undefined ? [] : [o.resource]));
}
