// /metrics after traffic in three configured languages and one outside the set: per-language
// series for each, the outsider under 'other', vLLM-style spec-decode counters consistent with
// the responses, and the process metrics.

import t from 'tap';
import { buildTestApp, completionBody, sample, withoutModelName } from '../helpers/build-app.js';

const app = await buildTestApp(t, { metricLanguages: ['en', 'fr', 'de'] });

const prompts: Record<string, string> = {
  en: 'The children are playing in the garden',
  fr: 'Les enfants jouent dans le jardin',
  de: 'Die Kinder spielen im Garten',
  ja: '子供たちは庭で遊んでいます',
};

interface Speculative {
  language: string;
  drafter: string;
  drafts: number;
  drafted: number;
  accepted: number;
}
const seen: Record<string, { speculative: Speculative; completion: number; prompt: number }> = {};
const finishReasons: string[] = [];

t.before(async () => {
  for (const [lang, prompt] of Object.entries(prompts)) {
    const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt, max_tokens: 6 }) });
    const body = res.json();
    seen[lang] = { speculative: body.speculative, completion: body.usage.completion_tokens, prompt: body.usage.prompt_tokens };
    finishReasons.push(body.choices[0].finish_reason);
  }
  // A pinned language outside the configured set, and a failed request before routing.
  const pinned = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ language: 'pt', max_tokens: 2 }) });
  finishReasons.push(pinned.json().choices[0].finish_reason);
  await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ max_tokens: 0 }) });
});

t.test('the exposition is Prometheus text with fairspec and process metrics', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.match(withoutModelName(res.body), /^process_cpu_user_seconds_total \d/m);
  t.match(withoutModelName(res.body), /^nodejs_eventloop_lag_seconds /m);
  for (const name of [
    'fairspec_spec_decode_num_drafts_total',
    'fairspec_spec_decode_num_draft_tokens_total',
    'fairspec_spec_decode_num_accepted_tokens_total',
    'fairspec_spec_decode_num_accepted_tokens_per_pos_total',
    'fairspec_spec_decode_alpha_sum_total',
    'fairspec_spec_decode_cross_entropy_sum_total',
    'fairspec_generation_tokens_total',
    'fairspec_prompt_tokens_total',
    'fairspec_requests_total',
    'fairspec_request_duration_seconds',
    'fairspec_time_to_first_token_seconds',
    'fairspec_time_per_output_token_seconds',
    'fairspec_queue_length',
    'fairspec_num_requests_running',
    'fairspec_num_requests_waiting',
    'fairspec_e2e_request_latency_seconds',
    'fairspec_request_queue_time_seconds',
    'fairspec_request_prefill_time_seconds',
    'fairspec_request_success_total',
  ]) {
    t.match(res.body, new RegExp(`^# TYPE ${name} (counter|histogram|gauge)$`, 'm'), name);
  }
});

t.test('each configured language has its own series, matching the responses', async (t) => {
  const text = withoutModelName((await app.inject({ method: 'GET', url: '/metrics' })).body);
  for (const lang of ['en', 'fr', 'de']) {
    const s = seen[lang]!.speculative;
    t.equal(s.language, lang, `${lang} detected`);
    const labels = `language="${lang}",drafter="${s.drafter}",arm="none"`;
    t.equal(sample(text, `fairspec_spec_decode_num_drafts_total{${labels}}`), s.drafts, `${lang} drafts`);
    t.equal(sample(text, `fairspec_spec_decode_num_draft_tokens_total{${labels}}`), s.drafted, `${lang} draft tokens`);
    t.equal(sample(text, `fairspec_spec_decode_num_accepted_tokens_total{${labels}}`), s.accepted, `${lang} accepted`);
    t.equal(sample(text, `fairspec_generation_tokens_total{${labels}}`), seen[lang]!.completion);
    t.equal(sample(text, `fairspec_prompt_tokens_total{${labels}}`), seen[lang]!.prompt);
    t.equal(sample(text, `fairspec_requests_total{${labels},status="200"}`), 1);
    t.equal(sample(text, `fairspec_request_duration_seconds_count{${labels}}`), 1);
    t.ok(sample(text, `fairspec_request_duration_seconds_sum{${labels}}`) > 0, 'a duration was measured');
    t.equal(sample(text, `fairspec_time_to_first_token_seconds_count{${labels}}`), 1);
    if (s.drafted > 0) {
      t.ok(sample(text, `fairspec_spec_decode_alpha_sum_total{${labels}}`) > 0, `${lang} alpha sum`);
      t.ok(sample(text, `fairspec_spec_decode_alpha_sum_total{${labels}}`) <= s.drafted, 'alpha <= 1 per drafted position');
      t.ok(sample(text, `fairspec_spec_decode_cross_entropy_sum_total{${labels}}`) > 0, `${lang} cross-entropy sum`);
      const perPos = [...text.matchAll(new RegExp(`^fairspec_spec_decode_num_accepted_tokens_per_pos_total\\{${labels},position="(\\d+)"\\} (\\S+)$`, 'gm'))];
      t.ok(perPos.length > 0, `${lang} per-position series`);
      t.equal(
        perPos.reduce((acc, m) => acc + Number(m[2]), 0),
        s.accepted,
        'accepted per position sums to accepted',
      );
    }
  }
});

