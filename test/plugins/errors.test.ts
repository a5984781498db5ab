// Every bad input gets a 4xx in OpenAI's error shape naming the problem, and the server goes
// on serving: each case is followed by a good completion. Strict requests, so that a typo is one
// (by default unknown fields are ignored: completions-extras.test.ts).

import t from 'tap';
import type { InjectOptions } from 'fastify';
import { buildTestApp, completionBody } from '../helpers/build-app.js';

const app = await buildTestApp(t, { maxTokens: 40, maxN: 4, bodyLimit: 2048, strictRequests: true });

const json = (payload: unknown): InjectOptions => ({ method: 'POST', url: '/v1/completions', payload: payload as InjectOptions['payload'] });
const raw = (payload: string | Buffer, contentType = 'application/json'): InjectOptions => ({
  method: 'POST',
  url: '/v1/completions',
  headers: { 'content-type': contentType },
  payload,
});

interface Case {
  name: string;
  request: InjectOptions;
  status: number;
  code: string | null;
  param?: string | null;
  message?: RegExp;
}

const cases: Case[] = [
  { name: 'invalid JSON', request: raw('{"model": "x", '), status: 400, code: 'invalid_json', param: null },
  { name: 'empty JSON body', request: raw(''), status: 400, code: 'invalid_json' },
  { name: 'prototype poisoning', request: raw('{"model":"m","prompt":"a","__proto__":{"x":1}}'), status: 400, code: 'invalid_json' },
  {
    name: 'invalid UTF-8 bytes',
    request: raw(Buffer.concat([Buffer.from('{"model":"fairspec-test","prompt":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])),
    status: 400,
    code: 'invalid_utf8',
    message: /not valid UTF-8/,
  },
  {
    name: 'a lone surrogate escape',
    request: raw('{"model":"fairspec-test","prompt":"abc\\ud800"}'),
    status: 400,
    code: 'invalid_utf8',
    param: 'prompt',
  },
  { name: 'body is not an object', request: raw('[1, 2]'), status: 400, code: 'invalid_type', param: null },
  { name: 'wrong type: max_tokens as a string', request: json(completionBody({ max_tokens: '8' })), status: 400, code: 'invalid_type', param: 'max_tokens' },
  { name: 'wrong type: prompt as a number', request: json(completionBody({ prompt: 5 })), status: 400, code: 'invalid_type', param: 'prompt' },
  { name: 'wrong type: prompt array of strings and numbers', request: json(completionBody({ prompt: ['a', 2] })), status: 400, code: 'invalid_type', param: 'prompt' },
  { name: 'wrong type: stream as a string', request: json(completionBody({ stream: 'yes' })), status: 400, code: 'invalid_type', param: 'stream' },
  { name: 'wrong type: n fractional', request: json(completionBody({ n: 1.5 })), status: 400, code: 'invalid_type', param: 'n' },
  { name: 'missing model', request: json({ prompt: 'hello' }), status: 400, code: 'missing_required_parameter', param: 'model' },
  { name: 'missing prompt', request: json({ model: 'fairspec-test' }), status: 400, code: 'missing_required_parameter', param: 'prompt' },
  { name: 'unknown parameter (a typo)', request: json(completionBody({ temperatur: 0.5 })), status: 400, code: 'unknown_parameter', param: 'temperatur' },
  { name: 'best_of other than n', request: json(completionBody({ best_of: 2 })), status: 400, code: 'invalid_value', param: 'best_of' },
  { name: 'unknown model', request: json(completionBody({ model: 'gpt-4' })), status: 404, code: 'model_not_found', param: 'model' },
  { name: 'n below range', request: json(completionBody({ n: 0 })), status: 400, code: 'invalid_value', param: 'n' },
  { name: 'n above the server limit', request: json(completionBody({ n: 5 })), status: 400, code: 'invalid_value', param: 'n', message: /at most 4/ },
  { name: 'max_tokens below range', request: json(completionBody({ max_tokens: 0 })), status: 400, code: 'invalid_value', param: 'max_tokens' },
  {
    name: 'max_tokens above the server limit',
    request: json(completionBody({ max_tokens: 41 })),
    status: 400,
    code: 'invalid_value',
    param: 'max_tokens',
    message: /at most 40/,
  },
  { name: 'temperature above 2', request: json(completionBody({ temperature: 2.5 })), status: 400, code: 'invalid_value', param: 'temperature' },
  { name: 'top_p of 0', request: json(completionBody({ top_p: 0 })), status: 400, code: 'invalid_value', param: 'top_p' },
  { name: 'negative top_k', request: json(completionBody({ top_k: -1 })), status: 400, code: 'invalid_value', param: 'top_k' },
  { name: 'too many stop sequences', request: json(completionBody({ stop: ['a', 'b', 'c', 'd', 'e'] })), status: 400, code: 'invalid_value', param: 'stop' },
  { name: 'empty prompt', request: json(completionBody({ prompt: '' })), status: 400, code: 'empty_prompt', param: 'prompt' },
  { name: 'empty prompt in an array', request: json(completionBody({ prompt: ['hello', ''] })), status: 400, code: 'empty_prompt', param: 'prompt' },
  { name: 'empty prompt array', request: json(completionBody({ prompt: [] })), status: 400, code: 'invalid_value', param: 'prompt' },
  {
    name: 'prompt longer than the context',
    request: json(completionBody({ prompt: 'a'.repeat(70), max_tokens: 1 })),
    status: 400,
    code: 'context_length_exceeded',
    param: 'prompt',
    message: /maximum context length is 64 tokens/,
  },
  {
    name: 'prompt plus max_tokens longer than the context',
    request: json(completionBody({ prompt: 'a'.repeat(40), max_tokens: 30 })),
    status: 400,
    code: 'context_length_exceeded',
    param: 'prompt',
  },
  {
    name: 'unknown drafter',
    request: json(completionBody({ speculative: { drafter: 'nope' } })),
    status: 400,
    code: 'unknown_drafter',
    param: 'speculative.drafter',
  },
  {
    name: 'draft length above the limit',
    request: json(completionBody({ speculative: { draft_length: 33 } })),
    status: 400,
    code: 'invalid_value',
    param: 'speculative.draft_length',
  },
  {
    name: 'unknown speculative field',
    request: json(completionBody({ speculative: { gamma: 3 } })),
    status: 400,
    code: 'unknown_parameter',
    param: 'speculative.gamma',
  },
  { name: 'unsupported: suffix', request: json(completionBody({ suffix: 'x' })), status: 400, code: 'invalid_value', param: 'suffix', message: /not supported/ },
  { name: 'a penalty above 2', request: json(completionBody({ frequency_penalty: 2.5 })), status: 400, code: 'invalid_value', param: 'frequency_penalty' },
  { name: 'a token id outside the vocabulary', request: json(completionBody({ prompt: [50, 1_000_000] })), status: 400, code: 'invalid_token', param: 'prompt' },
  { name: 'a logit_bias key that is not a token', request: json(completionBody({ logit_bias: { '1000000': 10 } })), status: 400, code: 'invalid_token', param: 'logit_bias' },
  { name: 'malformed language', request: json(completionBody({ language: 'English!' })), status: 400, code: 'invalid_value', param: 'language' },
  {
    name: 'stream_options without stream',
    request: json(completionBody({ stream_options: { include_usage: true } })),
    status: 400,
    code: 'invalid_value',
    param: 'stream_options',
  },
  {
    name: 'a bad streaming request still gets a JSON error, not a stream',
    request: json(completionBody({ stream: true, max_tokens: -3 })),
    status: 400,
    code: 'invalid_value',
    param: 'max_tokens',
  },
  { name: 'oversized body', request: json(completionBody({ prompt: 'x'.repeat(4096) })), status: 413, code: 'request_too_large' },
  { name: 'wrong content type', request: raw('model=x', 'application/x-www-form-urlencoded'), status: 415, code: 'unsupported_media_type' },
  { name: 'unknown URL', request: { method: 'POST', url: '/v1/chat/completion' }, status: 404, code: 'unknown_url' },
  { name: 'unknown model in GET /v1/models/:model', request: { method: 'GET', url: '/v1/models/gpt-4' }, status: 404, code: 'model_not_found' },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const res = await app.inject(c.request);
    t.equal(res.statusCode, c.status, 'status');
    t.match(res.headers['content-type'], /^application\/json/);
    const body = res.json();
    t.match(body, { error: { message: String, type: String } }, "OpenAI's error shape");
    t.same(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    t.equal(body.error.code, c.code, 'code');
    t.equal(body.error.type, c.status === 429 ? 'rate_limit_error' : 'invalid_request_error');
    if (c.param !== undefined) t.equal(body.error.param, c.param, 'param');
    if (c.message) t.match(body.error.message, c.message);

    const after = await app.inject(json(completionBody({ max_tokens: 2 })));
    t.equal(after.statusCode, 200, 'the server keeps serving');
  });
}
