// Ports named elsewhere exist: probes' ports on their container, a Service's targetPort on the
// containers of the pods it selects, a ServiceMonitor endpoint's port on the Services it scrapes.

import { containers, ofKind, problem, selectedDeployments, type Json, type K8sObject } from '../objects.js';
import { servicesOf } from './selectors.js';

const PROBES = ['startupProbe', 'readinessProbe', 'livenessProbe'] as const;

function containerHasPort(container: Json, port: unknown): boolean {
  const ports = (container.ports ?? []) as { name?: string; containerPort: number }[];
  return typeof port === 'string' ? ports.some((p) => p.name === port) : ports.some((p) => p.containerPort === port);
}

export function portProblems(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const d of ofKind(objects, 'Deployment')) {
    for (const { container, path } of containers(d)) {
      for (const probe of PROBES) {
        const handler = container[probe]?.httpGet ?? container[probe]?.tcpSocket ?? container[probe]?.grpc;
        if (handler === undefined) continue;
        const field = container[probe].httpGet ? 'httpGet' : container[probe].tcpSocket ? 'tcpSocket' : 'grpc';
        if (!containerHasPort(container, handler.port)) {
          out.push(problem(d, `${path}.${probe}.${field}.port`, `${JSON.stringify(handler.port)} is not a port of container ${container.name}`));
        }
      }
    }
  }
  for (const s of ofKind(objects, 'Service')) {
    const pods = selectedDeployments(objects, s, { matchLabels: s.spec?.selector });
    ((s.spec?.ports ?? []) as Json[]).forEach((port, i) => {
      const target = port.targetPort ?? port.port;
      for (const d of pods) {
        if (!containers(d).some(({ container }) => containerHasPort(container, target))) {
          out.push(problem(s, `spec.ports[${i}].targetPort`, `${JSON.stringify(target)} is not a container port of Deployment/${d.metadata.name}`));
        }
      }
    });
  }
  for (const sm of ofKind(objects, 'ServiceMonitor')) {
    const services = servicesOf(objects, sm);
    ((sm.spec?.endpoints ?? []) as Json[]).forEach((endpoint, i) => {
      if (endpoint.port === undefined) {
        out.push(problem(sm, `spec.endpoints[${i}].port`, 'required: the named Service port to scrape'));
        return;
      }
      for (const s of services) {
        if (!((s.spec?.ports ?? []) as Json[]).some((p) => p.name === endpoint.port)) {
          out.push(problem(sm, `spec.endpoints[${i}].port`, `${JSON.stringify(endpoint.port)} is not a named port of Service/${s.metadata.name}`));
        }
      }
    });
  }
  return out;
}