t.test("a language outside the configured set is labelled 'other', never by its code", async (t) => {
  const text = withoutModelName((await app.inject({ method: 'GET', url: '/metrics' })).body);
  t.notMatch(text, /language="(ja|pt)"/);
  const other = [...text.matchAll(/^fairspec_requests_total\{language="other",drafter="[^"]+",arm="none",status="200"\} (\d+)$/gm)];
  t.equal(
    other.reduce((acc, m) => acc + Number(m[1]), 0),
    2,
    'the Japanese and the pinned Portuguese requests',
  );
  t.match(text, /^fairspec_generation_tokens_total\{language="other",drafter="[^"]+",arm="none"\} \d+$/m);
  t.match(text, /^fairspec_requests_total\{language="unknown",drafter="none",arm="none",status="400"\} 1$/m, 'a request that failed before routing');
  const languages = new Set([...text.matchAll(/language="([^"]+)"/g)].map((m) => m[1]));
  t.same([...languages].sort(), ['de', 'en', 'fr', 'other', 'unknown']);
});

t.test('vLLM-named request series, and model_name on every series', async (t) => {
  const raw = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const samples = raw.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  t.ok(samples.length > 100);
  t.same(samples.filter((l) => !/[{,]model_name="fairspec-test"[,}]/.test(l)), [], 'every sample is labelled with the configured model id');
  const text = withoutModelName(raw);
  t.equal(sample(text, 'fairspec_num_requests_running'), 0, 'nothing runs now');
  t.equal(sample(text, 'fairspec_num_requests_waiting'), 0, 'nothing waits');
  t.equal(finishReasons.length, 5);
  t.equal(sample(text, 'fairspec_e2e_request_latency_seconds_count'), 5, 'the five requests answered 200, not the 400');
  t.equal(sample(text, 'fairspec_e2e_request_latency_seconds_bucket{le="+Inf"}'), 5);
  t.equal(sample(text, 'fairspec_request_queue_time_seconds_count'), 5, 'each admitted request got its slot once');
  t.equal(sample(text, 'fairspec_request_prefill_time_seconds_count'), 5, 'one prefill per generation');
  const e2e = sample(text, 'fairspec_e2e_request_latency_seconds_sum');
  const prefill = sample(text, 'fairspec_request_prefill_time_seconds_sum');
  const queue = sample(text, 'fairspec_request_queue_time_seconds_sum');
  t.ok(prefill > 0 && queue >= 0 && prefill + queue < e2e, `queue ${queue} s + prefill ${prefill} s within end-to-end ${e2e} s`);
  for (const reason of ['stop', 'length', 'abort']) {
    t.equal(
      sample(text, `fairspec_request_success_total{finished_reason="${reason}"}`),
      finishReasons.filter((r) => r === reason).length,
      `finished_reason="${reason}" counts the responses' finish_reason`,
    );
  }
});
