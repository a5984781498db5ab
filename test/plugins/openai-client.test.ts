// The official `openai` npm client, unmodified, against the server on a real port.

import t from 'tap';
import OpenAI from 'openai';
import { buildTestApp, listen, MODEL } from '../helpers/build-app.js';

const app = await buildTestApp(t, { concurrency: 1, maxQueue: 0 });
const base = await listen(app);
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: 0, timeout: 30_000 });

t.test('models.list and models.retrieve', async (t) => {
  const models = [];
  for await (const model of client.models.list()) models.push(model.id);
  t.same(models, [MODEL]);
  t.equal((await client.models.retrieve(MODEL)).id, MODEL);
});

t.test('completions.create', async (t) => {
  const completion = await client.completions.create({ model: MODEL, prompt: 'The capital of France is', max_tokens: 8, temperature: 0 });
  t.equal(completion.object, 'text_completion');
  t.equal(completion.model, MODEL);
  t.equal(completion.choices.length, 1);
  t.type(completion.choices[0]!.text, 'string');
  t.match(completion.choices[0]!.finish_reason, /^(stop|length)$/);
  t.equal(completion.usage?.prompt_tokens, 24);
  t.match((completion as unknown as { speculative: unknown }).speculative, { language: 'en' });
});

t.test('completions.create with stream: true yields the same text', async (t) => {
  const params = { model: MODEL, prompt: ['Hello there', 'Bonjour à tous'], max_tokens: 8, temperature: 0 };
  const whole = await client.completions.create(params);
  const stream = await client.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  const texts = ['', ''];
  let usage: OpenAI.CompletionUsage | null | undefined;
  const finish: Array<string | null> = [null, null];
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      texts[choice.index] += choice.text;
      if (choice.finish_reason) finish[choice.index] = choice.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  t.same(texts, whole.choices.map((c) => c.text));
  t.same(finish, whole.choices.map((c) => c.finish_reason));
  t.same(usage, whole.usage);
});

t.test('errors surface as the client\'s typed errors', async (t) => {
  const notFound = await client.completions.create({ model: 'gpt-4', prompt: 'x' }).catch((err: unknown) => err);
  t.type(notFound, OpenAI.NotFoundError);
  t.match(notFound, { status: 404, code: 'model_not_found', param: 'model' });

  const bad = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: -1 }).catch((err: unknown) => err);
  t.type(bad, OpenAI.BadRequestError);
  t.match(bad, { status: 400, param: 'max_tokens', type: 'invalid_request_error' });

  const held = app.fairspec.requestQueue.reserve();
  try {
    const busy = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 2 }).catch((err: unknown) => err);
    t.type(busy, OpenAI.RateLimitError);
    t.match(busy, { status: 429, code: 'rate_limit_exceeded' });
    t.match((busy as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after'), /^\d+$/);
  } finally {
    held.release();
  }
  const ok = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 2 });
  t.equal(ok.choices.length, 1, 'still serving');
});
