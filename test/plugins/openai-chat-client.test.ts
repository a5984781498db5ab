// Issue 17's acceptance: the official `openai` npm client, unmodified, against the server on a real
// port with the shipped pack (models/default): chat completions streaming and not, logprobs, token-id
// prompts, vLLM's extras passed through, and typed errors for bad messages.

import t from 'tap';
import OpenAI from 'openai';
import { buildDefaultPackApp, listen, MODEL } from '../helpers/build-app.js';

const app = await buildDefaultPackApp(t, { maxTokens: 32 });
const base = await listen(app);
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: 0, timeout: 60_000 });
const messages: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'How do I install the package?' },
];

t.test('chat.completions.create', async (t) => {
  const completion = await client.chat.completions.create({ model: MODEL, messages, max_completion_tokens: 12, temperature: 0 });
  t.equal(completion.object, 'chat.completion');
  t.equal(completion.model, MODEL);
  t.equal(completion.choices.length, 1);
  t.equal(completion.choices[0]!.message.role, 'assistant');
  t.type(completion.choices[0]!.message.content, 'string');
  t.match(completion.choices[0]!.finish_reason, /^(stop|length)$/);
  t.ok(completion.usage!.prompt_tokens > 0 && completion.usage!.completion_tokens > 0);
  t.match((completion as unknown as { speculative: unknown }).speculative, { language: 'en', verifier_steps: Number });
});

t.test('chat.completions.create with stream: true yields the same text, and usage', async (t) => {
  const params = { model: MODEL, messages, max_tokens: 12, temperature: 0 };
  const whole = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      finish ??= choice.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  t.equal(text, whole.choices[0]!.message.content);
  t.equal(finish, whole.choices[0]!.finish_reason);
  t.same(usage, whole.usage);
});

t.test("the client's stream helper assembles the message", async (t) => {
  const runner = client.chat.completions.stream({ model: MODEL, messages, max_tokens: 8, temperature: 0 });
  const final = await runner.finalChatCompletion();
  t.equal(final.choices[0]!.message.role, 'assistant');
  t.type(final.choices[0]!.message.content, 'string');
});

t.test('logprobs and top_logprobs', async (t) => {
  const completion = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 5, temperature: 0, logprobs: true, top_logprobs: 2 });
  const content = completion.choices[0]!.logprobs!.content!;
  t.equal(content.length, 5);
  t.ok(content.every((c) => c.logprob <= 0 && c.top_logprobs.length === 2));
});

t.test("vLLM's extras in the body are served; completions take token ids", async (t) => {
  const extras = { top_k: 20, min_p: 0.05, repetition_penalty: 1.1, min_tokens: 2, ignore_eos: false, best_of: 1, skip_special_tokens: true };
  const completion = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, seed: 1, ...extras } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  t.equal(completion.choices.length, 1);
  const ids = [...Buffer.from('To install the package, run')];
  const byIds = await client.completions.create({ model: MODEL, prompt: ids, max_tokens: 8, temperature: 0 });
  const byText = await client.completions.create({ model: MODEL, prompt: 'To install the package, run', max_tokens: 8, temperature: 0 });
  t.equal(byIds.choices[0]!.text, byText.choices[0]!.text, 'token ids: the output of the same text');
});

t.test("bad messages surface as the client's typed errors", async (t) => {
  const role = await client.chat.completions
    .create({ model: MODEL, messages: [{ role: 'tool', content: 'x', tool_call_id: '1' }] })
    .catch((err: unknown) => err);
  t.type(role, OpenAI.BadRequestError);
  t.match(role, { status: 400, param: 'messages.role', type: 'invalid_request_error' });
  const model = await client.chat.completions.create({ model: 'gpt-4o', messages }).catch((err: unknown) => err);
  t.type(model, OpenAI.NotFoundError);
});
