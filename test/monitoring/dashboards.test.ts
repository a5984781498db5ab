// Every dashboard is a Grafana dashboard by Grafana's own published types (@grafana/schema): the
// JSON is type-checked as an object literal against the dashboard, variable and panel types, with
// each panel's options and custom field config against its plugin's generated types and each
// target against the Prometheus query shape, so an unknown field, a wrong type or an invalid enum
// value fails here. And each one can be imported anywhere: a datasource variable instead of a
// fixed uid, and job, instance and model_name variables in every series selector it queries.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';
import { metricNames } from '../../monitoring/monitoring-expressions.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(REPO, 'grafana/dashboards');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
// The check runs as if this file were in test/monitoring/, so that module resolution finds node_modules.
const VIRTUAL = join(REPO, 'test/monitoring/dashboard-types.check.ts');
const PANELCFG = '@grafana/schema/dist/esm/raw/composable';

const PRELUDE = `
import type { DataQuery, Dashboard, FieldConfig, FieldConfigSource, Panel, RowPanel, VariableModel } from '@grafana/schema';
import type * as BarChart from '${PANELCFG}/barchart/panelcfg/x/BarChartPanelCfg_types.gen';
import type * as BarGauge from '${PANELCFG}/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as Stat from '${PANELCFG}/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as Table from '${PANELCFG}/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as TimeSeries from '${PANELCFG}/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/** A schema type as JSON holds it: enums as their values, objects closed to unknown fields. */
type Json<T> = T extends string ? \`\${T}\` : T extends number ? number : T extends boolean ? boolean
  : T extends ReadonlyArray<infer U> ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;
/** Panel options as saved: Grafana fills in what is left out, so every field is optional. */
type Loose<T> = T extends string | number | boolean ? T : T extends ReadonlyArray<infer U> ? Loose<U>[]
  : T extends object ? { [K in keyof T]?: Loose<T[K]> } : T;

/** Grafana's Prometheus query (PromQuery, @grafana/prometheus), which @grafana/schema no longer ships. */
interface PromQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  intervalFactor?: number;
  exemplar?: boolean;
  editorMode?: 'code' | 'builder';
}

type PanelOf<K extends string, O, C> = Json<Omit<Panel, 'type' | 'options' | 'fieldConfig' | 'targets'>> & {
  type: K;
  options?: Json<Loose<O>>;
  fieldConfig?: Json<Omit<FieldConfigSource, 'defaults'>> & { defaults: Json<Omit<FieldConfig, 'custom'>> & { custom?: Json<Loose<C>> } };
  targets?: Json<PromQuery>[];
};
type AnyPanel =
  | PanelOf<'timeseries', TimeSeries.Options, TimeSeries.FieldConfig>
  | PanelOf<'stat', Stat.Options, {}>
  | PanelOf<'table', Table.Options, Table.FieldConfig>
  | PanelOf<'bargauge', BarGauge.Options, {}>
  | PanelOf<'barchart', BarChart.Options, BarChart.FieldConfig>;
type Row = Json<Omit<RowPanel, 'panels'>> & { panels: AnyPanel[] };
type CheckedDashboard = Json<Omit<Dashboard, 'panels' | 'templating'>> & {
  panels: Array<AnyPanel | Row>;
  templating: { list: Json<VariableModel>[] };
};
`;

