// deploy/base/generated/ is what deploy/generate.ts makes of grafana/ now: the committed files
// equal a fresh generation, carry the rule groups and the dashboards unchanged, and are part of
// the base. A change under grafana/ without a regeneration fails here.

import t from 'tap';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import {
  DASHBOARDS_DIR,
  DASHBOARDS_FILE,
  PROMETHEUS_RULES_FILE,
  RULES_DIR,
  dashboardConfigMapName,
  generatedFiles,
  prometheusRuleName,
} from '../../deploy/generated.js';
import { objectId, type K8sObject } from './lib/objects.js';
import { kubectlProblem, render, REPO } from './lib/render.js';

const committed = (path: string): string => readFileSync(join(REPO, path), 'utf8');
const documents = (path: string): K8sObject[] => parseAllDocuments(committed(path)).map((d) => d.toJS() as K8sObject);
const sources = (dir: string, pattern: RegExp): string[] => readdirSync(join(REPO, dir)).filter((f) => pattern.test(f)).sort();

/** Paths whose committed content differs from a generation from `repo`. */
function stale(repo: string): string[] {
  return [...generatedFiles(repo)].filter(([path, content]) => committed(path) !== content).map(([path]) => path);
}

t.test('the committed files equal a fresh generation (else: npx tsx deploy/generate.ts)', async (t) => {
  t.same(stale(REPO), []);
});

t.test('a PrometheusRule per rule file, its groups exactly the file\'s', async (t) => {
  const rules = documents(PROMETHEUS_RULES_FILE);
  const files = sources(RULES_DIR, /\.ya?ml$/);
  t.same(rules.map((r) => r.metadata.name), files.map(prometheusRuleName));
  files.forEach((file, i) => {
    t.same(rules[i]!.spec.groups, parse(readFileSync(join(REPO, RULES_DIR, file), 'utf8')).groups, file);
    t.equal(rules[i]!.metadata.labels?.release, 'kube-prometheus-stack', `${file}: labelled for kube-prometheus-stack's ruleSelector`);
  });
});

t.test('a ConfigMap per dashboard for the Grafana sidecar, the JSON byte for byte', async (t) => {
  const maps = documents(DASHBOARDS_FILE);
  const files = sources(DASHBOARDS_DIR, /\.json$/);
  t.same(maps.map((m) => m.metadata.name), files.map(dashboardConfigMapName));
  files.forEach((file, i) => {
    t.same(maps[i]!.data, { [file]: readFileSync(join(REPO, DASHBOARDS_DIR, file), 'utf8') }, file);
    t.equal(maps[i]!.metadata.labels?.grafana_dashboard, '1', `${file}: grafana_dashboard: "1"`);
  });
});

t.test('an edited source makes the committed files stale', async (t) => {
  const copy = mkdtempSync(join(tmpdir(), 'fairspec-deploy-'));
  t.teardown(() => rmSync(copy, { recursive: true, force: true }));
  cpSync(join(REPO, 'grafana'), join(copy, 'grafana'), { recursive: true });
  t.same(stale(copy), [], 'an unchanged copy generates the same files');
  const dashboard = join(copy, DASHBOARDS_DIR, sources(DASHBOARDS_DIR, /\.json$/)[0]!);
  writeFileSync(dashboard, readFileSync(dashboard, 'utf8').replace('"title"', '"title" '));
  const rules = join(copy, RULES_DIR, sources(RULES_DIR, /\.ya?ml$/)[0]!);
  writeFileSync(rules, readFileSync(rules, 'utf8').replace(/for: (\d+)m/, 'for: 9$1m'));
  t.same(stale(copy), [PROMETHEUS_RULES_FILE, DASHBOARDS_FILE]);
});

const reason = kubectlProblem();
t.test('the base deploys every generated object', async (t) => {
  if (reason !== null) return t.fail(reason);
  const rendered = new Set(render('deploy/base').map(objectId));
  for (const o of [...documents(PROMETHEUS_RULES_FILE), ...documents(DASHBOARDS_FILE)]) t.ok(rendered.has(objectId(o)), objectId(o));
});
