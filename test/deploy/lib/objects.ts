// Rendered Kubernetes objects as plain JSON, and the vocabulary the checks share: how an object
// and a field are named in a problem ("Deployment/fairspec: spec.replicas: ..."), label
// selectors, and finders.

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Json = any;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: Json;
}

/** `Kind/name`, the way a problem names its object. */
export function objectId(o: K8sObject): string {
  return `${o.kind}/${o.metadata.name}`;
}

/** One finding: `Kind/name: field.path: what is wrong`. */
export function problem(o: K8sObject, path: string, message: string): string {
  return `${objectId(o)}: ${path}: ${message}`;
}

/** JSON pointer segments -> `spec.template.spec.containers[0].name`. */
export function fieldPath(segments: readonly (string | number)[]): string {
  return segments.reduce<string>((out, s) => (typeof s === 'number' || /^\d+$/.test(s) ? `${out}[${s}]` : out === '' ? s : `${out}.${s}`), '');
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether labels satisfy a selector; an empty selector matches nothing here (it would match every pod). */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  const pairs = Object.entries(selector?.matchLabels ?? {});
  const expressions = selector?.matchExpressions ?? [];
  if (pairs.length === 0 && expressions.length === 0) return false;
  return (
    pairs.every(([k, v]) => l[k] === v) &&
    expressions.every((e) => {
      const has = Object.hasOwn(l, e.key);
      switch (e.operator) {
        case 'In':
          return has && (e.values ?? []).includes(l[e.key]!);
        case 'NotIn':
          return !has || !(e.values ?? []).includes(l[e.key]!);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          return false;
      }
    })
  );
}

export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function sameNamespace(a: K8sObject, b: K8sObject): boolean {
  return (a.metadata.namespace ?? 'default') === (b.metadata.namespace ?? 'default');
}

export function find(objects: readonly K8sObject[], kind: string, name: string, near: K8sObject): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name && sameNamespace(o, near));
}

/** The Deployments whose pods a selector picks, in the selector owner's namespace. */
export function selectedDeployments(objects: readonly K8sObject[], owner: K8sObject, selector: LabelSelector | undefined): K8sObject[] {
  return ofKind(objects, 'Deployment').filter((d) => sameNamespace(d, owner) && selects(selector, d.spec?.template?.metadata?.labels));
}

export interface ContainerAt {
  container: Json;
  /** Field path of the container, e.g. `spec.template.spec.containers[0]`. */
  path: string;
}

export function containers(deployment: K8sObject): ContainerAt[] {
  return ((deployment.spec?.template?.spec?.containers ?? []) as Json[]).map((container, i) => ({
    container,
    path: `spec.template.spec.containers[${i}]`,
  }));
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}
