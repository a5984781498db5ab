// The scrape-time gauges on a bare registry: exact exposition lines from known state, series
// that follow the state (a deleted experiment's series go), and bounded label values.

import { Registry } from 'prom-client';
import t from 'tap';
import type { SpeculativeStats } from '../../src/engine/types.js';
import { summarise } from '../../src/experiments/analysis.js';
import { ExperimentStore } from '../../src/experiments/experiment-store.js';
import { SlidingWindowFairness } from '../../src/fairness/sliding-window.js';
import { LanguageLabels } from '../../src/language.js';
import { RoutePlanner } from '../../src/routing/route-planner.js';
import { RoutingTable } from '../../src/routing/routing-table.js';
import { registerExperimentGauges } from '../../src/metrics/experiment-gauges.js';
import { registerFairnessGauges } from '../../src/metrics/fairness-gauges.js';
import { registerRoutingGauges } from '../../src/metrics/routing-gauges.js';
import { outcome } from '../fairness/fixtures/outcomes.js';

const lines = async (registry: Registry, prefix: string): Promise<string[]> =>
  (await registry.metrics()).split('\n').filter((l) => l.startsWith(prefix));

t.test('routing: draft length, expected speed-up, alpha and c per bounded language; the greedy regime beside', async (t) => {
  const drafters = ['d-base', 'd-scdf'];
  const table = new RoutingTable(
    {
      default: { drafter: 'd-scdf', draft_length: 4 },
      languages: { en: { drafter: 'd-scdf', draft_length: 5 }, yo: { drafter: null, draft_length: 0 } },
      greedy: { languages: { en: { drafter: 'd-base', draft_length: 2 } } },
    },
    { drafters },
  );
  const labels = new LanguageLabels(['en', 'am']);
  const planner = new RoutePlanner({ mode: 'static', table, drafters, languages: ['am'] });
  const registry = new Registry();
  registerRoutingGauges(registry, () => planner.snapshot(), (l) => labels.label(l));

  t.same(await lines(registry, 'fairspec_routing_draft_length{'), [
    'fairspec_routing_draft_length{language="en"} 5',
  ], "only the table's languages before traffic; yo is not a metric label");
  t.same(await lines(registry, 'fairspec_routing_expected_speedup{'), [], 'no c known yet');
  t.same(await lines(registry, 'fairspec_routing_greedy_draft_length{'), ['fairspec_routing_greedy_draft_length{language="en"} 2']);

  const spec: SpeculativeStats = {
    drafter: 'd-scdf', draftLength: 5, drafts: 20, draftedTokens: 100, requestedTokens: 100, acceptedTokens: 60, acceptedPerPosition: [],
    alphaSum: 60, greedyMatches: 30, crossEntropySum: 0, verifierSteps: 20, draftMs: 50, verifyMs: 200,
  };
  const plain: SpeculativeStats = { ...spec, drafter: null, draftLength: 0, drafts: 0, draftedTokens: 0, requestedTokens: 0, acceptedTokens: 0, alphaSum: 0, verifierSteps: 100, draftMs: 0, verifyMs: 1000 };
  planner.observe('en', plain);
  planner.observe('en', spec);
  planner.observe('pt', spec);
  planner.observe(null, plain);
  const snap = planner.snapshot();
  t.same(await lines(registry, 'fairspec_routing_draft_length{'), [
    'fairspec_routing_draft_length{language="en"} 5',
    'fairspec_routing_draft_length{language="other"} 4',
    'fairspec_routing_draft_length{language="unknown"} 4',
  ]);
  t.same(await lines(registry, 'fairspec_routing_expected_speedup{'), [
    `fairspec_routing_expected_speedup{language="en",drafter="d-scdf"} ${snap.languages.en!.expectedSpeedup}`,
    `fairspec_routing_expected_speedup{language="other",drafter="d-scdf"} ${snap.languages.other!.expectedSpeedup}`,
    `fairspec_routing_expected_speedup{language="unknown",drafter="d-scdf"} ${snap.languages.unknown!.expectedSpeedup}`,
  ]);
  t.same(await lines(registry, 'fairspec_routing_greedy_draft_length{'), [
    'fairspec_routing_greedy_draft_length{language="en"} 2',
    'fairspec_routing_greedy_draft_length{language="other"} 4',
    'fairspec_routing_greedy_draft_length{language="unknown"} 4',
  ]);
  t.equal(snap.languages.en!.greedy.expectedSpeedup, null, "en's greedy route drafts with d-base, never timed: no S");
  t.same(await lines(registry, 'fairspec_routing_greedy_expected_speedup{'), [
    `fairspec_routing_greedy_expected_speedup{language="other",drafter="d-scdf"} ${snap.languages.other!.greedy.expectedSpeedup}`,
    `fairspec_routing_greedy_expected_speedup{language="unknown",drafter="d-scdf"} ${snap.languages.unknown!.greedy.expectedSpeedup}`,
  ]);
  t.ok(snap.languages.other!.greedy.expectedSpeedup! < snap.languages.other!.expectedSpeedup!, 'agreement 0.3 < alpha 0.6: a smaller S');
  const agreement = snap.languages.en!.greedy.drafters['d-scdf']!.alpha;
  t.ok(Math.abs(agreement.mean - 0.3) < 0.01, `greedy agreement from greedyMatches (${agreement.mean})`);
  t.same(await lines(registry, 'fairspec_routing_greedy_agreement{language="en",drafter="d-scdf"'), [
    `fairspec_routing_greedy_agreement{language="en",drafter="d-scdf",bound="mean"} ${agreement.mean}`,
    `fairspec_routing_greedy_agreement{language="en",drafter="d-scdf",bound="lower"} ${agreement.lower}`,
    `fairspec_routing_greedy_agreement{language="en",drafter="d-scdf",bound="upper"} ${agreement.upper}`,
  ]);
  const alpha = snap.languages.en!.drafters['d-scdf']!.alpha;
  t.ok(
    (await lines(registry, 'fairspec_routing_alpha{language="en",drafter="d-scdf"')).join('\n') ===
      [
        `fairspec_routing_alpha{language="en",drafter="d-scdf",bound="mean"} ${alpha.mean}`,
        `fairspec_routing_alpha{language="en",drafter="d-scdf",bound="lower"} ${alpha.lower}`,
        `fairspec_routing_alpha{language="en",drafter="d-scdf",bound="upper"} ${alpha.upper}`,
      ].join('\n'),
  );
  // c = 0.5 ms per drafted token / 10 ms per plain verifier step
  const c = snap.costs.drafters['d-scdf']!.costRatio!;
  t.ok(Math.abs(c - 0.05) < 1e-12);
  t.same(await lines(registry, 'fairspec_routing_cost_ratio{'), [`fairspec_routing_cost_ratio{drafter="d-scdf"} ${c}`]);
});

