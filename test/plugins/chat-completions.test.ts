// POST /v1/chat/completions (issue 17) on the shipped pack: the messages rendered with its chat
// template, OpenAI's shapes as JSON and as a stream, the `speculative` object in every response,
// the language of the user's messages, logprobs, vLLM's extras; and a 4xx in OpenAI's error shape
// for a malformed message list, a role that is not allowed, and a model without a template.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildDefaultPackApp, buildTestApp, MODEL, parseSse } from '../helpers/build-app.js';

const app = await buildDefaultPackApp(t, { maxTokens: 24 });

const chat = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: MODEL, ...payload } });
const messages = [
  { role: 'system', content: 'You are a helpful assistant. Answer in the language of the question.' },
  { role: 'user', content: 'Comment installer le paquet sur mon ordinateur ?' },
];
const rendered =
  '<|system|>\nYou are a helpful assistant. Answer in the language of the question.\n<|user|>\nComment installer le paquet sur mon ordinateur ?\n<|assistant|>\n';

t.test("a chat.completion: the template's prompt completed, the user's language routed, speculative stats", async (t) => {
  const res = await chat({ messages, max_tokens: 12, temperature: 0 });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.match(body, {
    id: /^chatcmpl-/,
    object: 'chat.completion',
    model: MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: String }, logprobs: null, finish_reason: /^(stop|length)$/, speculative: { language: 'fr' } }],
    usage: { prompt_tokens: Buffer.byteLength(rendered), completion_tokens: Number },
    speculative: { language: 'fr', drafted: Number, accepted: Number, verifier_steps: Number },
  });
  const completion = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: rendered, max_tokens: 12, temperature: 0 } });
  t.equal(body.choices[0].message.content, completion.json().choices[0].text, 'the same text as completing the rendered prompt');
});

t.test('max_tokens absent: what the context leaves, up to FAIRSPEC_MAX_TOKENS', async (t) => {
  const body = (await chat({ messages, temperature: 0, ignore_eos: true })).json();
  t.equal(body.usage.completion_tokens, 24);
  t.equal(body.choices[0].finish_reason, 'length');
  const capped = (await chat({ messages, temperature: 0, max_completion_tokens: 3 })).json();
  t.equal(capped.usage.completion_tokens, 3, 'max_completion_tokens');
});

t.test('streaming: chat.completion.chunk events, role first, the same text as JSON, then [DONE]', async (t) => {
  // Plain decoding: under load the batch caps γ by measured step times, and a seeded sampled
  // request repeats exactly only when its drafts do.
  const payload = { messages, max_tokens: 16, temperature: 0, n: 2, seed: 3, speculative: { draft_length: 0 } };
  const whole = (await chat({ ...payload, temperature: 0.8 })).json();
  const res = await chat({ ...payload, temperature: 0.8, stream: true, stream_options: { include_usage: true } });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/event-stream/);
  const events = parseSse(res.body);
  t.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1) as Array<{ object: string; choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null; speculative?: unknown }>; usage?: unknown; speculative?: unknown }>;
  t.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
  const texts = ['', ''];
  const roles: Array<string | undefined> = [undefined, undefined];
  for (const c of chunks) {
    for (const choice of c.choices) {
      roles[choice.index] ??= choice.delta.role;
      texts[choice.index] += choice.delta.content ?? '';
      if (choice.finish_reason) t.ok(choice.speculative, `choice ${choice.index} ends with its speculative stats`);
    }
  }
  t.same(roles, ['assistant', 'assistant'], "each choice's first delta has the role");
  t.same(texts, whole.choices.map((c: { message: { content: string } }) => c.message.content), 'n = 2, seeded: the same texts as JSON');
  t.same(chunks.at(-1)!.usage, whole.usage, 'the usage chunk');
  t.match(chunks.at(-1)!.speculative, { language: 'fr' });
});

t.test('logprobs: true with top_logprobs: the verifier\'s, per token, as in completions', async (t) => {
  const body = (await chat({ messages, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 3 })).json();
  const content = body.choices[0].logprobs.content as Array<{ token: string; logprob: number; bytes: number[]; top_logprobs: Array<{ token: string; logprob: number }> }>;
  t.equal(content.length, body.usage.completion_tokens);
  t.ok(content.every((c) => c.top_logprobs.length === 3 && c.logprob <= 0 && Array.isArray(c.bytes)));
  t.equal(content.map((c) => c.token).join(''), body.choices[0].message.content);
  const legacy = (await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: rendered, max_tokens: 6, temperature: 0, logprobs: 3 } })).json();
  const theirs = legacy.choices[0].logprobs.token_logprobs as number[];
  t.ok(content.every((c, i) => Math.abs(c.logprob - theirs[i]!) < 1e-4), 'the numbers of /v1/completions, to 1e-4 (drafted or not)');
  const streamed = parseSse((await chat({ messages, max_tokens: 6, temperature: 0, logprobs: true, stream: true })).body).slice(0, -1) as Array<{ choices: Array<{ logprobs: { content: unknown[] } | null }> }>;
  t.equal(streamed.flatMap((c) => c.choices.flatMap((choice) => choice.logprobs?.content ?? [])).length, 6, 'streamed with their deltas');
});

