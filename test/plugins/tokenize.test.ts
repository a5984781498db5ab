// POST /tokenize and /detokenize in vLLM's shapes, and max_model_len in /v1/models (issue 17), on
// the shipped pack; bad input is a 4xx in OpenAI's error shape.

import t from 'tap';
import { buildDefaultPackApp, buildTestApp, MODEL } from '../helpers/build-app.js';

const app = await buildDefaultPackApp(t);
const post = (url: string, payload: Record<string, unknown>) => app.inject({ method: 'POST', url, payload });

t.test('tokenize a prompt: count, max_model_len and the ids; detokenize them back', async (t) => {
  const text = 'Für die Konfiguration 設定';
  const res = await post('/tokenize', { model: MODEL, prompt: text });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.same(body, { count: Buffer.byteLength(text), max_model_len: 512, tokens: [...Buffer.from(text)] });
  const back = await post('/detokenize', { model: MODEL, tokens: body.tokens });
  t.same(back.json(), { prompt: text });
  t.same((await post('/tokenize', { prompt: '' })).json(), { count: 0, max_model_len: 512, tokens: [] }, 'model is optional, an empty prompt has no tokens');
});

t.test('tokenize messages: the chat template\'s prompt, as /v1/chat/completions counts it', async (t) => {
  const messages = [{ role: 'user', content: 'Hi' }];
  const res = (await post('/tokenize', { messages })).json();
  t.same(res.tokens, [...Buffer.from('<|user|>\nHi\n<|assistant|>\n')]);
  const chat = (await post('/v1/chat/completions', { model: MODEL, messages, max_tokens: 1 })).json();
  t.equal(res.count, chat.usage.prompt_tokens);
  t.equal((await post('/tokenize', { messages, add_generation_prompt: false })).json().count, Buffer.byteLength('<|user|>\nHi\n'));
});

t.test('/v1/models reports max_model_len', async (t) => {
  t.match((await app.inject({ method: 'GET', url: '/v1/models' })).json(), { data: [{ id: MODEL, max_model_len: 512 }] });
  t.equal((await app.inject({ method: 'GET', url: `/v1/models/${MODEL}` })).json().max_model_len, 512);
});

const bad: Array<[name: string, url: string, payload: Record<string, unknown>, status: number, code: string, param: string | null]> = [
  ['neither prompt nor messages', '/tokenize', {}, 400, 'invalid_value', 'prompt'],
  ['both prompt and messages', '/tokenize', { prompt: 'x', messages: [{ role: 'user', content: 'x' }] }, 400, 'invalid_value', 'messages'],
  ['a role that is not allowed', '/tokenize', { messages: [{ role: 'tool', content: 'x' }] }, 400, 'invalid_value', 'messages.role'],
  ['a malformed message list', '/tokenize', { messages: [{ role: 'user' }] }, 400, 'missing_required_parameter', 'messages.content'],
  ['an unknown model', '/tokenize', { model: 'gpt-4', prompt: 'x' }, 404, 'model_not_found', 'model'],
  ['a token id outside the vocabulary', '/detokenize', { tokens: [72, 257] }, 400, 'invalid_token', 'tokens'],
  ['a negative token id', '/detokenize', { tokens: [-1] }, 400, 'invalid_token', 'tokens'],
  ['tokens of the wrong type', '/detokenize', { tokens: 'abc' }, 400, 'invalid_type', 'tokens'],
  ['missing tokens', '/detokenize', {}, 400, 'missing_required_parameter', 'tokens'],
];

t.test("bad input: a 4xx in OpenAI's error shape", async (t) => {
  for (const [name, url, payload, status, code, param] of bad) {
    const res = await post(url, payload);
    t.equal(res.statusCode, status, name);
    t.match(res.json(), { error: { message: String, type: 'invalid_request_error', code, param } }, name);
  }
});

t.test('unknown fields: ignored, or with FAIRSPEC_STRICT_REQUESTS=1 a 400', async (t) => {
  t.equal((await post('/tokenize', { prompt: 'x', return_token_strs: true })).statusCode, 200);
  const strict = await buildTestApp(t, { strictRequests: true });
  const res = await strict.inject({ method: 'POST', url: '/detokenize', payload: { tokens: [1], skip_special_tokens: true } });
  t.match(res.json(), { error: { code: 'unknown_parameter', param: 'skip_special_tokens' } });
});

t.test('while the model loads: 503, and /v1/models without max_model_len', async (t) => {
  const loading = await buildTestApp(t, {}, { loadModels: false });
  t.equal((await loading.inject({ method: 'POST', url: '/tokenize', payload: { prompt: 'x' } })).statusCode, 503);
  t.notOk('max_model_len' in (await loading.inject({ method: 'GET', url: '/v1/models' })).json().data[0]);
});
