// Every series deploy/ makes Prometheus read exists on a real server: the PrometheusRules' inputs,
// KEDA's query and prometheus-adapter's series, held against GET /metrics of the real app on the
// fixture pack after traffic that leaves a series of each kind (a request waits for the single
// generation slot, so the waiting gauge has one; an experiment with a plain and a drafted arm
// gives the experiment gauges a comparison).

import t from 'tap';
import { assignArm } from '../../src/experiments/assignment.js';
import { parseExperiment } from '../../src/experiments/experiment.js';
import { buildTestApp, completionBody } from '../helpers/build-app.js';
import { adapterRules } from './lib/adapter.js';
import { exportedNames, metricReferences, missingMetrics } from './lib/metric-references.js';
import { clone } from './lib/objects.js';
import { kubectlProblem, kustomizations, render } from './lib/render.js';

const reason = kubectlProblem();
if (reason !== null) {
  t.fail(reason);
} else {
  const experiment = parseExperiment({
    id: 'deploy',
    arms: [
      { name: 'control', drafter: null, weight: 1 },
      { name: 'drafted', drafter: 'small', weight: 1 },
    ],
  });
  const app = await buildTestApp(t, { concurrency: 1, maxQueue: 16, experiments: [experiment] });
  const users = Array.from({ length: 64 }, (_, i) => `user-${i}`);
  const perArm = ['control', 'drafted'].flatMap((arm) => users.filter((u) => assignArm(experiment, u).name === arm).slice(0, 2));
  const statuses = await Promise.all(
    perArm.map(async (user) => (await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ language: 'en', user, max_tokens: 6 }) })).statusCode),
  );
  const exported = exportedNames((await app.inject({ method: 'GET', url: '/metrics' })).body);

  t.test('the traffic left a waiting request behind and reached both arms', async (t) => {
    t.same(statuses, perArm.map(() => 200));
    t.ok(exported.has('fairspec_queue_length'), 'a request waited for the generation slot');
    t.ok(exported.has('fairspec_experiment_arm_worse_than_control'), 'the arms were compared');
  });

  for (const kustomization of kustomizations()) {
    t.test(`${kustomization}: every series it reads is exported`, async (t) => {
      const references = metricReferences(render(kustomization), adapterRules(kustomization));
      t.ok(references.length > 0, `${references.length} references`);
      t.same(missingMetrics(references, exported), []);
    });
  }

  t.test('a name the server does not export is reported with where it is written', async (t) => {
    const objects = clone(render('deploy/overlays/keda'));
    const scaledObject = objects.find((o) => o.kind === 'ScaledObject')!;
    scaledObject.spec.triggers[0].metadata.query = 'sum(fairspec_queue_lenght{namespace="fairspec"})';
    const rule = objects.find((o) => o.kind === 'PrometheusRule' && o.metadata.name === 'fairspec-recording')!;
    rule.spec.groups[0].rules[0].expr = 'sum(rate(fairspec_spec_decode_drafts_total[5m]))';
    t.same(missingMetrics(metricReferences(objects, null), exported), [
      'PrometheusRule/fairspec-recording: spec.groups[0].rules[0].expr: fairspec_spec_decode_drafts_total is not in the server\'s /metrics',
      'ScaledObject/fairspec: spec.triggers[0].metadata.query: fairspec_queue_lenght is not in the server\'s /metrics',
    ]);
    const rules = adapterRules('deploy/overlays/hpa')!.map((r) => ({ ...r, seriesQuery: 'fairspec_queued{pod!=""}' }));
    t.same(missingMetrics(metricReferences([], rules), exported), [
      'deploy/overlays/hpa/prometheus-adapter-values.yaml: rules.custom[0].seriesQuery: fairspec_queued is not in the server\'s /metrics',
    ]);
  });
}
