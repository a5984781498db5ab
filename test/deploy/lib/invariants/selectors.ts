// Selectors reach what they are meant to: a Deployment's selector its own pod template, the
// Service and the PodDisruptionBudget the pods of one Deployment, the ServiceMonitor a Service.

import { objectId, ofKind, problem, sameNamespace, selectedDeployments, selects, type K8sObject, type LabelSelector } from '../objects.js';

export function selectorProblems(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const d of ofKind(objects, 'Deployment')) {
    if (!selects(d.spec?.selector, d.spec?.template?.metadata?.labels)) {
      out.push(problem(d, 'spec.selector', 'does not match spec.template.metadata.labels'));
    }
  }
  for (const s of ofKind(objects, 'Service')) out.push(...oneDeployment(objects, s, { matchLabels: s.spec?.selector }));
  for (const pdb of ofKind(objects, 'PodDisruptionBudget')) out.push(...oneDeployment(objects, pdb, pdb.spec?.selector));
  for (const sm of ofKind(objects, 'ServiceMonitor')) {
    if (servicesOf(objects, sm).length === 0) {
      out.push(problem(sm, 'spec.selector', `${JSON.stringify(sm.spec?.selector ?? {})} matches no Service's labels in its namespaces`));
    }
  }
  return out;
}

/** A Service or PodDisruptionBudget covers the pods of exactly one Deployment (one pool). */
function oneDeployment(objects: readonly K8sObject[], owner: K8sObject, selector: LabelSelector): string[] {
  const selected = selectedDeployments(objects, owner, selector);
  if (selected.length === 0) return [problem(owner, 'spec.selector', `${JSON.stringify(selector.matchLabels ?? selector)} matches no Deployment's pod labels`)];
  if (selected.length > 1) return [problem(owner, 'spec.selector', `selects the pods of ${selected.map(objectId).join(' and ')}: one pool's traffic or budget would cover the other's`)];
  return [];
}

/** The Services a ServiceMonitor scrapes: matching labels, in its own namespace unless namespaceSelector says otherwise. */
export function servicesOf(objects: readonly K8sObject[], sm: K8sObject): K8sObject[] {
  const namespaces = sm.spec?.namespaceSelector as { any?: boolean; matchNames?: string[] } | undefined;
  const inScope = (s: K8sObject): boolean =>
    namespaces?.any === true ||
    (namespaces?.matchNames !== undefined ? namespaces.matchNames.includes(s.metadata.namespace ?? 'default') : sameNamespace(s, sm));
  return ofKind(objects, 'Service').filter((s) => inScope(s) && selects(sm.spec?.selector, s.metadata.labels));
}
