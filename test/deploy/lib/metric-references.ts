// The series a rendered kustomization asks Prometheus for, which the server itself must export:
// what the PrometheusRules read (less the series the rules record themselves and those Prometheus
// writes for each scrape, such as `up`), KEDA's Prometheus queries, and the series
// prometheus-adapter's rules select.

import { metricNames, SCRAPE_SERIES } from '../../../monitoring/monitoring-expressions.js';
import type { AdapterRule } from './adapter.js';
import { objectId, ofKind, type Json, type K8sObject } from './objects.js';

export interface MetricReference {
  /** Where the name is written, e.g. `PrometheusRule/fairspec-recording: spec.groups[0].rules[3].expr`. */
  source: string;
  name: string;
}

export function metricReferences(objects: readonly K8sObject[], adapterRules: readonly AdapterRule[] | null): MetricReference[] {
  const out: MetricReference[] = [];
  const rules = ofKind(objects, 'PrometheusRule');
  const recorded = new Set(rules.flatMap((r) => ((r.spec?.groups ?? []) as Json[]).flatMap((g) => ((g.rules ?? []) as Json[]).map((rule) => rule.record))));
  for (const r of rules) {
    ((r.spec?.groups ?? []) as Json[]).forEach((group, g) => {
      ((group.rules ?? []) as Json[]).forEach((rule, i) => {
        for (const name of metricNames(String(rule.expr))) {
          if (!recorded.has(name) && !SCRAPE_SERIES.has(name)) out.push({ source: `${objectId(r)}: spec.groups[${g}].rules[${i}].expr`, name });
        }
      });
    });
  }
  for (const so of ofKind(objects, 'ScaledObject')) {
    ((so.spec?.triggers ?? []) as Json[]).forEach((trigger, i) => {
      if (trigger.type !== 'prometheus') return;
      for (const name of metricNames(String(trigger.metadata?.query ?? ''))) {
        out.push({ source: `${objectId(so)}: spec.triggers[${i}].metadata.query`, name });
      }
    });
  }
  for (const rule of adapterRules ?? []) {
    for (const name of metricNames(rule.seriesQuery)) out.push({ source: `${rule.source}.seriesQuery`, name });
  }
  return out;
}

/** Sample names in a Prometheus text exposition (a histogram's _bucket, _sum and _count each). */
export function exportedNames(exposition: string): Set<string> {
  return new Set(
    exposition
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(l)![0]),
  );
}

/** References whose series the exposition lacks, as problems. */
export function missingMetrics(references: readonly MetricReference[], exported: ReadonlySet<string>): string[] {
  return references.filter((r) => !exported.has(r.name)).map((r) => `${r.source}: ${r.name} is not in the server's /metrics`);
}
