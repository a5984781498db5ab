// /v1/completions as eval harnesses use it (issue 17), on the shipped pack: token-id prompts give
// the output of the same text, `echo` and `logprobs` in OpenAI's legacy shape, the penalties,
// logit_bias and vLLM's extras are served; fields the API does not have are ignored with a logged
// warning (FAIRSPEC_STRICT_REQUESTS=1: a 400); an out-of-vocabulary token id and a logit_bias key
// that is not a token are a 400 in OpenAI's error shape.

import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { buildDefaultPackApp, MODEL, parseSse } from '../helpers/build-app.js';

const logs: Array<Record<string, unknown>> = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
const app = await buildDefaultPackApp(t, {}, { logger: { level: 'warn', stream: logStream } });

/**
 * Log-probabilities of two runs agree to 1e-4 (the acceptance bound): passes of other shapes
 * (batch rows, draft widths) sum in another order, which moves the sixth decimal.
 */
function sameLogprobs(t: Test, a: Array<number | null>, b: Array<number | null>, message: string): void {
  const close = a.length === b.length && a.every((x, i) => (x === null ? b[i] === null : b[i] !== null && Math.abs(x - b[i]!) <= 1e-4));
  t.ok(close, message, { found: a, wanted: b });
}

const complete = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, temperature: 0, max_tokens: 8, ...payload } });
const ids = (text: string) => [...Buffer.from(text)]; // the shipped tokenizer: one token per byte

t.test('token-id prompts give the output of the same text, one list or several', async (t) => {
  const texts = ['To install the package, run', 'Die Konfigurationsdatei enthält'];
  const byText = (await complete({ prompt: texts })).json();
  const byIds = (await complete({ prompt: texts.map(ids) })).json();
  t.same(byIds.choices.map((c: { text: string }) => c.text), byText.choices.map((c: { text: string }) => c.text));
  t.same(byIds.usage, byText.usage);
  t.same(
    byIds.choices.map((c: { speculative: { language: string } }) => c.speculative.language),
    ['en', 'de'],
    'detected on the decoded text',
  );
  const one = (await complete({ prompt: ids(texts[0]!) })).json();
  t.equal(one.choices[0].text, byText.choices[0].text, 'one list of ids');
});

t.test('echo: the prompt, then the completion', async (t) => {
  const plain = (await complete({ prompt: 'The configuration file ' })).json().choices[0].text;
  const echoed = (await complete({ prompt: 'The configuration file ', echo: true })).json().choices[0].text;
  t.equal(echoed, `The configuration file ${plain}`);
  const fromIds = (await complete({ prompt: ids('The configuration file '), echo: true })).json().choices[0].text;
  t.equal(fromIds, echoed, 'token ids echo as their text');
  const streamed = parseSse((await complete({ prompt: 'The configuration file ', echo: true, stream: true })).body).slice(0, -1) as Array<{ choices: Array<{ text: string }> }>;
  t.equal(streamed.flatMap((c) => c.choices.map((choice) => choice.text)).join(''), echoed, 'streamed: the prompt first');
});

t.test("logprobs: OpenAI's legacy shape, the token itself among the top, offsets into the text", async (t) => {
  const body = (await complete({ prompt: 'To install the package, run', logprobs: 2 })).json();
  const { text, logprobs } = body.choices[0];
  t.equal(logprobs.tokens.length, 8);
  t.equal(logprobs.tokens.join(''), text);
  t.ok(logprobs.token_logprobs.every((l: number) => l <= 0));
  for (const [i, top] of (logprobs.top_logprobs as Array<Record<string, number>>).entries()) {
    t.ok(Object.keys(top).length >= 2 && top[logprobs.tokens[i]] === logprobs.token_logprobs[i], `token ${i} in its top_logprobs`);
  }
  t.same(logprobs.text_offset, [0, 1, 2, 3, 4, 5, 6, 7]);
  const zero = (await complete({ prompt: 'To install the package, run', logprobs: 0 })).json().choices[0].logprobs;
  sameLogprobs(t, zero.token_logprobs, logprobs.token_logprobs, 'logprobs: 0 still gives each token its own');
});

t.test('echo with logprobs: the prompt is scored too, its first token null (loglikelihood scoring)', async (t) => {
  const prompt = 'Click Save to keep your changes.';
  const body = (await complete({ prompt, echo: true, logprobs: 1, max_tokens: 1 })).json();
  const { text, logprobs } = body.choices[0];
  t.equal(logprobs.tokens.length, prompt.length + 1);
  t.equal(logprobs.token_logprobs[0], null);
  t.equal(logprobs.top_logprobs[0], null);
  t.ok(logprobs.token_logprobs.slice(1).every((l: number) => l <= 0));
  t.equal(logprobs.tokens.join(''), text);
  t.equal(logprobs.text_offset.at(-1), prompt.length, 'the completion starts where the prompt ends');
  const streamed = parseSse((await complete({ prompt, echo: true, logprobs: 1, max_tokens: 1, stream: true })).body).slice(0, -1) as Array<{
    choices: Array<{ logprobs: { token_logprobs: Array<number | null>; text_offset: number[] } | null }>;
  }>;
  const parts = streamed.flatMap((c) => c.choices.flatMap((choice) => (choice.logprobs ? [choice.logprobs] : [])));
  sameLogprobs(t, parts.flatMap((p) => p.token_logprobs), logprobs.token_logprobs, 'streamed: the same numbers');
  t.same(parts.flatMap((p) => p.text_offset), logprobs.text_offset, 'streamed: offsets go on across chunks');
});

