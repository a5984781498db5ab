// The cluster read-out against a real Prometheus: two replicas (real apps on the fixture pack)
// share a state folder and are scraped every second; then one is stopped and a new process takes
// its port, as a restart would. GET /v1/experiments/{id}?scope=cluster and `fairspec experiments
// report` must then give the read-out of one process fed all three processes' traffic: the
// replicas' own /metrics, merged, summarised by the same code; the counts exactly, every interval
// to rounding (Prometheus adds the sums in another order). histogram_quantile over the exported
// buckets must read the read-out's latency quantiles.
//
// Skipped only when the `prometheus` binary is missing (Debian: apt-get install prometheus).

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { summarise, type ReadoutInput } from '../../src/experiments/analysis.js';
import { assignArm } from '../../src/experiments/assignment.js';
import { CellSeriesReader } from '../../src/experiments/cell-series.js';
import { parseExperiment } from '../../src/experiments/experiment.js';
import { experimentSummaryBody } from '../../src/wire/experiment-summary.js';
import type { ExperimentSummaryBody } from '../../src/wire/experiments.js';
import { parseExposition } from '../../monitoring/exposition.js';
import { findExecutable, freePort, PrometheusServer, sleep } from '../../monitoring/prometheus-server.js';
import { ADMIN_TOKEN, buildTestApp, completionBody } from '../helpers/build-app.js';
import { differences } from '../../monitoring/nearly-equal.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const prometheusBin = findExecutable('prometheus', process.env.PROMETHEUS_BIN);
const EXPERIMENT = parseExperiment({
  id: 'cluster',
  arms: [
    { name: 'small', drafter: 'small', weight: 1 },
    { name: 'nopos', drafter: 'nopos', weight: 1 },
  ],
});
const LANGUAGES = ['en', 'de'];

if (prometheusBin === null) {
  t.plan(0, 'prometheus is not installed (apt-get install prometheus, or set PROMETHEUS_BIN)');
} else {
  t.setTimeout(120_000);
  t.test('the cluster read-out is the read-out of all processes merged', (t) => run(t, prometheusBin));
}

