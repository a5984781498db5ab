import t from 'tap';
import { Gauge } from 'prom-client';
import type { GenerateResult } from '../../src/engine/types.js';
import { MetricsRecorder } from '../../src/metrics/metrics-recorder.js';
import { LanguageLabels } from '../../src/language.js';

const labels = new LanguageLabels(['en', 'am']);
const recorder = () => new MetricsRecorder({ languageLabel: (l) => labels.label(l), drafters: ['scdf', 'baseline'], defaultMetrics: false });

const result: GenerateResult = {
  text: 'abc',
  tokenIds: [1, 2, 3, 4, 5],
  finishReason: 'length',
  promptTokens: 7,
  completionTokens: 5,
  firstTokenMs: 10,
  totalMs: 50,
  stats: {
    drafter: 'scdf',
    draftLength: 3,
    drafts: 2,
    draftedTokens: 6,
    requestedTokens: 6,
    acceptedTokens: 3,
    acceptedPerPosition: [2, 1, 0],
    alphaSum: 4.5,
    greedyMatches: 4,
    crossEntropySum: 2.25,
    verifierSteps: 2,
    draftMs: 1,
    verifyMs: 2,
  },
};

t.test('labels are bounded: configured languages, other, unknown; pack drafters, none', async (t) => {
  const r = recorder();
  t.same(r.labels('am', 'scdf'), { language: 'am', drafter: 'scdf', arm: 'none' });
  t.same(r.labels('xx', 'baseline'), { language: 'other', drafter: 'baseline', arm: 'none' });
  t.same(r.labels(null, null), { language: 'unknown', drafter: 'none', arm: 'none' });
  t.same(r.labels('en', 'not-in-pack'), { language: 'en', drafter: 'none', arm: 'none' });
});

