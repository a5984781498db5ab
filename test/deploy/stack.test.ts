// deploy/kube-prometheus-stack-values.yaml agrees with the rendered manifests
// (test/deploy/lib/stack.ts), and each of those checks fails on a broken copy.

import t from 'tap';
import { adapterPrometheusUrl } from './lib/adapter.js';
import { clone, type Json, type K8sObject } from './lib/objects.js';
import { kubectlProblem, kustomizations, render } from './lib/render.js';
import { stackProblems, stackValues, STACK_VALUES, type StackInput } from './lib/stack.js';

const reason = kubectlProblem();
if (reason !== null) {
  t.fail(reason);
} else {
  const objects = kustomizations().flatMap((k) => render(k));
  const input: StackInput = { values: stackValues(), objects, adapterUrl: adapterPrometheusUrl('deploy/overlays/hpa') };

  t.test('the values and the manifests agree', async (t) => {
    t.ok(input.adapterUrl !== null, 'the hpa overlay ships adapter values');
    t.same(stackProblems(input), []);
  });

  const one = (o: readonly K8sObject[], kind: string, name?: string): Json => o.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name))!;
  const cases: { name: string; mutate(i: StackInput): void; expect: string }[] = [
    {
      name: 'a dashboard without the sidecar label',
      mutate: (i) => delete one(i.objects, 'ConfigMap', 'fairspec-dashboard-overview').metadata.labels.grafana_dashboard,
      expect: `ConfigMap/fairspec-dashboard-overview: metadata.labels: lacks grafana_dashboard: "1", which the Grafana sidecar selects (${STACK_VALUES})`,
    },
    {
      name: 'a dashboard without the folder annotation',
      mutate: (i) => delete one(i.objects, 'ConfigMap', 'fairspec-dashboard-overview').metadata.annotations,
      expect: `ConfigMap/fairspec-dashboard-overview: metadata.annotations: lacks grafana_folder, the sidecar's folderAnnotation (${STACK_VALUES})`,
    },
    {
      name: 'a panel naming a datasource uid Grafana does not have',
      mutate: (i) => {
        const c = one(i.objects, 'ConfigMap', 'fairspec-dashboard-fairness');
        c.data['fairness.json'] = c.data['fairness.json'].replace('"uid": "${datasource}"', '"uid": "prometheus"');
      },
      expect: `ConfigMap/fairspec-dashboard-fairness: data.fairness.json: datasource uid "prometheus" is not in grafana.additionalDataSources of ${STACK_VALUES}`,
    },
    {
      name: 'a ServiceMonitor for another release',
      mutate: (i) => (one(i.objects, 'ServiceMonitor').metadata.labels.release = 'prometheus'),
      expect: 'ServiceMonitor/fairspec: metadata.labels.release: "prometheus": the chart\'s Prometheus (http://kube-prometheus-stack-prometheus.monitoring.svc:9090) selects release "kube-prometheus-stack"',
    },
    {
      name: 'a PrometheusRule without a release',
      mutate: (i) => delete one(i.objects, 'PrometheusRule', 'fairspec-alerts').metadata.labels.release,
      expect: 'PrometheusRule/fairspec-alerts: metadata.labels.release: undefined: the chart\'s Prometheus (http://kube-prometheus-stack-prometheus.monitoring.svc:9090) selects release "kube-prometheus-stack"',
    },
    {
      name: 'KEDA asking another Prometheus',
      mutate: (i) => (one(i.objects, 'ScaledObject').spec.triggers[0].metadata.serverAddress = 'http://prometheus-operated.monitoring.svc:9090'),
      expect: 'ScaledObject/fairspec: spec.triggers[0].metadata.serverAddress: http://prometheus-operated.monitoring.svc:9090: not the Prometheus Grafana queries (http://kube-prometheus-stack-prometheus.monitoring.svc:9090)',
    },
    {
      name: 'the adapter asking another Prometheus',
      mutate: (i) => (i.adapterUrl = 'http://kube-prometheus-stack-prometheus.monitoring.svc:9091'),
      expect: 'prometheus-adapter-values.yaml: prometheus.url: http://kube-prometheus-stack-prometheus.monitoring.svc:9091: not the Prometheus Grafana queries (http://kube-prometheus-stack-prometheus.monitoring.svc:9090)',
    },
    {
      name: 'no Prometheus datasource',
      mutate: (i) => (i.values.grafana.additionalDataSources = []),
      expect: `${STACK_VALUES}: grafana.additionalDataSources: no prometheus datasource`,
    },
  ];
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const broken = clone(input);
      c.mutate(broken);
      const problems = stackProblems(broken);
      t.ok(problems.includes(c.expect), c.expect, { problems });
    });
  }
}
