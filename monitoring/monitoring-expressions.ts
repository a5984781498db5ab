// Every PromQL expression the monitoring stack runs, read from the files Grafana and Prometheus
// load: grafana/dashboards/*.json (panel targets and template variables) and
// grafana/prometheus/rules/*.yml (recording and alerting rules). Dashboard expressions come back
// runnable: template variables become '.*' (their "All" value) and Grafana's interval variables a
// fixed range, the way Grafana would send them.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export type ExpressionKind = 'panel' | 'variable' | 'recording' | 'alert';

export interface Expression {
  kind: ExpressionKind;
  /** Where it is written, e.g. `overview.json › Requests/s › A`. */
  source: string;
  /** As written in the file. */
  expr: string;
  /** What to send to Prometheus: variables substituted; for a variable, its series selector. */
  query: string;
  /** Template variables and Grafana built-ins used but not declared (typos). */
  undeclared: string[];
  /** Variables: the label whose values Grafana lists. */
  label?: string;
  /** Recording rules: the series name it records. */
  record?: string;
  /** Alerts: the expression without its final threshold comparison. */
  inner?: string;
}

/** Grafana's interval built-ins, as a range long enough to cover a short test's traffic. */
const GRAFANA_RANGES: Readonly<Record<string, string>> = { __rate_interval: '5m', __interval: '5m', __range: '5m' };
/** What a multi-value variable with "All" selected becomes (the dashboards' allValue). */
export const ALL_VALUE = '.*';
/** Series Prometheus writes itself for every scrape, not the server (alerts.yml's target-down alert reads `up`). */
export const SCRAPE_SERIES: ReadonlySet<string> = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}

interface Variable {
  name: string;
  type: string;
  definition?: string;
  query?: string | { query?: string };
}

/** Replaces $var, ${var}, ${var:format} and [[var]]; reports names that are neither declared nor built in. */
export function substituteVariables(expr: string, declared: ReadonlySet<string>): { query: string; undeclared: string[] } {
  const undeclared: string[] = [];
  const query = expr.replace(/\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    if (name in GRAFANA_RANGES) return GRAFANA_RANGES[name]!;
    if (declared.has(name)) return ALL_VALUE;
    undeclared.push(name);
    return whole;
  });
  return { query, undeclared };
}

/** `x < 1` -> `x`: the ratio an alert compares with its threshold. */
export function innerExpression(expr: string): string {
  const m = /^([\s\S]*\S)\s*(?:==|!=|>=|<=|>|<)\s*(?:bool\s+)?[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$/.exec(expr.trim());
  return m === null ? expr.trim() : m[1]!.trim();
}

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2', 'inf', 'nan']);

/** Metric (and recorded series) names an expression selects. */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
    .replace(/#[^\n]*/g, ' ') // comments
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const before = s[m.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // 1e3, 0.5, offset 5m
    if (s.slice(m.index + m[0].length).trimStart().startsWith('(')) continue; // function or aggregation
    if (NOT_METRICS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

function panelsOf(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
}

/** Panel targets and query variables of every dashboard in `dir`. */
export function dashboardExpressions(dir: string): Expression[] {
  const out: Expression[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { panels?: Panel[]; templating?: { list?: Variable[] } };
    const variables = dashboard.templating?.list ?? [];
    const declared = new Set(variables.map((v) => v.name));
    for (const variable of variables.filter((v) => v.type === 'query')) {
      const definition = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? variable.definition ?? '');
      const m = /^\s*label_values\(\s*([\s\S]+?)\s*,\s*(\w+)\s*\)\s*$/.exec(definition);
      if (m === null) throw new Error(`${file}: variable ${variable.name}: only label_values(selector, label) is supported, got ${definition}`);
      const { query, undeclared } = substituteVariables(m[1]!, declared);
      out.push({ kind: 'variable', source: `${file} › $${variable.name}`, expr: definition, query, undeclared, label: m[2]! });
    }
    for (const panel of panelsOf(dashboard.panels ?? [])) {
      for (const target of panel.targets ?? []) {
        if (target.expr === undefined || target.expr.trim() === '') continue;
        const { query, undeclared } = substituteVariables(target.expr, declared);
        out.push({ kind: 'panel', source: `${file} › ${panel.title ?? panel.type} › ${target.refId ?? '?'}`, expr: target.expr, query, undeclared });
      }
    }
  }
  return out;
}

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}

/** Recording rules and alerts of every rule file in `dir`, in file and group order. */
export function ruleExpressions(dir: string): Expression[] {
  const out: Expression[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const parsed = parseYaml(readFileSync(join(dir, file), 'utf8')) as RuleFile;
    for (const group of parsed.groups) {
      for (const rule of group.rules) {
        const expr = String(rule.expr).trim();
        if (rule.record !== undefined) {
          out.push({ kind: 'recording', source: `${file} › ${group.name} › ${rule.record}`, expr, query: expr, undeclared: [], record: rule.record });
        } else {
          out.push({ kind: 'alert', source: `${file} › ${group.name} › ${rule.alert}`, expr, query: expr, undeclared: [], inner: innerExpression(expr) });
        }
      }
    }
  }
  return out;
}
