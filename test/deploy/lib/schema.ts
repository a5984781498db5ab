// Every rendered object against its API schema (the kubernetes-models packages: Kubernetes,
// prometheus-operator, KEDA), plus unknown fields. A model's validate() accepts fields its schema
// does not know, because the schemas allow additional properties, so a misspelled field would
// pass and the API server would drop it. The validators are compiled ajv code that reads each
// known property by name: validating through a Proxy that records which keys were read tells the
// known ones at every path; a key never read is unknown. Maps (labels, ConfigMap data) are
// iterated by their validators, so their keys count as read.

import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as coreV1 from 'kubernetes-models/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as kedaV1alpha1 from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { fieldPath, objectId, problem, type Json, type K8sObject } from './objects.js';

interface ModelClass {
  apiVersion: string;
  kind: string;
  prototype: { validate(): void };
}

/** The API groups deploy/ uses; anything else is reported rather than passed unchecked. */
const MODULES: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'policy/v1': policyV1,
  'autoscaling/v2': autoscalingV2,
  'monitoring.coreos.com/v1': monitoringV1,
  'keda.sh/v1alpha1': kedaV1alpha1,
};

function modelFor(o: K8sObject): ModelClass | undefined {
  const candidate = MODULES[o.apiVersion]?.[o.kind] as Partial<ModelClass> | undefined;
  return candidate?.apiVersion === o.apiVersion && candidate.kind === o.kind ? (candidate as ModelClass) : undefined;
}

interface AjvError {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

function pointerSegments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Validates `o` through recording proxies: the schema errors, and the keys read at each path. */
function traceValidation(model: ModelClass, o: K8sObject): { errors: AjvError[]; read: Map<Json, Set<string>> } {
  const read = new Map<Json, Set<string>>();
  const proxies = new Map<Json, Json>();
  // One proxy and one key set per object, however often and along whichever path it is read.
  const wrap = (value: Json): Json => {
    if (value === null || typeof value !== 'object') return value;
    const existing = proxies.get(value);
    if (existing !== undefined) return existing;
    const keys = new Set<string>();
    read.set(value, keys);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (typeof key !== 'string') return v;
        keys.add(key);
        return Object.hasOwn(target, key) ? wrap(v) : v;
      },
      has(target, key) {
        if (typeof key === 'string') keys.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        for (const key of Reflect.ownKeys(target)) if (typeof key === 'string') keys.add(key);
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  try {
    model.prototype.validate.call(wrap(o));
    return { errors: [], read };
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (errors === undefined) throw err;
    return { errors, read };
  }
}

function unknownFields(o: K8sObject, read: Map<Json, Set<string>>): string[] {
  const out: string[] = [];
  const walk = (value: Json, path: (string | number)[]): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, [...path, i]));
      return;
    }
    const known = read.get(value);
    for (const [key, child] of Object.entries(value)) {
      // An object the validator never entered (below a schema error) is not judged.
      if (known !== undefined && !known.has(key)) out.push(problem(o, fieldPath([...path, key]), 'unknown field'));
      else walk(child, [...path, key]);
    }
  };
  walk(o, []);
  return out;
}

/** Schema errors and unknown fields of every object, each naming the object and the field. */
export function schemaProblems(objects: readonly K8sObject[]): string[] {
  return objects.flatMap((o) => {
    const model = modelFor(o);
    if (model === undefined) return [`${objectId(o)}: apiVersion: no schema for ${o.apiVersion} ${o.kind} in test/deploy/lib/schema.ts`];
    const { errors, read } = traceValidation(model, o);
    const invalid = errors.map((e) => {
      const missing = e.params?.missingProperty;
      const segments = pointerSegments(e.instancePath);
      if (typeof missing === 'string') return problem(o, fieldPath([...segments, missing]), 'required field missing');
      return problem(o, fieldPath(segments) || '(object)', e.message ?? 'invalid');
    });
    return [...new Set([...invalid, ...unknownFields(o, read)])];
  });
}
