// Every check of test/deploy/lib can fail: each case breaks one thing in a rendered copy of a
// kustomization (in memory) and expects the problem that names the object and the field. The
// unbroken renders have no problem at all (test/deploy/kustomize.test.ts).

import t from 'tap';
import { adapterRules, type AdapterRule } from './lib/adapter.js';
import { invariantProblems } from './lib/invariants/index.js';
import { clone, type Json, type K8sObject } from './lib/objects.js';
import { kubectlProblem, render } from './lib/render.js';
import { schemaProblems } from './lib/schema.js';

interface Mutation {
  name: string;
  kustomization?: 'deploy/base' | 'deploy/overlays/hpa' | 'deploy/overlays/keda' | 'deploy/examples/pack-volume';
  mutate(objects: K8sObject[], rules: AdapterRule[] | null): void;
  /** A problem exactly equal to this, or one starting with [prefix] and matching [pattern]. */
  expect: string | [string, RegExp];
}

const one = (objects: K8sObject[], kind: string, name?: string): Json => {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (o === undefined) throw new Error(`no ${kind} ${name ?? ''}`);
  return o;
};
const pod = (objects: K8sObject[]): Json => one(objects, 'Deployment').spec.template.spec;
const container = (objects: K8sObject[]): Json => pod(objects).containers[0];
const config = (objects: K8sObject[]): Record<string, string> => one(objects, 'ConfigMap', 'fairspec-config').data;
const C = 'spec.template.spec.containers[0]';

