// A terminating replica drains before SIGKILL: the grace period, which counts from the start of
// preStop, must cover the preStop sleep, the drain deadline (FAIRSPEC_DRAIN_TIMEOUT_MS from the
// container's environment, src/config.ts's default when unset) and the 5 s server.ts gives
// aborted generations to end once the deadline passes.

import { configEnv, defaultConfig } from '../../../../src/config.js';
import { containerEnvironment } from '../environment.js';
import { containers, ofKind, problem, type Json, type K8sObject } from '../objects.js';

/** server.ts: after the drain deadline it aborts in-flight work and exits within 5 s. */
const ABORT_EXIT_SECONDS = 5;
/** Kubernetes' default terminationGracePeriodSeconds. */
const DEFAULT_GRACE_SECONDS = 30;
const DRAIN_VARIABLE = configEnv.drainTimeoutMs;

/** Seconds a preStop hook sleeps, or a reason it cannot be known. */
export function preStopSeconds(container: Json): number | string {
  const hook = container.lifecycle?.preStop;
  if (hook === undefined) return 'no preStop hook: SIGTERM would arrive while endpoints still route to the pod';
  if (typeof hook.sleep?.seconds === 'number') return hook.sleep.seconds;
  const command = ((hook.exec?.command ?? []) as string[]).join(' ');
  const m = /^(?:\/bin\/|\/usr\/bin\/)?(?:(?:ba)?sh -c )?sleep (\d+)$/.exec(command.trim());
  return m === null ? `preStop ${JSON.stringify(hook)} is not a plain sleep: its length cannot be checked` : Number(m[1]);
}

export function drainProblems(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const d of ofKind(objects, 'Deployment')) {
    const grace = (d.spec?.template?.spec?.terminationGracePeriodSeconds as number | undefined) ?? DEFAULT_GRACE_SECONDS;
    for (const { container, path } of containers(d)) {
      const preStop = preStopSeconds(container);
      if (typeof preStop === 'string') {
        out.push(problem(d, `${path}.lifecycle.preStop`, preStop));
        continue;
      }
      const raw = containerEnvironment(objects, d, container).get(DRAIN_VARIABLE);
      const drainMs = raw === undefined || raw === '' ? defaultConfig.drainTimeoutMs : Number(raw);
      if (!Number.isInteger(drainMs) || drainMs < 0) {
        out.push(problem(d, `${path}.envFrom`, `${DRAIN_VARIABLE}=${JSON.stringify(raw)} is not a whole number of milliseconds`));
        continue;
      }
      const needed = preStop + Math.ceil(drainMs / 1000) + ABORT_EXIT_SECONDS;
      if (grace < needed) {
        out.push(
          problem(
            d,
            'spec.template.spec.terminationGracePeriodSeconds',
            `${grace} s is shorter than preStop ${preStop} s + ${DRAIN_VARIABLE} ${drainMs / 1000} s + ${ABORT_EXIT_SECONDS} s to abort (${needed} s): SIGKILL would cut the drain`,
          ),
        );
      }
    }
  }
  return out;
}
