// Does the Experiment dashboard show what the server says? Runs every fairspec_experiment_*
// query of grafana/dashboards/experiment.json against a running Prometheus that scrapes a running
// fairspec, the way Grafana sends them (variables at "All"), and holds each value against the
// same figure in GET /v1/experiments/{id} (monitoring/experiment-readout.ts).
//
//   FAIRSPEC_ADMIN_TOKEN=... npx tsx bench/experiment-dashboard-check.ts --experiment drafters \
//       --prometheus http://127.0.0.1:9090
//
// Run it after the experiment's traffic has stopped and Prometheus has scraped once more, at least
// FAIRSPEC_READOUT_CACHE_MS later (the gauges reuse a read-out that long): while requests arrive,
// the read-out moves ahead of the last scrape. Exit status 1 when a value differs.

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareWithReadout, experimentDashboardQueries, type ExperimentReadout } from '../monitoring/experiment-readout.js';
import { prometheusQuery } from '../monitoring/prometheus-server.js';
import { parseLoopbackUrl } from './loopback-url.js';
import { UsageError } from './usage-error.js';

const USAGE = `Usage: FAIRSPEC_ADMIN_TOKEN=... npx tsx bench/experiment-dashboard-check.ts --experiment ID [options]

  --experiment ID    the experiment to check (required)
  --url URL          running fairspec, on this machine (default http://127.0.0.1:8000)
  --prometheus URL   Prometheus scraping it, on this machine (default http://127.0.0.1:9090)
  -h, --help`;

const DASHBOARDS = fileURLToPath(new URL('../grafana/dashboards', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      experiment: { type: 'string' },
      url: { type: 'string', default: 'http://127.0.0.1:8000' },
      prometheus: { type: 'string', default: 'http://127.0.0.1:9090' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.experiment) throw new UsageError('--experiment is required');
  const token = process.env.FAIRSPEC_ADMIN_TOKEN;
  if (!token) throw new UsageError('FAIRSPEC_ADMIN_TOKEN must hold the server admin token');
  const server = parseLoopbackUrl(values.url!);
  const prometheus = parseLoopbackUrl(values.prometheus!).href.replace(/\/$/, '');

  const reply = await fetch(new URL(`/v1/experiments/${encodeURIComponent(values.experiment)}`, server), {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!reply.ok) throw new Error(`GET /v1/experiments/${values.experiment}: ${reply.status} ${await reply.text()}`);
  const readout = (await reply.json()) as ExperimentReadout;

  const comparisons = await compareWithReadout(experimentDashboardQueries(DASHBOARDS), (expr) => prometheusQuery(prometheus, expr), readout);
  let checked = 0;
  let wrong = 0;
  for (const c of comparisons) {
    checked += c.values;
    wrong += c.wrong.length + (c.error === undefined ? 0 : 1);
    const verdict = c.error !== undefined ? `error: ${c.error}` : c.wrong.length > 0 ? `${c.wrong.length} differ` : 'equal';
    process.stdout.write(`${String(c.values).padStart(5)}  ${verdict.padEnd(10)}  ${c.source}\n`);
    for (const w of c.wrong) process.stdout.write(`       ${w}\n`);
  }
  process.stdout.write(`\n${comparisons.length} queries, ${checked} values, ${wrong} differ from GET /v1/experiments/${readout.id}\n`);
  if (wrong > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
