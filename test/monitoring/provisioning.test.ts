// The docker-compose stack agrees with itself, checked by reading the files (no Docker here):
// every bind mount exists; Prometheus scrapes the compose service on the port the image
// exposes; Grafana's datasource points at the Prometheus service with its scrape interval; the
// dashboards provider reads where the dashboards are mounted; every panel queries the dashboard's
// datasource variable, which picks the provisioned (default) datasource; the Dockerfile copies
// only what the build context keeps and runs as non-root.

import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(`${REPO}${path}`, 'utf8');
// The files are checked field by field below; `any` keeps that readable.
const yaml = (path: string): any => parseYaml(read(path));

const compose = yaml('docker-compose.yml');
const prometheusConfig = yaml('grafana/prometheus/prometheus.yml');
const datasources = yaml('grafana/provisioning/datasources/prometheus.yml');
const providers = yaml('grafana/provisioning/dashboards/dashboards.yml');
const dockerfile = read('Dockerfile');
const dashboardFiles = readdirSync(`${REPO}grafana/dashboards`).filter((f) => f.endsWith('.json')).sort();

/** Short-syntax bind mounts of a service: host path (relative to the repo) -> container path (mode dropped). */
function binds(service: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const volume of (compose.services[service]?.volumes ?? []) as string[]) {
    const [source, target] = volume.split(':');
    if (source!.startsWith('./')) out.set(source!.slice(2), target!);
  }
  return out;
}

t.test('compose services and their bind mounts', async (t) => {
  t.same(Object.keys(compose.services).sort(), ['fairspec', 'grafana', 'prometheus']);
  t.equal(compose.services.fairspec.build.dockerfile, 'Dockerfile');
  for (const service of Object.keys(compose.services)) {
    for (const source of binds(service).keys()) t.ok(existsSync(`${REPO}${source}`), `${service}: ${source} exists`);
  }
  for (const [service, spec] of Object.entries<{ ports?: string[] }>(compose.services)) {
    for (const port of spec.ports ?? []) t.match(port, /^127\.0\.0\.1:/, `${service}: ${port} is published on localhost only`);
  }
});

t.test('Prometheus scrapes the fairspec service on the port it listens on', async (t) => {
  const env = compose.services.fairspec.environment;
  const job = prometheusConfig.scrape_configs.find((j: { job_name: string }) => j.job_name === 'fairspec');
  t.same(job.static_configs[0].targets, [`fairspec:${env.PORT}`]);
  t.equal(env.HOST, '0.0.0.0', 'the server listens beyond the container loopback');
  t.match(dockerfile, new RegExp(`^EXPOSE ${env.PORT}$`, 'm'), 'the image exposes that port');
  t.equal(binds('prometheus').get('grafana/prometheus'), '/etc/prometheus', 'config and rules mounted together');
  t.ok(compose.services.prometheus.command.includes('--config.file=/etc/prometheus/prometheus.yml'));
  t.same(prometheusConfig.rule_files, ['rules/*.yml'], 'rule files relative to the config');
});

t.test('Grafana: datasource, provider and dashboards line up', async (t) => {
  const grafana = compose.services.grafana;
  t.equal(binds('grafana').get('grafana/provisioning'), '/etc/grafana/provisioning');
  const dashboardsMount = binds('grafana').get('grafana/dashboards');
  t.equal(providers.providers[0].options.path, dashboardsMount, 'the provider reads the mounted dashboards');
  t.equal(grafana.environment.GF_AUTH_ANONYMOUS_ENABLED, 'true');
  t.equal(grafana.environment.GF_AUTH_ANONYMOUS_ORG_ROLE, 'Viewer');
  const home = grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
  t.ok(home.startsWith(`${dashboardsMount}/`) && dashboardFiles.includes(home.slice(dashboardsMount!.length + 1)), `home dashboard ${home} exists`);

  const [ds] = datasources.datasources;
  t.equal(datasources.datasources.length, 1);
  t.equal(ds.url, 'http://prometheus:9090', 'the compose Prometheus service');
  t.equal(ds.jsonData.timeInterval, prometheusConfig.global.scrape_interval, 'timeInterval is the scrape interval');
  t.equal(ds.isDefault, true, 'the default datasource, which $datasource picks first');

  const uids = new Set<string>();
  for (const file of dashboardFiles) {
    const dashboard = JSON.parse(read(`grafana/dashboards/${file}`));
    t.notOk(uids.has(dashboard.uid), `${file}: uid ${dashboard.uid} is unique`);
    uids.add(dashboard.uid);
    // The panels query ${datasource} (test/monitoring/dashboards.test.ts), a variable listing the
    // Prometheus datasources, whose first pick is the default one: the provisioned datasource.
    const variable = dashboard.templating.list.find((v: { name: string }) => v.name === 'datasource');
    t.match(variable, { type: 'datasource', query: ds.type }, `${file}: $datasource lists ${ds.type} datasources`);
    const named: { datasource?: { uid?: string } }[] = [
      ...dashboard.templating.list,
      ...dashboard.panels.flatMap((p: { targets?: object[] }) => [p, ...(p.targets ?? [])]),
    ];
    const wrong = named.filter((x) => x.datasource !== undefined && x.datasource.uid !== '${datasource}');
    t.same(wrong, [], `${file}: every panel, target and variable uses \${datasource}`);
    const ids = dashboard.panels.map((p: { id: number }) => p.id);
    t.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
  }
});

t.test('Dockerfile', async (t) => {
  const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  t.ok(copies.length > 0);
  for (const source of copies) {
    t.notOk(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `COPY ${source} is in the build context`);
    // models/default is the trained pack (models/training/pipeline.py --pack), not in git.
    if (source !== 'models/default') t.ok(existsSync(`${REPO}${source}`), `COPY ${source} exists`);
  }
  t.match(read('.npmrc'), /^onnxruntime-node-install=skip$/m, '.npmrc skips the CUDA download');
  t.match(dockerfile, /^FROM node:20-bookworm-slim AS build$/m);
  t.match(dockerfile, /^USER node$/m, 'runs as non-root');
  t.match(dockerfile, /^HEALTHCHECK [\s\S]*\/healthz/m, 'healthcheck hits /healthz');
  t.match(dockerfile, /npm prune --omit=dev/);
  for (const dir of ['node_modules', '.git', 'models/training/work']) t.ok(ignored.includes(dir), `.dockerignore: ${dir}`);
  const start = JSON.parse(read('package.json')).scripts.start as string;
  const execForm = `CMD [${start.split(' ').map((word) => JSON.stringify(word)).join(', ')}]`;
  t.ok(dockerfile.split('\n').includes(execForm), `CMD runs what npm start runs: ${execForm}`);
});
