// Issue 15 over HTTP: requests decode together, each as it would alone; one request cannot hold
// the server; the batch shows in /metrics.

import t from 'tap';
import { buildTestApp, completionBody } from '../helpers/build-app.js';

t.setTimeout(120_000);

const PROMPTS = ['The quick brown fox', 'Der schnelle braune Fuchs', 'Быстрая лиса', '素早い茶色の狐', 'تیز بھوری لومڑی', 'Hızlı kahverengi tilki'];

t.test('concurrent requests give what each gives alone', async (t) => {
  const app = await buildTestApp(t, { maxBatchRows: 4 });
  const send = (prompt: string, extra: Record<string, unknown> = {}) =>
    app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt, max_tokens: 24, ...extra }) });
  const together = await Promise.all(PROMPTS.map((p, i) => send(p, i % 2 ? { n: 2 } : {})));
  for (const [i, res] of together.entries()) {
    t.equal(res.statusCode, 200, res.body);
    const alone = await send(PROMPTS[i]!);
    const texts = res.json().choices.map((c: { text: string }) => c.text);
    t.ok(texts.every((x: string) => x === alone.json().choices[0].text), `${PROMPTS[i]}: the same text in a batch as alone`);
  }
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const passes = Number(/^fairspec_batch_rows_count\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  const rows = Number(/^fairspec_batch_rows_sum\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  t.ok(passes > 0 && rows / passes > 1, `passes had ${(rows / passes).toFixed(2)} rows on average`);
  t.match(metrics, /^fairspec_num_sequences_running\{[^}]*\} 0$/m, 'no sequence running once all ended');
  t.match(metrics, /^fairspec_batch_step_seconds_bucket/m);
});

t.test('a request over the work budget is refused with a 400 that says how to split it', async (t) => {
  const app = await buildTestApp(t, { maxRequestWork: 100 });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/completions',
    payload: completionBody({ prompt: ['a', 'b', 'c'], n: 2, max_tokens: 20 }),
  });
  t.equal(res.statusCode, 400);
  const error = res.json().error;
  t.equal(error.type, 'invalid_request_error');
  t.match(error.message, /3 prompts × n 2 × max_tokens 20 = 120 tokens of work, more than the 100/);
  t.match(error.message, /at most 2 prompts each/);
  const fits = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt: ['a', 'b'], n: 2, max_tokens: 20 }) });
  t.equal(fits.statusCode, 200);
});

t.test('a streamed request behind a large one gets its text first', async (t) => {
  const app = await buildTestApp(t, { maxBatchRows: 4 });
  const large = app.inject({
    method: 'POST',
    url: '/v1/completions',
    // The test pack's context is 64 tokens: short prompts, 32 sequences of 50 tokens.
    payload: completionBody({ prompt: ['Hello', 'Hallo', 'Hola', 'Salut'], n: 8, max_tokens: 50, temperature: 1, seed: 3 }),
  });
  let largeEnded = false;
  void large.then(() => (largeEnded = true));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const small = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ max_tokens: 8, stream: true }) });
  t.equal(small.statusCode, 200);
  t.match(small.body, /data: \[DONE\]/);
  t.notOk(largeEnded, 'the small request ended while the large one (32 sequences) was still running');
  const done = await large;
  t.equal(done.statusCode, 200, done.body);
});
