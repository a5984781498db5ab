// Issue 16: no input the schema admits gets a 5xx. Each edge of the numeric parameters (and a
// few of the strings) is sent as JSON and as a stream; a stream always ends with [DONE]. A
// temperature of 5e-324 once made softmax NaN and answered 500.

import t from 'tap';
import { buildTestApp, completionBody, parseSse } from '../helpers/build-app.js';

const app = await buildTestApp(t, { maxN: 128, maxTokens: 1_000_000 });

const EDGES: Array<Record<string, unknown>> = [
  { temperature: 5e-324 },
  { temperature: 1e-310, top_p: 0.5 },
  { temperature: 5e-324, top_k: 3 },
  { temperature: 5e-324, speculative: { drafter: 'small', draft_length: 32 } },
  { temperature: 1e-300 },
  { temperature: -0 },
  { temperature: 2, top_p: 5e-324 },
  { temperature: 2, top_k: 1 },
  { temperature: 1, top_k: 1e300 },
  { temperature: 1, top_k: 9007199254740991 },
  { temperature: 1, seed: 4294967295, n: 128, max_tokens: 1 },
  { temperature: 1, seed: 0 },
  { max_tokens: 1e300 },
  { max_tokens: 1_000_000 },
  { n: 128, max_tokens: 1 },
  { prompt: Array.from({ length: 64 }, () => 'a'), max_tokens: 1 },
  { speculative: { drafter: 'small', draft_length: 32 } },
  { speculative: { drafter: null, draft_length: 32 } },
  { speculative: { drafter: 'small', draft_length: 0 } },
  { prompt: '<|endoftext|>' },
  { prompt: '\u0000' },
  { prompt: ' ' },
  { prompt: 'x'.repeat(63), max_tokens: 1 },
  { stop: ['s'.repeat(257)] },
  { stop: ['s'.repeat(256), 'a', 'b', 'c'] },
  { frequency_penalty: -0, presence_penalty: 0, logit_bias: {} },
  { logit_bias: { '1': 1e300 } },
  { best_of: 128 },
];

t.test('every edge is served or refused with a 4xx; streams end with [DONE]', async (t) => {
  for (const edge of EDGES) {
    for (const stream of [false, true]) {
      const what = `${JSON.stringify(edge).slice(0, 80)} stream: ${stream}`;
      const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ ...edge, stream }) });
      t.ok(res.statusCode < 500, `${what}: ${res.statusCode}`);
      if (res.statusCode >= 400) {
        t.match(res.json(), { error: { type: 'invalid_request_error', code: String, message: String } }, `${what}: OpenAI's error shape`);
      } else if (stream) {
        const events = parseSse(res.body);
        t.equal(events.at(-1), '[DONE]', `${what}: ends with [DONE]`);
        t.notOk(events.some((e) => typeof e === 'object' && e !== null && 'error' in e), `${what}: no error event`);
      } else {
        t.ok(res.json().choices.length >= 1, what);
      }
    }
  }
  const after = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody() });
  t.equal(after.statusCode, 200, 'the server still serves');
});

t.test('the smallest positive temperature samples the argmax: greedy output', async (t) => {
  for (const prompt of ['The quick brown fox', 'Le renard brun']) {
    const greedy = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt, max_tokens: 12, temperature: 0 }) });
    const tiny = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt, max_tokens: 12, temperature: 5e-324, seed: 7 }) });
    t.equal(tiny.statusCode, 200);
    t.equal(tiny.json().choices[0].text, greedy.json().choices[0].text, prompt);
  }
});

t.test('a stop sequence longer than 256 characters is refused naming it', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ stop: ['s'.repeat(257)] }) });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { error: { code: 'invalid_value', param: 'stop', message: /at most 256 characters, got 257/ } });
});
