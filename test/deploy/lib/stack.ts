// deploy/kube-prometheus-stack-values.yaml against the manifests: the Grafana sidecar finds the
// dashboard ConfigMaps (label, folder annotation), every datasource uid the dashboards name is
// provisioned, the ServiceMonitor and PrometheusRules carry the release label the chart's
// Prometheus selects by, and KEDA, prometheus-adapter and Grafana all query that Prometheus.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ofKind, problem, type Json, type K8sObject } from './objects.js';
import { REPO } from './render.js';

export const STACK_VALUES = 'deploy/kube-prometheus-stack-values.yaml';

export function stackValues(): Json {
  return parse(readFileSync(join(REPO, STACK_VALUES), 'utf8'));
}

/** Datasource uids a dashboard names, template variables and Grafana's built-in one aside. */
function datasourceUids(dashboard: Json): Set<string> {
  const uids = new Set<string>();
  const walk = (v: Json): void => {
    if (v === null || typeof v !== 'object') return;
    if (typeof v.datasource?.uid === 'string' && !v.datasource.uid.startsWith('-- ') && !v.datasource.uid.startsWith('$')) uids.add(v.datasource.uid);
    for (const child of Object.values(v)) walk(child);
  };
  walk(dashboard);
  return uids;
}

function origin(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}

export interface StackInput {
  values: Json;
  /** Every object of every kustomization (duplicates are fine). */
  objects: readonly K8sObject[];
  /** prometheus-adapter's `prometheus.url:port`, when an overlay ships adapter values. */
  adapterUrl: string | null;
}

export function stackProblems({ values, objects, adapterUrl }: StackInput): string[] {
  const out: string[] = [];
  const sidecar = values?.grafana?.sidecar?.dashboards ?? {};
  const sources = (values?.grafana?.additionalDataSources ?? []) as Json[];
  const provisioned = new Set(sources.map((s) => s.uid as string));
  const prometheusUrl = sources.find((s) => s.type === 'prometheus')?.url as string | undefined;
  if (prometheusUrl === undefined) return [`${STACK_VALUES}: grafana.additionalDataSources: no prometheus datasource`];
  // `<release>-prometheus.<namespace>.svc`: the chart names its Prometheus Service after the release.
  const release = /^([a-z0-9-]+)-prometheus\./.exec(new URL(prometheusUrl).hostname)?.[1];

  const dashboards = ofKind(objects, 'ConfigMap').filter((c) => Object.keys(c.data ?? {}).some((k) => k.endsWith('.json')));
  for (const c of dashboards) {
    if (c.metadata.labels?.[sidecar.label] !== sidecar.labelValue) {
      out.push(problem(c, 'metadata.labels', `lacks ${sidecar.label}: "${sidecar.labelValue}", which the Grafana sidecar selects (${STACK_VALUES})`));
    }
    if (sidecar.folderAnnotation !== undefined && c.metadata.annotations?.[sidecar.folderAnnotation] === undefined) {
      out.push(problem(c, 'metadata.annotations', `lacks ${sidecar.folderAnnotation}, the sidecar's folderAnnotation (${STACK_VALUES})`));
    }
    for (const [key, text] of Object.entries(c.data as Record<string, string>)) {
      for (const uid of datasourceUids(JSON.parse(text))) {
        if (!provisioned.has(uid)) out.push(problem(c, `data.${key}`, `datasource uid "${uid}" is not in grafana.additionalDataSources of ${STACK_VALUES}`));
      }
    }
  }

  for (const o of [...ofKind(objects, 'ServiceMonitor'), ...ofKind(objects, 'PrometheusRule')]) {
    if (o.metadata.labels?.release !== release) {
      out.push(problem(o, 'metadata.labels.release', `${JSON.stringify(o.metadata.labels?.release)}: the chart's Prometheus (${prometheusUrl}) selects release "${release}"`));
    }
  }

  const expected = origin(prometheusUrl);
  for (const so of ofKind(objects, 'ScaledObject')) {
    ((so.spec?.triggers ?? []) as Json[]).forEach((trigger, i) => {
      const address = trigger.metadata?.serverAddress as string | undefined;
      if (trigger.type === 'prometheus' && (address === undefined || origin(address) !== expected)) {
        out.push(problem(so, `spec.triggers[${i}].metadata.serverAddress`, `${address}: not the Prometheus Grafana queries (${expected})`));
      }
    });
  }
  if (adapterUrl !== null && origin(adapterUrl) !== expected) {
    out.push(`prometheus-adapter-values.yaml: prometheus.url: ${adapterUrl}: not the Prometheus Grafana queries (${expected})`);
  }
  return [...new Set(out)];
}