t.test('fairness: per-language speed-up and K_L, worst, max/min and U over the window', async (t) => {
  const w = new SlidingWindowFairness({ now: () => 1_000_000 });
  const registry = new Registry();
  registerFairnessGauges(registry, () => w.snapshot());
  t.same(await lines(registry, 'fairspec_fairness_'), [], 'nothing before traffic');

  // Plain decoding: 10 ms per token. en speculates at 2x, am at 4x; K_L 0.5 and 1.5 nats.
  for (let i = 0; i < 10; i++) {
    for (const language of ['en', 'am']) w.record(language, outcome({ drafter: null, tokens: 64, totalMs: 640 }));
    w.record('en', outcome({ tokens: 64, totalMs: 320, crossEntropy: 0.5 }));
    w.record('am', outcome({ tokens: 64, totalMs: 160, crossEntropy: 1.5 }));
  }
  const s = w.snapshot();
  const [am, en] = s.languages;
  // Ratios of sums over all requests, plain included: en 1280 tokens in 9600 ms, am in 8000 ms,
  // against plain decoding's 0.1 tokens per ms.
  t.ok(Math.abs(en!.speedUp! - 1280 / 9600 / 0.1) < 1e-12 && Math.abs(am!.speedUp! - 1280 / 8000 / 0.1) < 1e-12, 'plain requests count as 1');
  t.same(await lines(registry, 'fairspec_fairness_'), [
    `fairspec_fairness_speedup{language="am"} ${am!.speedUp}`,
    `fairspec_fairness_speedup{language="en"} ${en!.speedUp}`,
    'fairspec_fairness_cross_entropy{language="am"} 1.5',
    'fairspec_fairness_cross_entropy{language="en"} 0.5',
    `fairspec_fairness_worst_speedup ${en!.speedUp}`,
    `fairspec_fairness_speedup_max_min_ratio ${am!.speedUp! / en!.speedUp!}`,
    'fairspec_fairness_cross_entropy_variance 0.25',
  ]);
});

