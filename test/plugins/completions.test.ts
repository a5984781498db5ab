import t from 'tap';
import { buildTestApp, completionBody, MODEL, parseSse } from '../helpers/build-app.js';

const app = await buildTestApp(t);

const complete = async (overrides: Record<string, unknown> = {}) => {
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody(overrides) });
  return { status: res.statusCode, headers: res.headers, body: res.json() };
};

t.test('a completion has OpenAI\'s shape plus speculative stats', async (t) => {
  const { status, headers, body } = await complete({ prompt: 'The weather today is', max_tokens: 6 });
  t.equal(status, 200);
  t.match(headers['content-type'], /^application\/json/);
  t.match(body, {
    id: /^cmpl-[0-9a-f]{32}$/,
    object: 'text_completion',
    created: Number,
    model: MODEL,
    choices: [{ text: String, index: 0, logprobs: null, finish_reason: /^(stop|length)$/ }],
    usage: { prompt_tokens: 20, completion_tokens: Number, total_tokens: Number },
  });
  t.equal(body.choices.length, 1);
  t.ok(body.usage.completion_tokens >= 1 && body.usage.completion_tokens <= 6);
  t.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  t.match(body.speculative, {
    language: 'en',
    language_confidence: Number,
    drafter: String,
    draft_length: Number,
    drafts: Number,
    drafted: Number,
    accepted: Number,
    verifier_steps: Number,
    draft_ms: Number,
    verify_ms: Number,
  });
  t.ok(body.speculative.accepted <= body.speculative.drafted);
  t.same(body.choices[0].speculative, body.speculative, 'one choice: the aggregate is that choice');
});

t.test('greedy output is the same with and without drafting (lossless)', async (t) => {
  const prompt = 'Once upon a time';
  const plain = await complete({ prompt, max_tokens: 12, speculative: { draft_length: 0 } });
  const drafted = await complete({ prompt, max_tokens: 12, speculative: { drafter: 'small', draft_length: 3 } });
  t.equal(plain.status, 200);
  t.equal(drafted.status, 200);
  t.equal(drafted.body.choices[0].text, plain.body.choices[0].text);
  t.equal(plain.body.speculative.drafted, 0);
  t.equal(plain.body.speculative.acceptance_rate, null, 'no drafts: no acceptance rate');
  t.equal(plain.body.speculative.mean_accepted_length, null);
  t.equal(drafted.body.speculative.drafter, 'small');
  t.equal(drafted.body.speculative.draft_length, 3);
});

t.test('a seed repeats a sampled completion exactly', async (t) => {
  const body = { prompt: 'Bonjour tout le monde', temperature: 1, top_p: 0.9, top_k: 50, seed: 1234, max_tokens: 10 };
  const a = await complete(body);
  const b = await complete(body);
  t.equal(a.status, 200);
  t.equal(a.body.choices[0].text, b.body.choices[0].text);
  t.equal(a.body.usage.completion_tokens, b.body.usage.completion_tokens);
});

t.test('prompt arrays and n: choices indexed promptIndex * n + j, usage and stats aggregated', async (t) => {
  const { status, body } = await complete({
    prompt: ['Guten Morgen, wie geht es', 'Good morning, how are you'],
    n: 2,
    temperature: 1,
    seed: 7,
    max_tokens: 5,
  });
  t.equal(status, 200);
  t.same(
    body.choices.map((c: { index: number }) => c.index),
    [0, 1, 2, 3],
  );
  t.equal(body.choices[0].speculative.language, 'de');
  t.equal(body.choices[2].speculative.language, 'en');
  t.equal(body.speculative.language, 'mixed');
  const sum = (key: string) => body.choices.reduce((acc: number, c: { speculative: Record<string, number> }) => acc + c.speculative[key]!, 0);
  t.equal(body.speculative.drafted, sum('drafted'));
  t.equal(body.speculative.accepted, sum('accepted'));
  t.equal(body.speculative.verifier_steps, sum('verifier_steps'));
  t.equal(body.usage.prompt_tokens, 25 + 25, 'each prompt counted once, not once per choice');
});

t.test('language pin and speculative overrides', async (t) => {
  const pinned = await complete({ language: 'fr', speculative: { drafter: null } });
  t.equal(pinned.status, 200);
  t.equal(pinned.body.speculative.language, 'fr');
  t.equal(pinned.body.speculative.language_confidence, 1);
  t.equal(pinned.body.speculative.drafter, null);
  t.equal(pinned.body.speculative.drafted, 0);
});

t.test("OpenAI parameters at their neutral values are accepted (clients that always send them)", async (t) => {
  const res = await complete({
    n: 1,
    best_of: 1,
    echo: false,
    suffix: null,
    logprobs: null,
    frequency_penalty: 0,
    presence_penalty: 0,
    logit_bias: {},
    top_p: 1,
    stop: null,
    seed: null,
    stream: false,
    user: 'user-1234',
  });
  t.equal(res.status, 200);
});

t.test('stop accepts a string or a list', async (t) => {
  t.equal((await complete({ stop: 'x' })).status, 200);
  t.equal((await complete({ stop: ['x', 'yz'] })).status, 200);
});

t.test('streaming: OpenAI-shaped chunks, the same text as JSON, then [DONE]', async (t) => {
  const body = completionBody({ prompt: 'It was a dark and stormy', max_tokens: 10 });
  const json = (await app.inject({ method: 'POST', url: '/v1/completions', payload: body })).json();
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: { ...body, stream: true } });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/event-stream/);
  const events = parseSse(res.body);
  t.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1) as Array<{ id: string; choices: Array<{ text: string; finish_reason: string | null }> }>;
  t.ok(chunks.length >= 2);
  for (const c of chunks) {
    t.match(c, { id: /^cmpl-/, object: 'text_completion', model: MODEL, created: Number });
    t.notOk('usage' in c, 'no usage key without include_usage');
  }
  t.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id per stream');
  t.equal(chunks.map((c) => c.choices[0]!.text).join(''), json.choices[0].text);
  const last = chunks.at(-1)!.choices[0]!;
  t.equal(last.finish_reason, json.choices[0].finish_reason);
  t.match(last, { speculative: { drafted: json.speculative.drafted } });
});

t.test('streaming with include_usage: usage: null on chunks, then a usage chunk', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/completions',
    payload: completionBody({ stream: true, stream_options: { include_usage: true }, n: 2, temperature: 1, seed: 3 }),
  });
  t.equal(res.statusCode, 200);
  const events = parseSse(res.body);
  t.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1) as Array<Record<string, any>>;
  const usageChunk = chunks.at(-1)!;
  t.same(usageChunk.choices, []);
  t.match(usageChunk.usage, { prompt_tokens: 19, completion_tokens: Number, total_tokens: Number });
  t.match(usageChunk.speculative, { language: 'en', drafted: Number });
  for (const c of chunks.slice(0, -1)) t.equal(c.usage, null);
  const finishes = chunks.flatMap((c) => c.choices).filter((c: { finish_reason: unknown }) => c.finish_reason !== null);
  // Each choice finishes once; which finishes first depends on its tokens.
  t.same(finishes.map((c: { index: number }) => c.index).sort(), [0, 1]);
});
