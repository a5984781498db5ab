// A bounded queue: with the one slot taken and the queue full, a request is refused at once
// with 429 and Retry-After; queued requests run in order once the slot frees.

import t from 'tap';
import { buildTestApp, completionBody, sample, withoutModelName } from '../helpers/build-app.js';

const app = await buildTestApp(t, { concurrency: 1, maxQueue: 1 });
const post = (overrides: Record<string, unknown> = {}) =>
  app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ language: 'en', ...overrides }) });

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error('condition not reached');
}

t.test('full queue: 429 with Retry-After, then the queued request completes and the server serves again', async (t) => {
  // Take the only generation slot directly on the app's queue, as a long generation would.
  const held = app.fairspec.requestQueue.reserve();
  t.equal(held.queued, false);

  const queued = post();
  await until(() => app.fairspec.requestQueue.waiting === 1);
  const metrics = withoutModelName((await app.inject({ method: 'GET', url: '/metrics' })).body);
  t.match(metrics, /^fairspec_queue_length\{language="en",drafter="[^"]+",arm="none"\} 1$/m, 'queue length gauge');
  t.equal(sample(metrics, 'fairspec_num_requests_waiting'), 1, 'vLLM-named waiting gauge');
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.match(ready.json(), { status: 'ready', running: 1, queued: 1 });

  for (const stream of [false, true]) {
    const refused = await post({ stream });
    t.equal(refused.statusCode, 429, `stream: ${stream}`);
    t.match(refused.headers['content-type'], /^application\/json/);
    t.match(refused.headers['retry-after'], /^[1-9]\d*$/);
    t.match(refused.json(), { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null, message: /busy/ } });
  }

  // The queued request waits at least this pause more before its slot comes.
  const pauseStart = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  held.release();
  const waited = (performance.now() - pauseStart) / 1000;
  const done = await queued;
  t.equal(done.statusCode, 200, 'the queued request ran');
  t.equal(app.fairspec.requestQueue.waiting, 0);
  t.equal((await post()).statusCode, 200, 'serving again');

  const after = withoutModelName((await app.inject({ method: 'GET', url: '/metrics' })).body);
  t.match(after, /^fairspec_queue_length\{language="en",drafter="[^"]+",arm="none"\} 0$/m);
  t.equal(sample(after, 'fairspec_num_requests_waiting'), 0);
  t.equal(sample(after, 'fairspec_request_queue_time_seconds_count'), 2, 'the queued request and the next one got their slots');
  t.ok(sample(after, 'fairspec_request_queue_time_seconds_sum') >= waited, 'the queued request\'s wait is in the queue time');
  t.ok(sample(after, after.match(/^(fairspec_requests_total\{language="en",drafter="[^"]+",arm="none",status="429"\})/m)?.[1] ?? 'x') === 2, '429s counted');
});
