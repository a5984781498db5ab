// The environment a container starts with: its envFrom ConfigMaps, then its own env values
// (which win, as in Kubernetes). Secrets and fieldRefs are not resolvable offline and are left out.

import { find, type Json, type K8sObject } from './objects.js';

export function containerEnvironment(objects: readonly K8sObject[], deployment: K8sObject, container: Json): Map<string, string> {
  const env = new Map<string, string>();
  for (const source of (container.envFrom ?? []) as Json[]) {
    if (source.configMapRef === undefined) continue;
    const configMap = find(objects, 'ConfigMap', source.configMapRef.name, deployment);
    for (const [key, value] of Object.entries((configMap?.data ?? {}) as Record<string, string>)) {
      env.set(`${source.prefix ?? ''}${key}`, value);
    }
  }
  for (const variable of (container.env ?? []) as Json[]) {
    if (typeof variable.value === 'string') env.set(variable.name, variable.value);
  }
  return env;
}
