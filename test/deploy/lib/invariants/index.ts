// Every invariant of a rendered kustomization, as problems naming object and field.

import type { AdapterRule } from '../adapter.js';
import type { K8sObject } from '../objects.js';
import { configurationProblems } from './configuration.js';
import { disruptionProblems } from './disruption.js';
import { drainProblems } from './drain.js';
import { podSecurityProblems } from './pod-security.js';
import { portProblems } from './ports.js';
import { probeProblems } from './probes.js';
import { scalingProblems } from './scaling.js';
import { selectorProblems } from './selectors.js';

export function invariantProblems(objects: readonly K8sObject[], adapterRules: readonly AdapterRule[] | null): string[] {
  return [
    ...selectorProblems(objects),
    ...portProblems(objects),
    ...probeProblems(objects),
    ...drainProblems(objects),
    ...configurationProblems(objects),
    ...podSecurityProblems(objects),
    ...disruptionProblems(objects),
    ...scalingProblems(objects, adapterRules),
  ];
}