async function run(t: Test, binary: string): Promise<void> {
  const ports = [await freePort(), await freePort()];
  const prometheus = await PrometheusServer.start({ binary, targets: ports.map((p) => `127.0.0.1:${p}`), ruleFiles: [], intervalSeconds: 1 });
  t.teardown(() => prometheus.stop());
  const stateDir = t.testdir({});
  const replica = async (port: number): Promise<FastifyInstance> => {
    const app = await buildTestApp(t, {
      metricLanguages: LANGUAGES,
      maxQueue: 64,
      experiments: [EXPERIMENT],
      adminToken: ADMIN_TOKEN,
      stateDir,
      prometheusUrl: prometheus.url,
    });
    await app.listen({ port, host: '127.0.0.1' });
    return app;
  };
  const [a, b] = [await replica(ports[0]!), await replica(ports[1]!)];
  const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
  t.ok(new Set(users.map((u) => assignArm(EXPERIMENT, u).name)).size === 2, 'the users fall in both arms');

  /** Per language: one request per user, and a plain one (the server reference) every fourth. */
  const traffic = async (app: FastifyInstance, round: number): Promise<void> => {
    const replies = await Promise.all(
      LANGUAGES.flatMap((language, l) =>
        users.slice(round * 10, round * 10 + 10).flatMap((user, i) => [
          app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ language, user, max_tokens: 4 + ((i + l) % 5), prompt: `${user} ${language}` }) }),
          ...(i % 4 === 0 ? [app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ language, max_tokens: 6, speculative: { draft_length: 0 } }) })] : []),
        ]),
      ),
    );
    t.same([...new Set(replies.map((r) => r.statusCode))], [200], `round ${round}: every request answered 200`);
  };
  const own = async (app: FastifyInstance) => parseExposition((await app.inject({ method: 'GET', url: '/metrics' })).body);
  const requestsOf = (samples: { name: string; labels: Record<string, string>; value: number }[]) =>
    samples.filter((s) => s.name === 'fairspec_experiment_cell_requests_total' && s.labels.experiment === 'cluster').reduce((sum, s) => sum + s.value, 0);
  /** Until Prometheus holds `total` experiment requests over every process that served any. */
  const scraped = async (total: number): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const r = await prometheus.query('sum(last_over_time(fairspec_experiment_cell_requests_total{experiment="cluster"}[10m]))');
      if (r.ok && Number(r.samples[0]?.value[1]) === total) return;
      await sleep(250);
    }
    throw new Error(`Prometheus did not scrape ${total} requests in time:\n${prometheus.log}`);
  };

  await traffic(a, 0);
  await traffic(b, 1);
  // b's last counts, scraped before it stops (a stopping server lingers for this: FAIRSPEC_SHUTDOWN_LINGER_MS).
  const bFinal = await own(b);
  await scraped(requestsOf(await own(a)) + requestsOf(bFinal));
  await b.close();
  const c = await replica(ports[1]!);
  t.not(c.fairspec.incarnation, b.fairspec.incarnation, 'the restarted process labels its series anew');
  t.equal(c.fairspec.experiments.statistics('cluster').createdAt, a.fairspec.experiments.statistics('cluster').createdAt, 'and knows the experiment from the state folder, created when it was');
  await traffic(c, 2);
  await traffic(a, 3);
  const expositions = [await own(a), bFinal, await own(c)];
  const total = expositions.reduce((s, e) => s + requestsOf(e), 0);
  await scraped(total);

  // One process fed all three's traffic: the same sums, added here.
  const reader = new CellSeriesReader();
  for (const e of expositions) for (const s of e) if (s.labels.experiment === 'cluster') reader.add(s);
  const local = a.fairspec.experiments.snapshot('cluster');
  const merged: ReadoutInput = { ...local, cells: reader.cells(), serverReference: reader.serverReference, scope: 'cluster', processes: reader.incarnations };
  const expected = experimentSummaryBody(summarise(merged));
  t.equal(expected.processes, 3);

  const reply = await a.inject({ method: 'GET', url: '/v1/experiments/cluster?scope=cluster', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(reply.statusCode, 200, reply.body.slice(0, 300));
  const cluster = reply.json() as ExperimentSummaryBody;
  t.same([cluster.scope, cluster.processes], ['cluster', 3]);
  const counts = (s: ExperimentSummaryBody) => s.arms.flatMap((arm) => arm.languages.map((l) => `${arm.name}/${l.language}: ${l.requests} requests, ${l.generated_tokens} tokens`));
  t.same(counts(cluster), counts(expected), 'requests and tokens per arm and language: exactly the sum of the processes\'');
  t.equal(cluster.arms.reduce((s, arm) => s + arm.requests, 0), total);
  t.same(differences(cluster, expected, 1e-9), [], 'every figure, intervals and tests included, to rounding');
  t.ok(cluster.arms.every((arm) => arm.languages.every((l) => l.speed_up !== null && l.plain_reference?.scope === 'server')), 'speed-ups over the servers\' plain requests');

  const replicaScope = (await a.inject({ method: 'GET', url: '/v1/experiments/cluster', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as ExperimentSummaryBody;
  t.same([replicaScope.scope, replicaScope.processes], ['replica', 1]);
  t.ok(replicaScope.arms.reduce((s, arm) => s + arm.requests, 0) < total, "a replica's own read-out has its own share only");

  // The dashboard's way to latency: histogram_quantile over the buckets, summed over processes.
  const cell = cluster.arms[0]!.languages[0]!;
  const q = await prometheus.query(
    `histogram_quantile(0.95, sum by (le) (last_over_time(fairspec_experiment_cell_latency_seconds_bucket{experiment="cluster",arm="${cluster.arms[0]!.name}",language="${cell.language}"}[10m])))`,
  );
  t.ok(q.ok && Math.abs(Number(q.samples[0]!.value[1]) * 1000 - cell.latency_ms.p95!.estimate) < 1e-6, `histogram_quantile reads p95 ${cell.latency_ms.p95!.estimate} ms`);

  // The command line, from Prometheus alone.
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/fairspec.ts', 'experiments', 'report', '--prometheus', prometheus.url, '--experiment', 'cluster'], { cwd: REPO });
  const cli = JSON.parse(stdout) as ExperimentSummaryBody;
  t.same(differences(cli, cluster, 1e-9), [], 'fairspec experiments report prints the same read-out');
}
