// The experiment counters as a replica exposes them: typed families, one series set per cell
// labelled with the process's incarnation, the definition as info series, and nothing left of a
// deleted experiment.

import { Registry } from 'prom-client';
import t from 'tap';
import { ExperimentStore } from '../../src/experiments/experiment-store.js';
import { PlainDecodingReference } from '../../src/fairness/plain-reference.js';
import { registerExperimentCounters } from '../../src/metrics/experiment-counters.js';
import { parseExposition } from '../../monitoring/exposition.js';
import { outcome } from '../fairness/fixtures/outcomes.js';

t.test('counters per cell with the incarnation label, histogram buckets, info series', async (t) => {
  const reference = new PlainDecodingReference();
  const store = new ExperimentStore({ reference });
  store.create({ id: 'e', salt: 's1', arms: [{ name: 'base', drafter: 'd', weight: 2 }, { name: 'fast', policy: 'static', weight: 1 }] }, 1_765_000_000_000);
  store.create({ id: 'p', enabled: false, arms: [{ name: 'plain', drafter: null, weight: 1 }, { name: 'd', drafter: 'd', weight: 1 }] });
  const registry = new Registry();
  registerExperimentCounters(registry, () => store.list().map((e) => store.statistics(e.id)), { incarnation: 'boot-1' });
  store.record('e', 'base', 'en', outcome({ tokens: 10, totalMs: 100 }));
  store.record('e', 'base', 'en', outcome({ tokens: 20, totalMs: 150 }));
  reference.record('en', outcome({ drafter: null, tokens: 5, totalMs: 50 }));

  const text = await registry.metrics();
  t.match(text, /# TYPE fairspec_experiment_cell_requests_total counter/);
  t.match(text, /# TYPE fairspec_experiment_cell_ratio_sums_total counter/);
  t.match(text, /# TYPE fairspec_experiment_cell_latency_seconds histogram/);
  const samples = parseExposition(text);
  const one = (name: string, labels: Record<string, string>) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);
  const cell = { experiment: 'e', arm: 'base', language: 'en', incarnation: 'boot-1' };
  t.same(one('fairspec_experiment_cell_requests_total', cell), [2]);
  t.same(one('fairspec_experiment_cell_generated_tokens_total', cell), [30]);
  t.same(one('fairspec_experiment_cell_ratio_sums_total', { ...cell, ratio: 'timing', term: 'dd' }), [100 ** 2 + 150 ** 2]);
  t.same(one('fairspec_experiment_cell_latency_seconds_bucket', { ...cell, le: '0.1' }), [1]);
  t.same(one('fairspec_experiment_cell_latency_seconds_bucket', { ...cell, le: '0.16' }), [2]);
  t.same(one('fairspec_experiment_cell_latency_seconds_count', cell), [2]);
  t.same(one('fairspec_experiment_cell_latency_seconds_sum', cell), [0.25]);
  t.same(one('fairspec_experiment_reference_sums_total', { experiment: 'e', language: 'en', term: 'a' }), [5], 'the plain request after e was created');
  t.same(one('fairspec_experiment_reference_sums_total', { experiment: 'p' }), [], 'an experiment with a plain arm keeps no server reference');
  t.same(one('fairspec_experiment_created_timestamp_seconds', { experiment: 'e' }), [1_765_000_000]);
  t.same(one('fairspec_experiment_info', { experiment: 'e', salt: 's1', enabled: 'true' }), [1]);
  t.same(one('fairspec_experiment_info', { experiment: 'p', enabled: 'false' }), [1]);
  t.same(
    samples.filter((s) => s.name === 'fairspec_experiment_arm_info' && s.labels.experiment === 'e').map((s) => s.labels),
    [
      { experiment: 'e', arm: 'base', position: '0', drafter: 'd', policy: '', weight: '2' },
      { experiment: 'e', arm: 'fast', position: '1', drafter: '', policy: 'static', weight: '1' },
    ],
  );
  t.same(one('fairspec_experiment_arm_info', { experiment: 'p', arm: 'plain', drafter: 'none' }), [1], 'plain decoding is drafter none');

  store.delete('e');
  const after = parseExposition(await registry.metrics());
  t.same(after.filter((s) => s.labels.experiment === 'e'), [], 'a deleted experiment leaves the exposition');
});
