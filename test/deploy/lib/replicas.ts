// Who sets a Deployment's replica count, and the fewest replicas it can run with: the
// Deployment's own spec.replicas, else the floor of the autoscaler that targets it.

import { ofKind, sameNamespace, type K8sObject } from './objects.js';

/** HorizontalPodAutoscalers and ScaledObjects whose scaleTargetRef is this Deployment. */
export function scalersOf(objects: readonly K8sObject[], deployment: K8sObject): K8sObject[] {
  return [...ofKind(objects, 'HorizontalPodAutoscaler'), ...ofKind(objects, 'ScaledObject')].filter((s) => {
    const ref = s.spec?.scaleTargetRef ?? {};
    // A ScaledObject's target kind defaults to Deployment.
    const kind = ref.kind ?? (s.kind === 'ScaledObject' ? 'Deployment' : undefined);
    return kind === 'Deployment' && ref.name === deployment.metadata.name && sameNamespace(s, deployment);
  });
}

/** The fewest replicas the Deployment runs with, and where that number comes from. */
export function minimumReplicas(objects: readonly K8sObject[], deployment: K8sObject): { replicas: number; from: string } {
  if (typeof deployment.spec?.replicas === 'number') return { replicas: deployment.spec.replicas, from: `Deployment/${deployment.metadata.name} spec.replicas` };
  const scaler = scalersOf(objects, deployment)[0];
  if (scaler?.kind === 'HorizontalPodAutoscaler') return { replicas: scaler.spec?.minReplicas ?? 1, from: `HorizontalPodAutoscaler/${scaler.metadata.name} spec.minReplicas` };
  if (scaler?.kind === 'ScaledObject') return { replicas: scaler.spec?.minReplicaCount ?? 0, from: `ScaledObject/${scaler.metadata.name} spec.minReplicaCount` };
  return { replicas: 1, from: 'the default (spec.replicas unset, no autoscaler)' };
}