t.test("arm labels: 'none' outside experiments, the first maxArms names, then 'other'", async (t) => {
  const r = new MetricsRecorder({ languageLabel: (l) => labels.label(l), drafters: ['scdf'], maxArms: 3, defaultMetrics: false });
  t.equal(r.labels('en', 'scdf').arm, 'none');
  t.equal(r.labels('en', 'scdf', null).arm, 'none');
  t.same(['a', 'b', 'c', 'd', 'e', 'a'].map((arm) => r.labels('en', 'scdf', arm).arm), ['a', 'b', 'c', 'other', 'other', 'a']);
  for (let i = 0; i < 100; i++) r.observeRequest(r.labels('en', 'scdf', `arm-${i}`), 200, 0.1);
  const arms = new Set([...(await r.metrics()).matchAll(/arm="([^"]+)"/g)].map((m) => m[1]));
  t.same([...arms].sort(), ['other'], 'a hundred new arm names make no new series');
});

t.test('one generation: exact exposition lines', async (t) => {
  const r = recorder();
  const l = r.labels('am', 'scdf');
  r.observeGeneration(l, result);
  r.observeFirstToken(l, 0.012);
  r.observeRequest(l, 200, 0.06);
  const text = await r.metrics();
  const lines = text.split('\n');
  for (const expected of [
    'fairspec_spec_decode_num_drafts_total{language="am",drafter="scdf",arm="none"} 2',
    'fairspec_spec_decode_num_draft_tokens_total{language="am",drafter="scdf",arm="none"} 6',
    'fairspec_spec_decode_num_accepted_tokens_total{language="am",drafter="scdf",arm="none"} 3',
    'fairspec_spec_decode_num_accepted_tokens_per_pos_total{language="am",drafter="scdf",arm="none",position="0"} 2',
    'fairspec_spec_decode_num_accepted_tokens_per_pos_total{language="am",drafter="scdf",arm="none",position="1"} 1',
    'fairspec_spec_decode_num_accepted_tokens_per_pos_total{language="am",drafter="scdf",arm="none",position="2"} 0',
    'fairspec_spec_decode_alpha_sum_total{language="am",drafter="scdf",arm="none"} 4.5',
    'fairspec_spec_decode_cross_entropy_sum_total{language="am",drafter="scdf",arm="none"} 2.25',
    'fairspec_generation_tokens_total{language="am",drafter="scdf",arm="none"} 5',
    'fairspec_completed_generation_tokens_total{language="am",drafter="scdf",arm="none"} 5',
    'fairspec_completed_generation_seconds_total{language="am",drafter="scdf",arm="none"} 0.05',
    'fairspec_prompt_tokens_total{language="am",drafter="scdf",arm="none"} 7',
    'fairspec_requests_total{language="am",drafter="scdf",arm="none",status="200"} 1',
    'fairspec_request_duration_seconds_count{language="am",drafter="scdf",arm="none"} 1',
    'fairspec_time_to_first_token_seconds_bucket{le="0.025",language="am",drafter="scdf",arm="none"} 1',
    'fairspec_time_to_first_token_seconds_bucket{le="0.01",language="am",drafter="scdf",arm="none"} 0',
    // (50 - 10) ms over 4 tokens after the first
    'fairspec_time_per_output_token_seconds_sum{language="am",drafter="scdf",arm="none"} 0.01',
  ]) {
    t.ok(lines.includes(expected), expected);
  }
  t.notMatch(text, /^process_/m, 'no process metrics when disabled');
});

t.test('the speed-up sums count completed generations that produced tokens, as the server\'s own figures do', async (t) => {
  const r = recorder();
  const l = r.labels('en', 'scdf');
  r.observeGeneration(l, result);
  r.observeGeneration(l, { ...result, finishReason: 'abort', completionTokens: 3, totalMs: 40 });
  r.observeGeneration(l, { ...result, finishReason: 'stop', completionTokens: 0, totalMs: 30 });
  const text = await r.metrics();
  t.match(text, /^fairspec_generation_tokens_total\{language="en",drafter="scdf",arm="none"\} 8$/m, 'every generation');
  t.match(text, /^fairspec_completed_generation_tokens_total\{language="en",drafter="scdf",arm="none"\} 5$/m, 'the completed one with tokens');
  t.match(text, /^fairspec_completed_generation_seconds_total\{language="en",drafter="scdf",arm="none"\} 0.05$/m);
});

t.test('queue and running gauges move both ways', async (t) => {
  const r = recorder();
  const l = r.labels('en', 'baseline');
  r.queued(l, 1);
  r.queued(l, 1);
  r.queued(l, -1);
  r.running(l, 1);
  const text = await r.metrics();
  t.match(text, /^fairspec_queue_length\{language="en",drafter="baseline",arm="none"\} 1$/m);
  t.match(text, /^fairspec_requests_running\{language="en",drafter="baseline",arm="none"\} 1$/m);
});

t.test('process metrics by default, on the recorder\'s own registry', async (t) => {
  const a = new MetricsRecorder({ languageLabel: (l) => labels.label(l), drafters: [] });
  const b = new MetricsRecorder({ languageLabel: (l) => labels.label(l), drafters: [] });
  t.match(await a.metrics(), /^process_cpu_user_seconds_total /m);
  t.not(a.registry, b.registry);
  t.match(a.contentType, /^text\/plain/);
});

t.test("vLLM's request series: running and waiting, end-to-end, queue and prefill time, success by finish reason", async (t) => {
  const r = recorder();
  const l = r.labels('en', 'scdf');
  r.queued(l, 1);
  r.queued(l, 1);
  r.queued(l, -1);
  r.running(l, 1);
  r.observeQueueTime(0.02);
  r.observeGeneration(l, result);
  r.observeGeneration(l, { ...result, finishReason: 'stop' });
  r.observeGeneration(l, { ...result, finishReason: 'abort', completionTokens: 0 });
  r.observeRequest(l, 200, 0.3);
  r.observeRequest(l, 429, 0.001);
  const lines = (await r.metrics()).split('\n');
  for (const expected of [
    'fairspec_num_requests_waiting 1',
    'fairspec_num_requests_running 1',
    'fairspec_request_queue_time_seconds_count 1',
    'fairspec_request_queue_time_seconds_bucket{le="0.025"} 1',
    'fairspec_request_queue_time_seconds_bucket{le="0.01"} 0',
    // firstTokenMs 10 of the two generations that produced tokens
    'fairspec_request_prefill_time_seconds_count 2',
    'fairspec_request_prefill_time_seconds_sum 0.02',
    'fairspec_e2e_request_latency_seconds_count 1',
    'fairspec_e2e_request_latency_seconds_sum 0.3',
    'fairspec_request_success_total{finished_reason="length"} 1',
    'fairspec_request_success_total{finished_reason="stop"} 1',
    'fairspec_request_success_total{finished_reason="abort"} 1',
  ]) {
    t.ok(lines.includes(expected), expected);
  }
  t.notOk(lines.some((line) => line.includes('model_name=')), 'no model_name without a model name');
});

t.test('model_name labels every series of the registry, whoever registered it', async (t) => {
  const r = new MetricsRecorder({ languageLabel: (l) => labels.label(l), drafters: ['scdf'], modelName: 'qwen2-0.5b' });
  const l = r.labels('en', 'scdf');
  r.observeGeneration(l, result);
  r.observeRequest(l, 200, 0.3);
  new Gauge({ name: 'elsewhere', help: 'a gauge another module registers', registers: [r.registry] }).set(1);
  const samples = (await r.metrics()).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  t.ok(samples.some((line) => line.startsWith('process_cpu_user_seconds_total{model_name="qwen2-0.5b"} ')), 'process metrics too');
  t.ok(samples.includes('elsewhere{model_name="qwen2-0.5b"} 1'));
  t.ok(samples.includes('fairspec_requests_total{language="en",drafter="scdf",arm="none",status="200",model_name="qwen2-0.5b"} 1'));
  t.same(samples.filter((line) => !line.includes('model_name="qwen2-0.5b"')), []);
});
