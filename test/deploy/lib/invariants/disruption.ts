// A PodDisruptionBudget lets a node drain evict at least one replica (else the drain hangs) and
// keeps at least one serving (else the Service has no endpoint), at the fewest replicas the
// Deployment can run with.

import { minimumReplicas } from '../replicas.js';
import { ofKind, problem, selectedDeployments, type K8sObject } from '../objects.js';

/** An int-or-percent of `replicas`; percentages round up, as the disruption controller does. */
function resolve(value: number | string, replicas: number): number {
  return typeof value === 'number' ? value : Math.ceil((Number(value.replace('%', '')) * replicas) / 100);
}

export function disruptionProblems(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const pdb of ofKind(objects, 'PodDisruptionBudget')) {
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    for (const d of selectedDeployments(objects, pdb, pdb.spec?.selector)) {
      const { replicas, from } = minimumReplicas(objects, d);
      const field = maxUnavailable !== undefined ? 'spec.maxUnavailable' : 'spec.minAvailable';
      const evictable =
        maxUnavailable !== undefined ? resolve(maxUnavailable, replicas) : minAvailable !== undefined ? replicas - resolve(minAvailable, replicas) : replicas;
      const at = `at ${replicas} replicas (${from})`;
      if (evictable < 1) out.push(problem(pdb, field, `allows no eviction ${at}: node drains would hang`));
      else if (replicas - evictable < 1) out.push(problem(pdb, field, `lets every replica go ${at}: a drain leaves Deployment/${d.metadata.name} with none serving`));
    }
  }
  return out;
}