t.test('penalties, logit_bias and vLLM\'s extras are served and change the output', async (t) => {
  const prompt = 'Click Save to keep your changes. Click Save to';
  const plain = (await complete({ prompt, max_tokens: 24 })).json().choices[0].text;
  for (const extra of [{ presence_penalty: 2 }, { frequency_penalty: 2 }, { repetition_penalty: 1.8 }, { logit_bias: { '32': -100 } }]) {
    const res = await complete({ prompt, max_tokens: 24, ...extra });
    t.equal(res.statusCode, 200, JSON.stringify(extra));
    t.not(res.json().choices[0].text, plain, `${JSON.stringify(extra)} changes the greedy output`);
  }
  t.notMatch((await complete({ prompt, max_tokens: 24, logit_bias: { '32': -100 } })).json().choices[0].text, / /, 'a banned space never appears');
  const eos = 256;
  const short = (await complete({ prompt, logit_bias: { [eos]: 100 }, min_tokens: 3 })).json();
  t.same([short.usage.completion_tokens, short.choices[0].finish_reason], [4, 'stop'], 'eos right after min_tokens (eos counted)');
  const ignoring = (await complete({ prompt, logit_bias: { [eos]: 100 }, ignore_eos: true })).json();
  t.same([ignoring.usage.completion_tokens, ignoring.choices[0].finish_reason], [8, 'length'], 'ignore_eos: on to max_tokens');
  const sampled = await complete({ prompt, temperature: 0.9, seed: 2, top_k: 40, min_p: 0.05, best_of: 1, use_beam_search: false });
  t.equal(sampled.statusCode, 200, "vLLM's request fields, known or not");
});

t.test('unknown fields: ignored with one warning naming them; strict: a 400', async (t) => {
  logs.length = 0;
  const res = await complete({ prompt: 'Hello', temperatur: 0.5, [`x${'k'.repeat(300)}`]: 1 });
  t.equal(res.statusCode, 200);
  const warning = logs.find((l) => l['msg'] === 'request fields this API does not have were ignored');
  t.ok(warning, 'logged');
  t.match(warning, { level: 40, count: 2 });
  t.equal((warning!['fields'] as string[])[0], 'temperatur');
  t.ok((warning!['fields'] as string[])[1]!.length < 70, 'a long name is cut short in the log');

  const strict = await buildDefaultPackApp(t, { strictRequests: true });
  const refused = await strict.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: 'Hello', temperatur: 0.5 } });
  t.equal(refused.statusCode, 400);
  t.match(refused.json(), { error: { code: 'unknown_parameter', param: 'temperatur', message: /Unrecognized request argument supplied: 'temperatur'/ } });
});

const bad: Array<[name: string, payload: Record<string, unknown>, code: string, param: string]> = [
  ['a token id outside the vocabulary', { prompt: [84, 104, 257] }, 'invalid_token', 'prompt'],
  ['one in the second of several lists', { prompt: [[84], [104, 100000]] }, 'invalid_token', 'prompt'],
  ['a negative token id', { prompt: [84, -1] }, 'invalid_value', 'prompt'],
  ['a fractional token id', { prompt: [84, 1.5] }, 'invalid_type', 'prompt'],
  ['an empty list of ids', { prompt: [[]] }, 'invalid_value', 'prompt'],
  ['token ids longer than the context', { prompt: new Array(510).fill(65), max_tokens: 8 }, 'context_length_exceeded', 'prompt'],
  ['a logit_bias key beyond the vocabulary', { prompt: 'x', logit_bias: { '257': 1 } }, 'invalid_token', 'logit_bias'],
  ['a logit_bias key that is not a number', { prompt: 'x', logit_bias: { hello: 1 } }, 'invalid_token', 'logit_bias'],
  ['a logit_bias key that is not an integer', { prompt: 'x', logit_bias: { '1.5': 1 } }, 'invalid_token', 'logit_bias'],
  ['a logit_bias value beyond 100', { prompt: 'x', logit_bias: { '65': 101 } }, 'invalid_value', 'logit_bias'],
  ['logprobs above 20', { prompt: 'x', logprobs: 21 }, 'invalid_value', 'logprobs'],
  ['a repetition_penalty of 0', { prompt: 'x', repetition_penalty: 0 }, 'invalid_value', 'repetition_penalty'],
  ['min_p above 1', { prompt: 'x', min_p: 1.5 }, 'invalid_value', 'min_p'],
  ['min_tokens above max_tokens', { prompt: 'x', min_tokens: 9 }, 'invalid_value', 'min_tokens'],
];

t.test("bad input: a 400 in OpenAI's error shape naming the field", async (t) => {
  for (const [name, payload, code, param] of bad) {
    const res = await complete(payload);
    t.equal(res.statusCode, 400, name);
    t.match(res.json(), { error: { message: String, type: 'invalid_request_error', code, param } }, name);
  }
});