const MUTATIONS: Mutation[] = [
  // ---- schema: types, required fields, unknown fields, unknown kinds ----
  {
    name: 'a misspelled Deployment field',
    mutate: (o) => {
      const spec = pod(o);
      spec.terminationGracePeriodSecond = spec.terminationGracePeriodSeconds;
      delete spec.terminationGracePeriodSeconds;
    },
    expect: 'Deployment/fairspec: spec.template.spec.terminationGracePeriodSecond: unknown field',
  },
  { name: 'a misspelled container field', mutate: (o) => (container(o).readinesProbe = {}), expect: `Deployment/fairspec: ${C}.readinesProbe: unknown field` },
  { name: 'a wrong type', mutate: (o) => (one(o, 'Deployment').spec.replicas = 'two'), expect: 'Deployment/fairspec: spec.replicas: must be integer' },
  { name: 'a missing required field', mutate: (o) => delete container(o).name, expect: `Deployment/fairspec: ${C}.name: required field missing` },
  {
    name: 'a misspelled ServiceMonitor field',
    mutate: (o) => (one(o, 'ServiceMonitor').spec.endpoints[0].intervall = '15s'),
    expect: 'ServiceMonitor/fairspec: spec.endpoints[0].intervall: unknown field',
  },
  {
    name: 'a misspelled PrometheusRule field',
    mutate: (o) => (one(o, 'PrometheusRule', 'fairspec-alerts').spec.groups[0].rules[0].fore = '10m'),
    expect: 'PrometheusRule/fairspec-alerts: spec.groups[0].rules[0].fore: unknown field',
  },
  {
    name: 'a misspelled ScaledObject field',
    kustomization: 'deploy/overlays/keda',
    mutate: (o) => (one(o, 'ScaledObject').spec.minReplicas = 2),
    expect: 'ScaledObject/fairspec: spec.minReplicas: unknown field',
  },
  {
    name: 'a misspelled HPA field',
    kustomization: 'deploy/overlays/hpa',
    mutate: (o) => (one(o, 'HorizontalPodAutoscaler').spec.metrics[0].pods.metric.nmae = 'x'),
    expect: 'HorizontalPodAutoscaler/fairspec: spec.metrics[0].pods.metric.nmae: unknown field',
  },
  {
    name: 'a kind without a schema',
    mutate: (o) => o.push({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'fairspec', namespace: 'fairspec' } }),
    expect: 'Ingress/fairspec: apiVersion: no schema for networking.k8s.io/v1 Ingress in test/deploy/lib/schema.ts',
  },
  // ---- selectors ----
  {
    name: 'a Service selector that matches no pod',
    mutate: (o) => (one(o, 'Service').spec.selector['app.kubernetes.io/instance'] = 'fairspek'),
    expect: 'Service/fairspec: spec.selector: {"app.kubernetes.io/instance":"fairspek","app.kubernetes.io/name":"fairspec"} matches no Deployment\'s pod labels',
  },
  {
    name: 'a second Deployment whose pods the Service and PDB also select',
    mutate: (o) => {
      const copy = clone(one(o, 'Deployment'));
      copy.metadata.name = 'fairspec-indic';
      o.push(copy);
    },
    expect: 'Service/fairspec: spec.selector: selects the pods of Deployment/fairspec and Deployment/fairspec-indic: one pool\'s traffic or budget would cover the other\'s',
  },
  {
    name: 'a PDB selector that matches no pod',
    mutate: (o) => (one(o, 'PodDisruptionBudget').spec.selector.matchLabels = { app: 'fairspec' }),
    expect: ['PodDisruptionBudget/fairspec: spec.selector: ', /matches no Deployment's pod labels/],
  },
  {
    name: 'a ServiceMonitor selector that matches no Service',
    mutate: (o) => (one(o, 'ServiceMonitor').spec.selector.matchLabels = { 'app.kubernetes.io/name': 'other' }),
    expect: ['ServiceMonitor/fairspec: spec.selector: ', /matches no Service's labels/],
  },
  {
    name: 'a Deployment selector that misses its own pods',
    mutate: (o) => (one(o, 'Deployment').spec.template.metadata.labels = { app: 'fairspec' }),
    expect: 'Deployment/fairspec: spec.selector: does not match spec.template.metadata.labels',
  },
  // ---- named ports ----
  {
    name: 'a probe on a port the container does not name',
    mutate: (o) => (container(o).readinessProbe.httpGet.port = 'htp'),
    expect: `Deployment/fairspec: ${C}.readinessProbe.httpGet.port: "htp" is not a port of container fairspec`,
  },
  {
    name: 'a Service targetPort the container does not name',
    mutate: (o) => (one(o, 'Service').spec.ports[0].targetPort = 'metrics'),
    expect: 'Service/fairspec: spec.ports[0].targetPort: "metrics" is not a container port of Deployment/fairspec',
  },
  {
    name: 'a ServiceMonitor port the Service does not name',
    mutate: (o) => (one(o, 'ServiceMonitor').spec.endpoints[0].port = 'web'),
    expect: 'ServiceMonitor/fairspec: spec.endpoints[0].port: "web" is not a named port of Service/fairspec',
  },
  // ---- probes ----
  { name: 'liveness on /readyz', mutate: (o) => (container(o).livenessProbe.httpGet.path = '/readyz'), expect: `Deployment/fairspec: ${C}.livenessProbe.httpGet.path: "/readyz": must be /healthz` },
  { name: 'no startup probe', mutate: (o) => delete container(o).startupProbe, expect: `Deployment/fairspec: ${C}.startupProbe.httpGet.path: missing: must be /readyz` },
  // ---- drain ----
  {
    name: 'a grace period shorter than the drain',
    mutate: (o) => (pod(o).terminationGracePeriodSeconds = 35),
    expect: 'Deployment/fairspec: spec.template.spec.terminationGracePeriodSeconds: 35 s is shorter than preStop 10 s + FAIRSPEC_DRAIN_TIMEOUT_MS 30 s + 5 s to abort (45 s): SIGKILL would cut the drain',
  },
  {
    name: 'a longer drain deadline in the ConfigMap',
    mutate: (o) => (config(o).FAIRSPEC_DRAIN_TIMEOUT_MS = '60000'),
    expect: ['Deployment/fairspec: spec.template.spec.terminationGracePeriodSeconds: 50 s is shorter than ', /FAIRSPEC_DRAIN_TIMEOUT_MS 60 s/],
  },
  {
    name: 'no drain deadline in the ConfigMap: the server default counts',
    mutate: (o) => {
      delete config(o).FAIRSPEC_DRAIN_TIMEOUT_MS;
      pod(o).terminationGracePeriodSeconds = 44;
    },
    expect: ['Deployment/fairspec: spec.template.spec.terminationGracePeriodSeconds: 44 s is shorter than ', /FAIRSPEC_DRAIN_TIMEOUT_MS 30 s/],
  },
  {
    name: 'a longer preStop sleep',
    mutate: (o) => (container(o).lifecycle.preStop = { sleep: { seconds: 20 } }),
    expect: ['Deployment/fairspec: spec.template.spec.terminationGracePeriodSeconds: 50 s is shorter than preStop 20 s', /55 s/],
  },
  { name: 'no preStop', mutate: (o) => delete container(o).lifecycle, expect: [`Deployment/fairspec: ${C}.lifecycle.preStop: `, /no preStop hook/] },
  // ---- configuration ----
  {
    name: 'envFrom naming a ConfigMap that is not there',
    mutate: (o) => (container(o).envFrom[0].configMapRef.name = 'fairspec-confg'),
    expect: `Deployment/fairspec: ${C}.envFrom[0].configMapRef.name: ConfigMap/fairspec-confg is not in the rendered manifests`,
  },
  { name: 'a second ConfigMap', mutate: (o) => container(o).envFrom.push({ configMapRef: { name: 'fairspec-config' } }), expect: `Deployment/fairspec: ${C}.envFrom: 2 ConfigMaps: the configuration comes from exactly one` },
  { name: 'an inline setting', mutate: (o) => (container(o).env = [{ name: 'LOG_LEVEL', value: 'debug' }]), expect: `Deployment/fairspec: ${C}.env[0]: LOG_LEVEL set inline: configuration belongs in the ConfigMap` },
  {
    name: 'a pack on no volume',
    mutate: (o) => (config(o).FAIRSPEC_PACK = '/packs/custom'),
    expect: `Deployment/fairspec: ${C}.envFrom: FAIRSPEC_PACK=/packs/custom is neither the image's pack (/app/models/default, Dockerfile) nor on a volumeMount`,
  },
  {
    name: 'a pack mounted from a volume the pod lacks',
    mutate: (o) => {
      config(o).FAIRSPEC_PACK = '/packs/custom';
      container(o).volumeMounts.push({ name: 'packs', mountPath: '/packs', readOnly: true });
    },
    expect: `Deployment/fairspec: ${C}.volumeMounts: packs (holding FAIRSPEC_PACK=/packs/custom) is not a volume of the pod`,
  },
  {
    name: 'a pack on a claim that is not deployed',
    kustomization: 'deploy/examples/pack-volume',
    mutate: (o) => o.splice(o.findIndex((x) => x.kind === 'PersistentVolumeClaim'), 1),
    expect: 'Deployment/fairspec: spec.template.spec.volumes: packs (holding FAIRSPEC_PACK=/packs/default) claims PersistentVolumeClaim/fairspec-packs, which is not in the rendered manifests',
  },
  {
    name: 'a pack volume the container does not mount',
    kustomization: 'deploy/examples/pack-volume',
    mutate: (o) => container(o).volumeMounts.pop(),
    expect: `Deployment/fairspec: ${C}.envFrom: FAIRSPEC_PACK=/packs/default is neither the image's pack (/app/models/default, Dockerfile) nor on a volumeMount`,
  },
  { name: 'a loopback HOST', mutate: (o) => (config(o).HOST = '127.0.0.1'), expect: `Deployment/fairspec: ${C}.envFrom: HOST=127.0.0.1: probes and the Service could not reach the server` },
  { name: 'a PORT no container port declares', mutate: (o) => (config(o).PORT = '9000'), expect: `Deployment/fairspec: ${C}.ports: the server listens on PORT=9000, which no containerPort declares` },
  // ---- pod security and resources ----
  { name: 'a writable root filesystem', mutate: (o) => (container(o).securityContext.readOnlyRootFilesystem = false), expect: `Deployment/fairspec: ${C}.securityContext.readOnlyRootFilesystem: must be true` },
  { name: 'root allowed', mutate: (o) => delete pod(o).securityContext.runAsNonRoot, expect: `Deployment/fairspec: ${C}.securityContext.runAsNonRoot: must be true (pod or container)` },
  { name: 'a user by name only', mutate: (o) => delete pod(o).securityContext.runAsUser, expect: [`Deployment/fairspec: ${C}.securityContext.runAsUser: `, /numeric non-root uid/] },
  { name: 'privilege escalation', mutate: (o) => delete container(o).securityContext.allowPrivilegeEscalation, expect: `Deployment/fairspec: ${C}.securityContext.allowPrivilegeEscalation: must be false` },
  { name: 'capabilities kept', mutate: (o) => delete container(o).securityContext.capabilities, expect: `Deployment/fairspec: ${C}.securityContext.capabilities.drop: must drop ALL` },
  { name: 'no writable /tmp', mutate: (o) => (container(o).volumeMounts = []), expect: [`Deployment/fairspec: ${C}.volumeMounts: `, /no writable \/tmp/] },
  {
    name: '/tmp from a volume that is not an emptyDir',
    mutate: (o) => (pod(o).volumes[0] = { name: 'tmp', configMap: { name: 'fairspec-config' } }),
    expect: `Deployment/fairspec: ${C}.volumeMounts: /tmp is mounted from tmp, which is not an emptyDir volume of the pod`,
  },
  { name: 'no memory limit', mutate: (o) => delete container(o).resources.limits, expect: `Deployment/fairspec: ${C}.resources.limits.memory: must be set` },
  { name: 'no CPU request', mutate: (o) => delete container(o).resources.requests.cpu, expect: `Deployment/fairspec: ${C}.resources.requests.cpu: must be set` },
  // ---- disruption budget ----
  {
    name: 'a PDB that allows no eviction',
    mutate: (o) => (one(o, 'PodDisruptionBudget').spec.maxUnavailable = 0),
    expect: 'PodDisruptionBudget/fairspec: spec.maxUnavailable: allows no eviction at 2 replicas (Deployment/fairspec spec.replicas): node drains would hang',
  },
  {
    name: 'a PDB whose minAvailable is every replica',
    mutate: (o) => {
      const spec = one(o, 'PodDisruptionBudget').spec;
      delete spec.maxUnavailable;
      spec.minAvailable = '100%';
    },
    expect: ['PodDisruptionBudget/fairspec: spec.minAvailable: allows no eviction at 2 replicas', /node drains would hang/],
  },
  {
    name: 'a single replica',
    mutate: (o) => (one(o, 'Deployment').spec.replicas = 1),
    expect: 'PodDisruptionBudget/fairspec: spec.maxUnavailable: lets every replica go at 1 replicas (Deployment/fairspec spec.replicas): a drain leaves Deployment/fairspec with none serving',
  },
  {
    name: 'KEDA allowed down to one replica',
    kustomization: 'deploy/overlays/keda',
    mutate: (o) => (one(o, 'ScaledObject').spec.minReplicaCount = 1),
    expect: ['PodDisruptionBudget/fairspec: spec.maxUnavailable: lets every replica go at 1 replicas (ScaledObject/fairspec spec.minReplicaCount)', /none serving/],
  },
  {
    name: 'the HPA allowed down to one replica',
    kustomization: 'deploy/overlays/hpa',
    mutate: (o) => (one(o, 'HorizontalPodAutoscaler').spec.minReplicas = 1),
    expect: ['PodDisruptionBudget/fairspec: spec.maxUnavailable: lets every replica go at 1 replicas (HorizontalPodAutoscaler/fairspec spec.minReplicas)', /none serving/],
  },
  // ---- autoscaling ----
  {
    name: 'an HPA aimed at no Deployment',
    kustomization: 'deploy/overlays/hpa',
    mutate: (o) => (one(o, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name = 'fairspex'),
    expect: 'HorizontalPodAutoscaler/fairspec: spec.scaleTargetRef: Deployment/fairspex is not a Deployment in the rendered manifests',
  },
  {
    name: 'replicas left in an autoscaled Deployment',
    kustomization: 'deploy/overlays/hpa',
    mutate: (o) => (one(o, 'Deployment').spec.replicas = 2),
    expect: 'Deployment/fairspec: spec.replicas: set while HorizontalPodAutoscaler/fairspec owns the count: every apply would reset it',
  },
  {
    name: 'two autoscalers on one Deployment',
    kustomization: 'deploy/overlays/keda',
    mutate: (o) => o.push(...render('deploy/overlays/hpa').filter((x) => x.kind === 'HorizontalPodAutoscaler')),
    expect: 'Deployment/fairspec: metadata.name: scaled by HorizontalPodAutoscaler/fairspec and ScaledObject/fairspec: they would fight',
  },
  {
    name: 'a KEDA query over another namespace',
    kustomization: 'deploy/overlays/keda',
    mutate: (o) => (one(o, 'ScaledObject').spec.triggers[0].metadata.query = 'sum(fairspec_queue_length{namespace="default"})'),
    expect: ['ScaledObject/fairspec: spec.triggers[0].metadata.query: namespace="default" must be the Deployment\'s namespace "fairspec"', /other workloads/],
  },
  {
    name: 'a KEDA query over another Service',
    kustomization: 'deploy/overlays/keda',
    mutate: (o) => (one(o, 'ScaledObject').spec.triggers[0].metadata.query = 'sum(fairspec_queue_length{namespace="fairspec", service="other"})'),
    expect: 'ScaledObject/fairspec: spec.triggers[0].metadata.query: service="other" is not a Service in front of the scaled Deployment',
  },
  {
    name: 'an HPA metric no adapter rule serves',
    kustomization: 'deploy/overlays/hpa',
    mutate: (o) => (one(o, 'HorizontalPodAutoscaler').spec.metrics[0].pods.metric.name = 'fairspec_queue_depth'),
    expect: 'HorizontalPodAutoscaler/fairspec: spec.metrics[0].pods.metric.name: "fairspec_queue_depth" is served by no custom rule of the overlay\'s prometheus-adapter-values.yaml',
  },
  {
    name: 'an adapter rule that does not attach the series to pods',
    kustomization: 'deploy/overlays/hpa',
    mutate: (_o, rules) => delete rules![0]!.resources!.overrides!.pod,
    expect: 'HorizontalPodAutoscaler/fairspec: spec.metrics[0].pods.metric.name: deploy/overlays/hpa/prometheus-adapter-values.yaml: rules.custom[0] does not attach fairspec_queue_length to pod',
  },
];

const reason = kubectlProblem();
if (reason !== null) {
  t.fail(reason);
} else {
  const renders = new Map<string, K8sObject[]>();
  const rendered = (k: string): K8sObject[] => renders.get(k) ?? renders.set(k, render(k)).get(k)!;
  for (const m of MUTATIONS) {
    t.test(m.name, async (t) => {
      const kustomization = m.kustomization ?? 'deploy/base';
      const objects = clone(rendered(kustomization));
      const rules = clone(adapterRules(kustomization));
      m.mutate(objects, rules);
      const problems = [...schemaProblems(objects), ...invariantProblems(objects, rules)];
      const found =
        typeof m.expect === 'string'
          ? problems.includes(m.expect)
          : problems.some((p) => p.startsWith((m.expect as [string, RegExp])[0]) && (m.expect as [string, RegExp])[1].test(p));
      t.ok(found, typeof m.expect === 'string' ? m.expect : `${m.expect[0]}… ${m.expect[1]}`, { problems });
    });
  }
}
