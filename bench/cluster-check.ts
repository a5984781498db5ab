// The checks of bench/cluster-local.sh once its traffic and rolling restart are over: the
// experiment read-out of the cluster, from Prometheus, against the replicas' own counts and the
// client's, and the experiment against every replica's list.
//
//   FAIRSPEC_ADMIN_TOKEN=... npx tsx bench/cluster-check.ts --experiment ID --balancer URL \
//       --replicas URL,URL,URL --prometheus URL --captures DIR --load-summary FILE --created FILE
//
// - the load: every request sent was answered, all 200 (no 5xx, none lost);
// - per arm and language, requests and completion tokens of GET /v1/experiments/{id}?scope=cluster
//   (through the balancer) equal exactly the sum of every process's own counters: the live
//   replicas' /metrics now and, for the processes stopped by the restart, the /metrics each
//   served after its last generation (--captures: *.prom). They also equal the client's tally;
// - one process fed the same traffic: the processes' sums merged here and summarised by the
//   server's own code give the cluster read-out, every interval and test to a relative 1e-9
//   (the same sums added in another order);
// - `fairspec experiments report` (Prometheus only) prints the same read-out;
// - the experiment created through the balancer before the restart (--created, the 201 body) is
//   listed by every replica, with the same created_at, and so is a configured one (--configured,
//   from the shared FAIRSPEC_EXPERIMENTS file), with one created_at on all.
// Exit status 1 when any check fails.

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { summarise, type ReadoutInput } from '../src/experiments/analysis.js';
import { CellSeriesReader } from '../src/experiments/cell-series.js';
import { parseExperiment } from '../src/experiments/experiment.js';
import { DEFAULT_MIN_REQUESTS } from '../src/fairness/plain-reference.js';
import { experimentSummaryBody } from '../src/wire/experiment-summary.js';
import type { ExperimentSummaryBody } from '../src/wire/experiments.js';
import { parseExposition, type ExpositionSample } from '../monitoring/exposition.js';
import { prometheusQuery, sleep } from '../monitoring/prometheus-server.js';
import { differences } from '../monitoring/nearly-equal.js';
import { parseLoopbackUrl } from './loopback-url.js';
import { UsageError } from './usage-error.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));

interface LoadSummary {
  sent: number;
  completed: number;
  dropped: number;
  statuses: Record<string, number>;
  cells: { experiment: string | null; arm: string | null; language: string; requests: number; choices: number; tokens: number }[];
}

const failures: string[] = [];
function check(ok: boolean, what: string): void {
  process.stdout.write(`${ok ? 'ok    ' : 'FAILED'}  ${what}\n`);
  if (!ok) failures.push(what);
}