/** TypeScript's complaints about `dashboard` typed as CheckedDashboard (none: it conforms). */
function typeErrors(dashboard: unknown): string[] {
  const source = `${PRELUDE}\nexport const dashboard: CheckedDashboard = ${JSON.stringify(dashboard, null, 1)};\n`;
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => name === VIRTUAL || ts.sys.fileExists(name);
  host.readFile = (name) => (name === VIRTUAL ? source : readFile(name));
  host.getSourceFile = (name, language, ...rest) =>
    name === VIRTUAL ? ts.createSourceFile(name, source, language, true, ts.ScriptKind.TS) : getSourceFile(name, language, ...rest);
  const program = ts.createProgram([VIRTUAL], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `line ${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface PanelJson {
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: PanelJson[];
  options?: Record<string, unknown>;
  fieldConfig?: { defaults: { custom?: Record<string, unknown> } };
}
interface Variable {
  name: string;
  type: string;
  query?: string;
  datasource?: { type?: string; uid?: string };
}
interface DashboardJson {
  panels: PanelJson[];
  templating: { list: Variable[] };
}

const read = (file: string): DashboardJson => JSON.parse(readFileSync(join(DIR, file), 'utf8')) as DashboardJson;
const allPanels = (panels: PanelJson[]): PanelJson[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const FILTERS = ['job=~"$job"', 'instance=~"$instance"', 'model_name=~"$model_name"'];

/** Series selectors of `expr` that lack one of `required` matchers. */
function unfiltered(expr: string, required: readonly string[]): string[] {
  const names = new Set(metricNames(expr));
  const out: string[] = [];
  for (const m of expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?/g)) {
    if (!names.has(m[1]!) || /[\w.]/.test(expr[m.index - 1] ?? '')) continue;
    const matchers = m[2] ?? '';
    if (required.some((r) => !matchers.includes(r))) out.push(m[0]);
  }
  return out;
}

t.test('each dashboard conforms to the dashboard, panel and query types of @grafana/schema', async (t) => {
  for (const file of files) {
    t.same(typeErrors(read(file)), [], file);
  }
});

t.test('the type check fails on what Grafana would not read', async (t) => {
  const base = read('overview.json');
  const series = allPanels(base.panels).find((p) => p.type === 'timeseries')!;
  const mutations: Array<[string, (d: DashboardJson) => void, RegExp]> = [
    ['an unknown panel option', (d) => (allPanels(d.panels).find((p) => p.title === series.title)!.options!['legendd'] = {}), /legendd/],
    ['an invalid enum value', (d) => (allPanels(d.panels).find((p) => p.title === series.title)!.fieldConfig!.defaults.custom!['drawStyle'] = 'dots'), /"dots"/],
    ['a target without refId', (d) => delete (allPanels(d.panels).find((p) => p.title === series.title)!.targets![0] as { refId?: string }).refId, /refId/],
    ['an unknown variable type', (d) => (d.templating.list[0]!.type = 'datasources'), /"datasources"/],
    ['a panel type without a schema', (d) => (allPanels(d.panels).find((p) => p.title === series.title)!.type = 'graph'), /"graph"/],
  ];
  for (const [what, mutate, expected] of mutations) {
    const broken = structuredClone(base);
    mutate(broken);
    const errors = typeErrors(broken);
    t.ok(errors.some((e) => expected.test(e)), what, { errors });
  }
});

t.test('a datasource variable instead of a fixed datasource, and job, instance and model_name variables', async (t) => {
  for (const file of files) {
    const d = read(file);
    const variables = new Map(d.templating.list.map((v) => [v.name, v]));
    t.match(variables.get('datasource'), { type: 'datasource', query: 'prometheus' }, `${file}: $datasource lists the Prometheus datasources`);
    t.same(
      ['job', 'instance', 'model_name'].map((name) => variables.get(name)?.type),
      ['query', 'query', 'query'],
      `${file}: job, instance and model_name variables`,
    );
    const ds = { type: 'prometheus', uid: '${datasource}' };
    const named = [...d.templating.list.filter((v) => v.type === 'query'), ...allPanels(d.panels).filter((p) => p.type !== 'row'), ...allPanels(d.panels).flatMap((p) => p.targets ?? [])];
    t.same(named.filter((x) => JSON.stringify(x.datasource) !== JSON.stringify(ds)), [], `${file}: every variable, panel and target queries \${datasource}`);
  }
});

t.test('every series selector of every query is filtered by $job, $instance and $model_name', async (t) => {
  for (const file of files) {
    const d = read(file);
    const targets = allPanels(d.panels).flatMap((p) => (p.targets ?? []).map((target) => ({ where: `${p.title}`, expr: target.expr ?? '' })));
    t.ok(targets.length > 20, `${file}: ${targets.length} queries`);
    for (const { where, expr } of targets) t.same(unfiltered(expr, FILTERS), [], `${file} › ${where}`);
    // The filter variables narrow each other in order: job, then instance, then model_name.
    const chained: Record<string, readonly string[]> = { job: [], instance: FILTERS.slice(0, 1), model_name: FILTERS.slice(0, 2) };
    for (const v of d.templating.list.filter((x) => x.type === 'query')) {
      const selector = /^label_values\((.*),\s*\w+\)$/.exec(v.query ?? '')?.[1] ?? '';
      t.same(unfiltered(selector, chained[v.name] ?? FILTERS), [], `${file} › $${v.name}`);
    }
  }
  t.same(unfiltered('sum(rate(a_total{job=~"$job"}[5m])) / b', FILTERS), ['a_total{job=~"$job"}', 'b'], 'the check sees missing matchers');
});