t.test('experiments: the read-out per arm and language with its intervals; differences; fairness per arm', async (t) => {
  const store = new ExperimentStore({ knownDrafters: ['d'] });
  store.create({
    id: 'e1',
    arms: [
      { name: 'control', drafter: null, weight: 1 },
      { name: 'fast', drafter: 'd', weight: 1 },
      { name: 'slow', drafter: 'd', weight: 1 },
    ],
  });
  const registry = new Registry();
  registerExperimentGauges(registry, () => store.list().map((e) => summarise(store.snapshot(e.id))));
  const jitter = [0, 10, -10, 0, 5, -5];
  for (const j of jitter) {
    store.record('e1', 'control', 'en', outcome({ drafter: null, tokens: 64, totalMs: 640 + j }));
    store.record('e1', 'fast', 'en', outcome({ tokens: 64, totalMs: 320 + j }));
    store.record('e1', 'slow', 'en', outcome({ tokens: 64, totalMs: 1280 + j }));
  }
  store.record('e1', 'fast', 'am', outcome({ tokens: 64, totalMs: 320 }));

  const summary = summarise(store.snapshot('e1'));
  const speed = (arm: string, language: string) => summary.arms.find((a) => a.name === arm)!.languages.find((c) => c.language === language)!.speedUp!;
  const expected: string[] = [];
  for (const arm of ['control', 'fast', 'slow']) {
    const s = speed(arm, 'en');
    expected.push(
      `fairspec_experiment_speedup{experiment="e1",arm="${arm}",language="en",bound="mean"} ${s.estimate}`,
      `fairspec_experiment_speedup{experiment="e1",arm="${arm}",language="en",bound="lower"} ${s.ci!.low}`,
      `fairspec_experiment_speedup{experiment="e1",arm="${arm}",language="en",bound="upper"} ${s.ci!.high}`,
    );
  }
  const got = await lines(registry, 'fairspec_experiment_speedup{');
  t.same(got.filter((l) => l.includes('language="en"')), expected);
  t.same(
    got.filter((l) => l.includes('language="am"')),
    [`fairspec_experiment_speedup{experiment="e1",arm="fast",language="am",bound="mean"} ${speed('fast', 'am').estimate}`],
    'one request: a mean, no interval',
  );
  t.ok(Math.abs(speed('fast', 'en').estimate - 2) < 0.01 && Math.abs(speed('slow', 'en').estimate - 0.5) < 0.01);
  t.same(await lines(registry, 'fairspec_experiment_arm_worse_than_control{'), [
    'fairspec_experiment_arm_worse_than_control{experiment="e1",arm="fast",language="am"} 0',
    'fairspec_experiment_arm_worse_than_control{experiment="e1",arm="fast",language="en"} 0',
    'fairspec_experiment_arm_worse_than_control{experiment="e1",arm="slow",language="am"} 0',
    'fairspec_experiment_arm_worse_than_control{experiment="e1",arm="slow",language="en"} 1',
  ]);

  // Every other figure of the read-out, each from the same summary.
  const value = async (series: string): Promise<number | undefined> => {
    const line = (await lines(registry, series + ' '))[0];
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  const fast = summary.arms.find((a) => a.name === 'fast')!;
  const en = fast.languages.find((c) => c.language === 'en')!;
  const cell = 'experiment="e1",arm="fast",language="en"';
  t.equal(await value(`fairspec_experiment_requests{${cell}}`), en.requests);
  t.equal(await value(`fairspec_experiment_generated_tokens{${cell}}`), en.generatedTokens);
  t.equal(await value(`fairspec_experiment_acceptance_rate{${cell},bound="mean"}`), en.acceptanceRate!.estimate);
  t.equal(await value(`fairspec_experiment_acceptance_rate{${cell},bound="upper"}`), en.acceptanceRate!.ciClustered!.high, 'the request-clustered interval');
  t.equal(await value(`fairspec_experiment_mean_accepted_length{${cell},bound="lower"}`), en.meanAcceptedLength!.ci!.low);
  t.equal(await value(`fairspec_experiment_latency_seconds{${cell},quantile="0.95",bound="mean"}`), en.latencyMs.p95!.estimate / 1000);
  const versus = summary.comparisons.find((c) => c.arm === 'slow' && c.language === 'en')!;
  t.equal(await value('fairspec_experiment_speedup_difference{experiment="e1",arm="slow",language="en",bound="upper"}'), versus.speedUp!.ci!.high);
  t.equal(await value('fairspec_experiment_speedup_difference_p_adjusted{experiment="e1",arm="slow",language="en"}'), versus.speedUp!.pAdjusted);
  t.equal(await value('fairspec_experiment_fairness{experiment="e1",arm="fast",figure="worst_speedup"}'), fast.fairness.speedUp!.worst.value);
  t.equal(await value('fairspec_experiment_fairness{experiment="e1",arm="fast",figure="max_min_speedup_ratio"}'), fast.fairness.speedUp!.maxMinRatio);
  t.same(await lines(registry, 'fairspec_experiment_worst_language{experiment="e1",arm="fast"'), [
    `fairspec_experiment_worst_language{experiment="e1",arm="fast",language="${fast.fairness.speedUp!.worst.language}"} ${fast.fairness.speedUp!.worst.value}`,
  ]);

  // Worst language against the control, over en (am has one request, so no standard error).
  t.same(
    summary.worstLanguage.map((w) => [w.arm, w.languages]),
    [['fast', 1], ['slow', 1]],
  );
  for (const w of summary.worstLanguage) {
    const arm = `experiment="e1",arm="${w.arm}"`;
    t.equal(await value(`fairspec_experiment_worst_speedup_difference{${arm},bound="mean"}`), w.difference);
    t.equal(await value(`fairspec_experiment_worst_speedup_difference{${arm},bound="lower"}`), w.ci.low);
    t.equal(await value(`fairspec_experiment_worst_speedup_difference{${arm},bound="upper"}`), w.ci.high);
    t.equal(await value(`fairspec_experiment_worst_speedup_higher_probability{${arm}}`), w.probabilityHigher);
  }
  t.equal(summary.worstLanguage[0]!.probabilityHigher, 1, 'fast: twice as fast as the control');
  t.equal(summary.worstLanguage[1]!.probabilityHigher, 0, 'slow: half as fast');

  store.delete('e1');
  t.same(await lines(registry, 'fairspec_experiment_'), [], "a deleted experiment's series leave the exposition");
});
