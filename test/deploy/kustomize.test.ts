// deploy/'s base and every overlay render with `kubectl kustomize`, every object passes its API
// schema with no unknown field, and every invariant of test/deploy/lib/invariants holds.
// test/deploy/mutations.test.ts shows each of these checks failing on a broken copy.

import t from 'tap';
import { metricNames } from '../../monitoring/monitoring-expressions.js';
import { adapterRules } from './lib/adapter.js';
import { invariantProblems } from './lib/invariants/index.js';
import { objectId, type K8sObject } from './lib/objects.js';
import { kubectlProblem, kustomizations, render } from './lib/render.js';
import { schemaProblems } from './lib/schema.js';

/** What each kustomization must hold, as `Kind/name`. */
const EXPECTED: Record<string, string[]> = {
  'deploy/base': [
    'Namespace/fairspec',
    'ConfigMap/fairspec-config',
    'Deployment/fairspec',
    'Service/fairspec',
    'PodDisruptionBudget/fairspec',
    'ServiceMonitor/fairspec',
  ],
  'deploy/overlays/hpa': ['Deployment/fairspec', 'HorizontalPodAutoscaler/fairspec'],
  'deploy/overlays/keda': ['Deployment/fairspec', 'ScaledObject/fairspec'],
  'deploy/examples/pack-volume': ['Deployment/fairspec', 'PersistentVolumeClaim/fairspec-packs'],
};

const reason = kubectlProblem();
if (reason !== null) {
  t.fail(reason);
} else {
  t.same(kustomizations(), Object.keys(EXPECTED), 'the base, the hpa and keda overlays, the pack-volume example');

  for (const kustomization of kustomizations()) {
    t.test(kustomization, async (t) => {
      const objects: K8sObject[] = render(kustomization);
      const ids = objects.map(objectId);
      for (const id of EXPECTED[kustomization] ?? []) t.ok(ids.includes(id), `renders ${id}`);
      t.equal(new Set(ids).size, ids.length, 'no two objects share kind and name');
      t.ok(objects.every((o) => o.metadata.namespace === 'fairspec' || o.kind === 'Namespace'), 'every namespaced object is in fairspec');
      t.same(schemaProblems(objects), [], 'every object matches its schema, with no unknown field');
      t.same(invariantProblems(objects, adapterRules(kustomization)), [], 'every invariant holds');
    });
  }

  t.test('KEDA scales on the sum of the waiting-requests gauge', async (t) => {
    const scaledObject = render('deploy/overlays/keda').find((o) => o.kind === 'ScaledObject')!;
    const query = String(scaledObject.spec.triggers[0].metadata.query);
    t.match(query, /^sum\(/);
    t.same(metricNames(query), ['fairspec_queue_length']);
  });

  t.test('the HPA scales on the same gauge, per pod, through prometheus-adapter', async (t) => {
    const hpa = render('deploy/overlays/hpa').find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    t.equal(hpa.apiVersion, 'autoscaling/v2');
    t.same(hpa.spec.metrics.map((m: { type: string }) => m.type), ['Pods']);
    t.same(metricNames(adapterRules('deploy/overlays/hpa')![0]!.seriesQuery), ['fairspec_queue_length']);
  });
}