async function getJson<T>(url: URL, token: string): Promise<T> {
  const reply = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
  if (!reply.ok) throw new Error(`GET ${url.pathname}${url.search}: ${reply.status} ${await reply.text()}`);
  return (await reply.json()) as T;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      experiment: { type: 'string' },
      balancer: { type: 'string' },
      replicas: { type: 'string' },
      prometheus: { type: 'string' },
      captures: { type: 'string' },
      'load-summary': { type: 'string' },
      created: { type: 'string' },
      configured: { type: 'string' },
    },
  });
  for (const name of ['experiment', 'balancer', 'replicas', 'prometheus', 'captures', 'load-summary', 'created'] as const) {
    if (values[name] === undefined) throw new UsageError(`--${name} is required`);
  }
  const token = process.env.FAIRSPEC_ADMIN_TOKEN;
  if (!token) throw new UsageError('FAIRSPEC_ADMIN_TOKEN must hold the servers\' admin token');
  const id = values.experiment!;
  const balancer = parseLoopbackUrl(values.balancer!);
  const replicas = values.replicas!.split(',').map((u) => parseLoopbackUrl(u));
  const prometheus = parseLoopbackUrl(values.prometheus!).href.replace(/\/$/, '');
  const load = JSON.parse(readFileSync(values['load-summary']!, 'utf8')) as LoadSummary;
  const created = JSON.parse(readFileSync(values.created!, 'utf8')) as { id: string; created_at: string };

  // ---- the load -----------------------------------------------------------------------------
  const notOk = Object.entries(load.statuses).filter(([status]) => status !== '200');
  process.stdout.write(`\nload: sent ${load.sent}, answered ${load.completed}, dropped at the client's in-flight limit ${load.dropped}, statuses ${JSON.stringify(load.statuses)}\n`);
  check(load.completed === load.sent && load.dropped === 0, `every request sent was answered (${load.completed} of ${load.sent}): 0 lost`);
  check(notOk.length === 0, `every answer a 200 (${notOk.map(([s, n]) => `${n} × ${s}`).join(', ') || 'no 5xx, no 4xx, no errors'})`);

  // ---- every process's own counters ----------------------------------------------------------
  const captures = readdirSync(values.captures!).filter((f) => f.endsWith('.prom')).sort();
  const expositions: ExpositionSample[][] = captures.map((f) => parseExposition(readFileSync(join(values.captures!, f), 'utf8')));
  for (const replica of replicas) {
    const reply = await fetch(new URL('/metrics', replica), { signal: AbortSignal.timeout(30_000) });
    expositions.push(parseExposition(await reply.text()));
  }
  const reader = new CellSeriesReader();
  let own = 0;
  for (const samples of expositions) {
    for (const s of samples) {
      if (s.labels.experiment !== id) continue;
      reader.add(s);
      if (s.name === 'fairspec_experiment_cell_requests_total') own += s.value;
    }
  }
  process.stdout.write(`\nprocesses: ${captures.length} stopped by the restart (their last /metrics) + ${replicas.length} running; ${reader.incarnations} served the experiment, ${own} of its requests\n`);

  // Prometheus scrapes every 0.5 s or so: wait for it to hold everything the processes counted.
  const window = `${Math.ceil((Date.now() - Date.parse(created.created_at)) / 1000) + 120}s`;
  const deadline = Date.now() + 30_000;
  let seen = NaN;
  while (Date.now() < deadline) {
    const r = await prometheusQuery(prometheus, `sum(last_over_time(fairspec_experiment_cell_requests_total{experiment="${id}"}[${window}]))`);
    seen = r.ok ? Number(r.samples[0]?.value[1]) : NaN;
    if (seen === own) break;
    await sleep(500);
  }
  check(seen === own, `Prometheus holds the processes' ${own} requests (${seen})`);

  // ---- the read-outs -------------------------------------------------------------------------
  const cluster = await getJson<ExperimentSummaryBody>(new URL(`/v1/experiments/${id}?scope=cluster`, balancer), token);
  const list = await getJson<{ data: ({ id: string; object: string; created_at: string } & Record<string, unknown>)[] }>(new URL('/v1/experiments', balancer), token);
  const view = list.data.find((e) => e.id === id);
  if (!view) throw new Error(`the balancer's replica does not list experiment ${id}`);
  const { object: _object, created_at: _createdAt, ...definition } = view;
  const experiment = parseExperiment(definition);
  const merged: ReadoutInput = {
    experiment,
    createdAt: created.created_at,
    cells: reader.cells(),
    serverReference: reader.serverReference,
    minReferenceRequests: DEFAULT_MIN_REQUESTS,
    scope: 'cluster',
    processes: reader.incarnations,
  };
  const single = experimentSummaryBody(summarise(merged));

  const clientCell = (arm: string, language: string) => load.cells.find((c) => c.experiment === id && c.arm === arm && c.language === language);
  const rows = [['arm', 'language', 'requests: Prometheus', 'Σ replicas', 'client', 'tokens: Prometheus', 'Σ replicas', 'client']];
  let countsEqual = true;
  let clientEqual = true;
  const keys = new Set([...cluster.arms, ...single.arms].flatMap((a) => a.languages.map((l) => `${a.name}\0${l.language}`)));
  for (const key of [...keys].sort()) {
    const [arm, language] = key.split('\0') as [string, string];
    const p = cluster.arms.find((a) => a.name === arm)?.languages.find((l) => l.language === language);
    const r = single.arms.find((a) => a.name === arm)?.languages.find((l) => l.language === language);
    const c = clientCell(arm, language);
    countsEqual &&= p?.requests === r?.requests && p?.generated_tokens === r?.generated_tokens;
    clientEqual &&= p?.requests === c?.choices && p?.generated_tokens === c?.tokens;
    rows.push([arm, language, String(p?.requests), String(r?.requests), String(c?.choices), String(p?.generated_tokens), String(r?.generated_tokens), String(c?.tokens)]);
  }
  const total = (s: ExperimentSummaryBody) => s.arms.reduce((sum, a) => sum + a.requests, 0);
  const clientTotal = load.cells.filter((c) => c.experiment === id).reduce((s, c) => s + c.choices, 0);
  rows.push(['all', '', String(total(cluster)), String(total(single)), String(clientTotal), '', '', '']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(`\n${rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n')}\n\n`);
  check(countsEqual && keys.size > 0, `per arm and language, the cluster read-out's requests and tokens equal the sum of the processes' own, exactly (${keys.size} cells)`);
  check(clientEqual, "and the client's tally of 200 responses by arm and language");
  check(cluster.scope === 'cluster' && cluster.processes === reader.incarnations, `the read-out sums ${cluster.processes} processes, the ones that served the experiment (${reader.incarnations})`);
  const drift = differences(cluster, single, 1e-9);
  check(drift.length === 0, `one process fed the same traffic reads the same: every estimate, interval and test to 1e-9${drift.length ? `; differ: ${drift.slice(0, 5).join('; ')}` : ''}`);

  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/fairspec.ts', 'experiments', 'report', '--prometheus', prometheus, '--experiment', id], { cwd: REPO });
  const cli = JSON.parse(stdout) as ExperimentSummaryBody;
  const cliDrift = differences(cli, cluster, 1e-9);
  check(cliDrift.length === 0, `fairspec experiments report --prometheus prints the same read-out${cliDrift.length ? `; differ: ${cliDrift.slice(0, 5).join('; ')}` : ''}`);

  // ---- the experiment survived the restart on every replica ----------------------------------
  const configuredAt = new Set<string>();
  for (const replica of replicas) {
    const list = await getJson<{ data: { id: string; created_at: string }[] }>(new URL('/v1/experiments', replica), token);
    const found = list.data.find((e) => e.id === created.id);
    check(found?.created_at === created.created_at, `${replica.host} lists ${created.id}, created ${created.created_at}, after the restart (${found?.created_at ?? 'absent'})`);
    if (values.configured !== undefined) configuredAt.add(list.data.find((e) => e.id === values.configured)?.created_at ?? 'absent');
  }
  if (values.configured !== undefined) {
    check(configuredAt.size === 1 && !configuredAt.has('absent'), `every replica lists the configured ${values.configured} with one creation time (${[...configuredAt].join(', ')})`);
  }

  const worst = cluster.worst_language[0];
  process.stdout.write(
    `\ncluster read-out: ${total(cluster)} requests over ${cluster.processes} processes; ` +
      `${cluster.arms.map((a) => `${a.name} ${a.requests} (mean speed-up ${a.fairness.speed_up?.mean.toFixed(3) ?? '-'})`).join(', ')}` +
      `${worst ? `; worst language ${worst.arm} ${worst.arm_worst.language} ${worst.arm_worst.speed_up.toFixed(3)} vs ${worst.control} ${worst.control_worst.language} ${worst.control_worst.speed_up.toFixed(3)}` : ''}\n`,
  );
  process.stdout.write(`${failures.length === 0 ? 'all checks passed' : `${failures.length} check(s) failed`}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`cluster-check: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
