// The experiment read-outs behind the scrape-time gauges are computed at most once per
// FAIRSPEC_READOUT_CACHE_MS (issue 16: every scrape used to redo each experiment's bootstrap):
// counted computations on a stepped clock, then the server's /metrics against its exact
// GET /v1/experiments/{id}.

import t from 'tap';
import { Registry } from 'prom-client';
import { summarise, type ExperimentSummary } from '../../src/experiments/analysis.js';
import { ExperimentStore } from '../../src/experiments/experiment-store.js';
import type { Experiment } from '../../src/experiments/experiment.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { registerExperimentGauges } from '../../src/metrics/experiment-gauges.js';
import { ReadoutCache } from '../../src/metrics/readout-cache.js';
import { ADMIN_TOKEN, buildTestApp, sample } from '../helpers/build-app.js';
import { outcome } from '../fairness/fixtures/outcomes.js';

const ARMS = [
  { name: 'control', drafter: null, weight: 1 },
  { name: 'fast', drafter: 'd', weight: 1 },
];

function storeWith(ids: string[]): ExperimentStore {
  const store = new ExperimentStore({ knownDrafters: ['d'] });
  ids.forEach((id, i) => store.create({ id, arms: ARMS, enabled: i === 0 }));
  return store;
}

function traffic(store: ExperimentStore, id: string, requests: number): void {
  for (let i = 0; i < requests; i++) {
    store.record(id, 'control', 'en', outcome({ drafter: null, tokens: 64, totalMs: 640 + i }));
    store.record(id, 'fast', 'en', outcome({ tokens: 64, totalMs: 320 + i }));
  }
}

t.test('two scrapes within the interval compute each read-out once; after it, once more', async (t) => {
  const store = storeWith(['a', 'b']);
  traffic(store, 'a', 5);
  let clock = 0;
  const computed: string[] = [];
  const cache = new ReadoutCache(
    (e: Experiment) => {
      computed.push(e.id);
      return summarise(store.snapshot(e.id));
    },
    { ttlMs: 5000, now: () => clock },
  );
  const registry = new Registry();
  registerExperimentGauges(registry, () => cache.readouts(store.list()));
  const requests = async () => sample(await registry.metrics(), 'fairspec_experiment_requests{experiment="a",arm="fast",language="en"}');

  t.equal(await requests(), 5);
  clock = 4999;
  traffic(store, 'a', 3);
  t.equal(await requests(), 5, 'within the interval: the cached read-out');
  t.same(computed, ['a', 'b'], 'one computation per experiment for two scrapes');
  clock = 5000;
  t.equal(await requests(), 8, 'after the interval: recomputed');
  t.same(computed, ['a', 'b', 'a', 'b']);

  // An experiment disabled, or deleted and created again, is a new object: computed at once.
  store.setEnabled('a', false);
  await registry.metrics();
  t.same(computed.slice(4), ['a'], 'the changed experiment only');
  store.delete('b');
  store.create({ id: 'b', arms: ARMS, enabled: false });
  await registry.metrics();
  t.same(computed.slice(5), ['b']);
  store.delete('b');
  t.same(cache.readouts(store.list()).map((s: ExperimentSummary) => s.id), ['a'], 'a deleted experiment leaves the cache');
});

t.test('ttl 0 computes on every scrape', async (t) => {
  const store = storeWith(['a']);
  let calls = 0;
  const compute = (e: Experiment) => {
    calls++;
    return summarise(store.snapshot(e.id));
  };
  const cache = new ReadoutCache(compute, { ttlMs: 0, now: () => 0 });
  cache.readouts(store.list());
  cache.readouts(store.list());
  t.equal(calls, 2);
});

t.test('FAIRSPEC_READOUT_CACHE_MS: a few seconds by default, an integer in [0, 3600000]', async (t) => {
  t.equal(loadConfig({}).readoutCacheMs, 5000);
  t.equal(loadConfig({ FAIRSPEC_READOUT_CACHE_MS: '0' }).readoutCacheMs, 0);
  for (const bad of ['-1', '1.5', 'soon', '3600001']) t.throws(() => loadConfig({ FAIRSPEC_READOUT_CACHE_MS: bad }), ConfigError, bad);
});

t.test('the server: /metrics reuses a read-out for the interval, GET /v1/experiments/{id} is always fresh', async (t) => {
  const definition = { id: 'ab', arms: [{ name: 'control', drafter: null, weight: 1 }, { name: 'small', drafter: 'small', weight: 1 }] };
  const series = 'fairspec_experiment_requests{experiment="ab",arm="small",language="en"}';
  for (const [readoutCacheMs, expected] of [[600_000, 2], [0, 5]] as const) {
    const app = await buildTestApp(t, { adminToken: ADMIN_TOKEN, experiments: loadConfig({}, { experiments: [definition] as never }).experiments, readoutCacheMs }, { loadModels: false });
    const store = app.fairspec.experiments;
    const record = (n: number) => {
      for (let i = 0; i < n; i++) store.record('ab', 'small', 'en', outcome({ drafter: 'small', totalMs: 300 + i }));
    };
    record(2);
    const scrape = async () => sample((await app.inject({ method: 'GET', url: '/metrics' })).body, series);
    t.equal(await scrape(), 2);
    record(3);
    t.equal(await scrape(), expected, `FAIRSPEC_READOUT_CACHE_MS=${readoutCacheMs}: the second scrape shows ${expected}`);
    const readout = await app.inject({ method: 'GET', url: '/v1/experiments/ab', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const small = readout.json().arms.find((a: { name: string }) => a.name === 'small');
    t.equal(small.languages[0].requests, 5, 'the read-out over HTTP is exact');
  }
});
