// A client that goes away stops its work: mid-stream, mid-generation (non-streaming) and
// while queued. Real sockets on 127.0.0.1, since the point is the connection closing.

import t from 'tap';
import { request } from 'undici';
import { buildTestApp, completionBody, listen, sample, withoutModelName } from '../helpers/build-app.js';

const app = await buildTestApp(t, { concurrency: 1, maxQueue: 4 });
const base = await listen(app);

// Greedy on the fixture model: this prompt runs to max_tokens without meeting EOS (checked below).
const LONG = completionBody({ prompt: 'Hi', max_tokens: 60, temperature: 0, language: 'en' });

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

async function metrics(): Promise<string> {
  return withoutModelName((await app.inject({ method: 'GET', url: '/metrics' })).body);
}

async function series(name: string, extra = ''): Promise<number> {
  const text = await metrics();
  const drafter = text.match(/fairspec_generation_tokens_total\{language="en",drafter="([^"]+)",arm="none"\}/)?.[1] ?? 'none';
  return sample(text, `${name}{language="en",drafter="${drafter}",arm="none"${extra}}`);
}

const post = (body: Record<string, unknown>, signal?: AbortSignal) =>
  request(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });

t.test('precondition: the long request generates all 60 tokens when nobody leaves', async (t) => {
  const res = await post(LONG);
  const body = (await res.body.json()) as { choices: Array<{ finish_reason: string }>; usage: { completion_tokens: number } };
  t.equal(res.statusCode, 200);
  t.equal(body.choices[0]!.finish_reason, 'length');
  t.equal(body.usage.completion_tokens, 60);
});

t.test('closing a stream after its first chunk aborts the generation', async (t) => {
  const tokensBefore = await series('fairspec_generation_tokens_total');
  const goneBefore = await series('fairspec_requests_total', ',status="499"');
  const controller = new AbortController();
  const res = await post({ ...LONG, stream: true }, controller.signal);
  t.equal(res.statusCode, 200);
  for await (const chunk of res.body) {
    t.match(String(chunk), /^data: /);
    controller.abort();
    break;
  }
  await until(() => app.fairspec.requestQueue.running === 0, 'the slot to be released');
  await until(() => app.fairspec.requestQueue.running === 0 && app.fairspec.requestQueue.waiting === 0, 'idle');
  await new Promise((r) => setTimeout(r, 20));
  const generated = (await series('fairspec_generation_tokens_total')) - tokensBefore;
  t.ok(generated < 60, `stopped early: ${generated} of 60 tokens generated`);
  t.equal((await series('fairspec_requests_total', ',status="499"')) - goneBefore, 1, 'counted as 499');
});

t.test('closing a non-streaming request mid-generation aborts it', async (t) => {
  const tokensBefore = await series('fairspec_generation_tokens_total');
  const controller = new AbortController();
  const pending = post(LONG, controller.signal).catch((err: Error) => err);
  await until(() => app.fairspec.requestQueue.running === 1, 'the generation to start');
  controller.abort();
  t.match(await pending, { name: 'AbortError' });
  await until(() => app.fairspec.requestQueue.running === 0, 'the slot to be released');
  await new Promise((r) => setTimeout(r, 20));
  const generated = (await series('fairspec_generation_tokens_total')) - tokensBefore;
  t.ok(generated < 60, `stopped early: ${generated} of 60 tokens generated`);
});

t.test('a queued request whose client leaves never runs', async (t) => {
  const tokensBefore = await series('fairspec_generation_tokens_total');
  const held = app.fairspec.requestQueue.reserve();
  const controller = new AbortController();
  const pending = post(LONG, controller.signal).catch((err: Error) => err);
  await until(() => app.fairspec.requestQueue.waiting === 1, 'the request to queue');
  controller.abort();
  await pending;
  await until(() => app.fairspec.requestQueue.waiting === 0, 'the request to leave the queue');
  held.release();
  await new Promise((r) => setTimeout(r, 20));
  t.equal((await series('fairspec_generation_tokens_total')) - tokensBefore, 0, 'no tokens generated');
  t.equal(await series('fairspec_queue_length'), 0, 'queue gauge back to 0');

  const res = await post(completionBody({ max_tokens: 2 }));
  t.equal(res.statusCode, 200, 'the server keeps serving');
  await res.body.dump();
});
