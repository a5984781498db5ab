// The container runs as the image's non-root user with a read-only root filesystem (the
// restricted Pod Security Standard the namespace enforces), writes only to an emptyDir at /tmp,
// and declares what it needs: CPU and memory requests, a memory limit.

import { containers, ofKind, problem, type Json, type K8sObject } from '../objects.js';

export function podSecurityProblems(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const d of ofKind(objects, 'Deployment')) {
    const pod = d.spec?.template?.spec ?? {};
    const podContext = pod.securityContext ?? {};
    const volumes = new Map(((pod.volumes ?? []) as Json[]).map((v) => [v.name as string, v]));
    for (const { container, path } of containers(d)) {
      const context = container.securityContext ?? {};
      const effective = (key: string): unknown => context[key] ?? podContext[key];
      if (effective('runAsNonRoot') !== true) out.push(problem(d, `${path}.securityContext.runAsNonRoot`, 'must be true (pod or container)'));
      const user = effective('runAsUser');
      // The image's user is `node` by name, which the kubelet cannot check against runAsNonRoot.
      if (typeof user !== 'number' || user === 0) out.push(problem(d, `${path}.securityContext.runAsUser`, 'must be a numeric non-root uid (the image runs as `node`, 1000)'));
      if (context.readOnlyRootFilesystem !== true) out.push(problem(d, `${path}.securityContext.readOnlyRootFilesystem`, 'must be true'));
      if (context.allowPrivilegeEscalation !== false) out.push(problem(d, `${path}.securityContext.allowPrivilegeEscalation`, 'must be false'));
      if (!((context.capabilities?.drop ?? []) as string[]).includes('ALL')) out.push(problem(d, `${path}.securityContext.capabilities.drop`, 'must drop ALL'));

      const tmp = ((container.volumeMounts ?? []) as Json[]).find((m) => m.mountPath === '/tmp');
      if (tmp === undefined) out.push(problem(d, `${path}.volumeMounts`, 'no writable /tmp: mount an emptyDir there (the root filesystem is read-only)'));
      else if (volumes.get(tmp.name)?.emptyDir === undefined) out.push(problem(d, `${path}.volumeMounts`, `/tmp is mounted from ${tmp.name}, which is not an emptyDir volume of the pod`));

      for (const field of ['requests.cpu', 'requests.memory', 'limits.memory']) {
        const [group, resource] = field.split('.') as [string, string];
        if (container.resources?.[group]?.[resource] === undefined) out.push(problem(d, `${path}.resources.${field}`, 'must be set'));
      }
    }
  }
  return out;
}
