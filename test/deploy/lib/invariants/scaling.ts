// Autoscalers point at something real: the Deployment they scale exists and leaves the replica
// count to them (one autoscaler each); KEDA's Prometheus query is scoped to that Deployment's
// namespace and Service; every custom or external metric an HPA reads is served by a
// prometheus-adapter rule of the overlay, attached to the resources the metric type needs.

import { ruleResources, servedMetrics, ADAPTER_VALUES, type AdapterRule } from '../adapter.js';
import { find, ofKind, problem, selectedDeployments, type Json, type K8sObject } from '../objects.js';
import { scalersOf } from '../replicas.js';

/** The label matchers `name="value"` of a PromQL query. */
function equalityMatchers(query: string): Map<string, string> {
  return new Map([...query.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

function targetProblems(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const scaler of [...ofKind(objects, 'HorizontalPodAutoscaler'), ...ofKind(objects, 'ScaledObject')]) {
    const ref = scaler.spec?.scaleTargetRef ?? {};
    if ((ref.kind ?? 'Deployment') !== 'Deployment' || find(objects, 'Deployment', ref.name, scaler) === undefined) {
      out.push(problem(scaler, 'spec.scaleTargetRef', `${ref.kind ?? 'Deployment'}/${ref.name} is not a Deployment in the rendered manifests`));
    }
  }
  for (const d of ofKind(objects, 'Deployment')) {
    const scalers = scalersOf(objects, d);
    if (scalers.length > 1) out.push(problem(d, 'metadata.name', `scaled by ${scalers.map((s) => `${s.kind}/${s.metadata.name}`).join(' and ')}: they would fight`));
    if (scalers.length > 0 && d.spec?.replicas !== undefined) {
      out.push(problem(d, 'spec.replicas', `set while ${scalers[0]!.kind}/${scalers[0]!.metadata.name} owns the count: every apply would reset it`));
    }
  }
  return out;
}

function kedaProblems(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const so of ofKind(objects, 'ScaledObject')) {
    const target = find(objects, 'Deployment', so.spec?.scaleTargetRef?.name, so);
    ((so.spec?.triggers ?? []) as Json[]).forEach((trigger, i) => {
      if (trigger.type !== 'prometheus') return;
      const path = `spec.triggers[${i}].metadata.query`;
      const query = trigger.metadata?.query as string | undefined;
      if (query === undefined) {
        out.push(problem(so, path, 'missing'));
        return;
      }
      const matchers = equalityMatchers(query);
      const namespace = matchers.get('namespace');
      const expected = target?.metadata.namespace ?? so.metadata.namespace ?? 'default';
      if (namespace !== expected) {
        out.push(problem(so, path, `namespace=${JSON.stringify(namespace ?? '')} must be the Deployment's namespace "${expected}", or other workloads' series would count`));
      }
      const service = matchers.get('service');
      if (service !== undefined) {
        const s = find(objects, 'Service', service, so);
        if (s === undefined || target === undefined || !selectedDeployments(objects, s, { matchLabels: s.spec?.selector }).includes(target)) {
          out.push(problem(so, path, `service="${service}" is not a Service in front of the scaled Deployment`));
        }
      }
    });
  }
  return out;
}

/** Which adapter API serves an HPA metric type, and the resources a rule must attach its series to. */
const NEEDS: Record<string, { api: 'custom' | 'external'; resources: (metric: Json) => string[] }> = {
  Pods: { api: 'custom', resources: () => ['pod', 'namespace'] },
  Object: { api: 'custom', resources: (m) => [String(m.describedObject?.kind ?? '').toLowerCase(), 'namespace'] },
  External: { api: 'external', resources: () => [] },
};

function hpaProblems(objects: readonly K8sObject[], rules: readonly AdapterRule[] | null): string[] {
  const out: string[] = [];
  for (const hpa of ofKind(objects, 'HorizontalPodAutoscaler')) {
    ((hpa.spec?.metrics ?? []) as Json[]).forEach((metric, i) => {
      const need = NEEDS[metric.type];
      if (need === undefined) return;
      const source = metric[String(metric.type).charAt(0).toLowerCase() + String(metric.type).slice(1)];
      const name = source?.metric?.name as string | undefined;
      const path = `spec.metrics[${i}].${String(metric.type).toLowerCase()}.metric.name`;
      const serving = (rules ?? []).filter((r) => r.api === need.api && name !== undefined && servedMetrics(r).includes(name));
      if (serving.length === 0) {
        out.push(problem(hpa, path, `${JSON.stringify(name)} is served by no ${need.api} rule of the overlay's ${ADAPTER_VALUES}`));
        return;
      }
      const missing = need.resources(source).filter((r) => !serving.some((rule) => ruleResources(rule).some((x) => x === r || x === '*')));
      if (missing.length > 0) out.push(problem(hpa, path, `${serving[0]!.source} does not attach ${name} to ${missing.join(', ')}`));
    });
  }
  return out;
}

export function scalingProblems(objects: readonly K8sObject[], rules: readonly AdapterRule[] | null): string[] {
  return [...targetProblems(objects), ...kedaProblems(objects), ...hpaProblems(objects, rules)];
}