t.test("vLLM's extras and fields the API does not have are served", async (t) => {
  const res = await chat({
    messages,
    max_tokens: 8,
    temperature: 0.7,
    seed: 1,
    top_k: 20,
    min_p: 0.05,
    repetition_penalty: 1.2,
    presence_penalty: 0.5,
    frequency_penalty: 0.5,
    logit_bias: { '32': -5 },
    min_tokens: 4,
    ignore_eos: false,
    skip_special_tokens: true,
    tools: [],
    speculative: { drafter: 'scdf', draft_length: 3 },
  });
  t.equal(res.statusCode, 200);
  t.match(res.json().speculative, { drafter: 'scdf', draft_length: 3 });
});

t.test('content as text parts, and a conversation with an assistant turn', async (t) => {
  const parts = await chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Comment installer' }, { type: 'text', text: 'le paquet ?' }] }], max_tokens: 2 });
  t.equal(parts.statusCode, 200);
  t.equal(parts.json().usage.prompt_tokens, Buffer.byteLength('<|user|>\nComment installer\nle paquet ?\n<|assistant|>\n'));
  const turns = await chat({ messages: [...messages, { role: 'assistant', content: 'Avec npm.' }, { role: 'user', content: 'Et ensuite ?' }], max_tokens: 2 });
  t.equal(turns.statusCode, 200);
});

const bad: Array<[name: string, payload: Record<string, unknown>, status: number, code: string, param: string | null]> = [
  ['messages is not a list', { messages: 'hello' }, 400, 'invalid_type', 'messages'],
  ['an empty message list', { messages: [] }, 400, 'invalid_value', 'messages'],
  ['a message without content', { messages: [{ role: 'user' }] }, 400, 'missing_required_parameter', 'messages.content'],
  ['a message without role', { messages: [{ content: 'hi' }] }, 400, 'missing_required_parameter', 'messages.role'],
  ['a message that is not an object', { messages: ['hi'] }, 400, 'invalid_type', 'messages'],
  ['content of the wrong type', { messages: [{ role: 'user', content: 5 }] }, 400, 'invalid_type', 'messages.content'],
  ['an image part', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 400, 'missing_required_parameter', 'messages.content.text'],
  ['a role that is not allowed: tool', { messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] }, 400, 'invalid_value', 'messages.role'],
  ['a role that is not allowed: made up', { messages: [{ role: 'narrator', content: 'x' }] }, 400, 'invalid_value', 'messages.role'],
  ['missing messages', {}, 400, 'missing_required_parameter', 'messages'],
  ['unknown model', { model: 'gpt-4', messages }, 404, 'model_not_found', 'model'],
  ['top_logprobs without logprobs', { messages, top_logprobs: 2 }, 400, 'invalid_value', 'top_logprobs'],
  ['top_logprobs above 20', { messages, logprobs: true, top_logprobs: 21 }, 400, 'invalid_value', 'top_logprobs'],
  ['a logit_bias key that is not a token', { messages, logit_bias: { '300': 1 } }, 400, 'invalid_token', 'logit_bias'],
  ['min_tokens above max_tokens', { messages, max_tokens: 2, min_tokens: 3 }, 400, 'invalid_value', 'min_tokens'],
  ['messages longer than the context', { messages: [{ role: 'user', content: 'a'.repeat(600) }] }, 400, 'context_length_exceeded', 'messages'],
];

t.test('bad input: a 4xx in OpenAI\'s error shape naming the field', async (t) => {
  for (const [name, payload, status, code, param] of bad) {
    const res = await chat(payload);
    t.equal(res.statusCode, status, name);
    t.match(res.json(), { error: { message: String, type: 'invalid_request_error', code, param } }, name);
  }
  t.equal((await chat({ messages, max_tokens: 2 })).statusCode, 200, 'still serving');
});

t.test('FAIRSPEC_STRICT_REQUESTS=1: a field the API does not have is a 400', async (t) => {
  const strict = await buildDefaultPackApp(t, { strictRequests: true });
  const res = await strict.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: MODEL, messages, max_tokens: 2, tools: [] } });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { error: { code: 'unknown_parameter', param: 'tools' } });
});

t.test('a model without a chat template: 400 chat_template_missing; FAIRSPEC_CHAT_TEMPLATE gives it one', async (t) => {
  const bare = await buildTestApp(t); // the fixture pack has no chat_template
  const res = await bare.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: MODEL, messages } });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { error: { type: 'invalid_request_error', code: 'chat_template_missing', param: 'messages', message: /no chat template/ } });
  t.equal((await bare.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: 'Hello', max_tokens: 2 } })).statusCode, 200, 'completions still served');

  const file = join(mkdtempSync(join(tmpdir(), 'fairspec-template-')), 'chat.jinja');
  writeFileSync(file, '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:');
  const templated = await buildTestApp(t, { chatTemplate: file });
  const ok = await templated.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: MODEL, messages: [{ role: 'user', content: 'Bonjour' }], max_tokens: 2 } });
  t.equal(ok.statusCode, 200);
  t.equal(ok.json().usage.prompt_tokens, Buffer.byteLength('user: Bonjour\nassistant:'));
});
