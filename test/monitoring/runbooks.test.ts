// Every alert links its runbook: a `runbook_url` annotation naming the section of
// grafana/README.md that tells what to do, a heading there with the alert's own name.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse as parseYaml } from 'yaml';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const README = 'grafana/README.md';

interface AlertRule {
  alert?: string;
  annotations?: Record<string, string>;
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

const alerts = (parseYaml(readFileSync(`${REPO}grafana/prometheus/rules/alerts.yml`, 'utf8')) as { groups: { rules: AlertRule[] }[] }).groups
  .flatMap((g) => g.rules)
  .filter((r) => r.alert !== undefined);
const headings = new Map(
  [...readFileSync(`${REPO}${README}`, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => [slug(m[1]!), m.index]),
);

t.test('every alert has a runbook_url naming its own section of grafana/README.md', async (t) => {
  t.ok(alerts.length >= 6, `${alerts.length} alerts`);
  for (const { alert, annotations } of alerts) {
    const url = annotations?.['runbook_url'] ?? '';
    t.equal(url, `${README}#${slug(alert!)}`, `${alert}: runbook_url`);
    t.ok(headings.has(slug(alert!)), `${alert}: ${README} has a section "${alert}"`);
  }
  const runbooks = headings.get('runbooks');
  t.ok(runbooks !== undefined && alerts.every((a) => headings.get(slug(a.alert!))! > runbooks), 'under "Runbooks"');
  t.equal(slug('Request series with vLLM\'s names'), 'request-series-with-vllms-names', 'the slug is GitHub\'s');
});
