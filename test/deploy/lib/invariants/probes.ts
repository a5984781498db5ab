// The probes the server is built for (plugins/health.ts): startup and readiness on /readyz
// (503 while loading or draining), liveness on /healthz (the process answers). Liveness on
// /readyz would restart a replica that is merely loading or draining.

import { containers, ofKind, problem, type K8sObject } from '../objects.js';

const EXPECTED = { startupProbe: '/readyz', readinessProbe: '/readyz', livenessProbe: '/healthz' } as const;

export function probeProblems(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const d of ofKind(objects, 'Deployment')) {
    for (const { container, path } of containers(d)) {
      for (const [probe, route] of Object.entries(EXPECTED)) {
        const actual = container[probe]?.httpGet?.path;
        if (actual !== route) {
          out.push(problem(d, `${path}.${probe}.httpGet.path`, `${actual === undefined ? 'missing' : JSON.stringify(actual)}: must be ${route}`));
        }
      }
    }
  }
  return out;
}
