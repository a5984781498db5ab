// Hostile input to the JSON routes (issue 16): a deeply nested body is a 400 before it is parsed,
// on every route; a body with thousands of bad fields, a field name or URL of megabytes, still
// gets an error body under 16 KB; experiment weights that overflow, are infinite or too far apart
// are refused. After each case the server still answers a completion and the admin API.

import t, { type Test } from 'tap';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { ERROR_BODY_BYTES } from '../../plugins/error-bounds.js';
import { MAX_JSON_DEPTH } from '../../plugins/json-body.js';
import { MAX_LISTED_ISSUES, MAX_WEIGHT_RATIO } from '../../src/experiments/experiment.js';
import { ADMIN_TOKEN, buildTestApp, completionBody } from '../helpers/build-app.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
// Strict requests: an unknown field of a megabyte is then an error whose body must stay bounded.
const app = await buildTestApp(t, { adminToken: ADMIN_TOKEN, strictRequests: true });

const raw = (url: string, payload: string, method: 'POST' | 'PUT' = 'POST'): InjectOptions => ({
  method,
  url,
  headers: { ...auth, 'content-type': 'application/json' },
  payload,
});
const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

/** The server still serves: a completion, and the admin API. */
async function stillServes(t: Test, app: FastifyInstance): Promise<void> {
  const completion = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ max_tokens: 2 }) });
  t.equal(completion.statusCode, 200, 'a completion still succeeds');
  t.equal((await app.inject({ method: 'GET', url: '/v1/experiments', headers: auth })).statusCode, 200, 'the admin API still answers');
}

/** An OpenAI-shaped 4xx body of at most ERROR_BODY_BYTES. */
function openAIError(t: Test, res: Awaited<ReturnType<FastifyInstance['inject']>>, status: number, code: string): { message: string; param: string | null } {
  t.equal(res.statusCode, status, `status ${status}: ${res.body.slice(0, 300)}`);
  t.ok(res.rawPayload.length < ERROR_BODY_BYTES, `error body of ${res.rawPayload.length} bytes`);
  const body = res.json();
  t.same(Object.keys(body), ['error']);
  t.match(body.error, { message: String, type: 'invalid_request_error', code });
  return body.error;
}

t.test('a body nested deeper than the limit is a 400 on every JSON route, before it is parsed', async (t) => {
  const routes = [
    ['/v1/completions', (inner: string) => `{"model":"fairspec-test","prompt":"hi","stop":${inner}}`, 'POST'],
    ['/v1/experiments', (inner: string) => `{"id":"deep","arms":${inner}}`, 'POST'],
    ['/v1/drafters/small', (inner: string) => `{"path":${inner}}`, 'PUT'],
  ] as const;
  for (const [url, body, method] of routes) {
    for (const depth of [MAX_JSON_DEPTH, 10_000, 200_000]) {
      const res = await app.inject(raw(url, body(nested(depth)), method));
      const error = openAIError(t, res, 400, 'json_too_deep');
      t.match(error.message, /more than 32 levels deep/, `${url} at depth ${depth + 1}`);
    }
    // At the limit the parser takes it, and validation says what is wrong instead.
    const atLimit = await app.inject(raw(url, body(nested(MAX_JSON_DEPTH - 1)), method));
    t.equal(atLimit.statusCode, 400);
    t.not(atLimit.json().error.code, 'json_too_deep', `${url}: ${MAX_JSON_DEPTH} levels are allowed`);
  }
  const objects = await app.inject(raw('/v1/experiments', `{"id":"deep","arms":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`));
  openAIError(t, objects, 400, 'json_too_deep');
  const inStrings = await app.inject(raw('/v1/drafters/small', JSON.stringify({ path: `${'[{'.repeat(100)} "\\" [` }), 'PUT'));
  t.equal(inStrings.json().error.code, 'path_not_found', 'brackets inside strings do not count');
  await stillServes(t, app);
});

t.test('10,000 bad arms: a 400 listing the first few problems, under 16 KB', async (t) => {
  const arms = Array.from({ length: 10_000 }, (_, i) => ({ name: `bad name ${'x'.repeat(40)}`, weight: 'heavy', [`unknown-${i}`]: true }));
  const res = await app.inject({ method: 'POST', url: '/v1/experiments', headers: auth, payload: { id: 'many', arms } });
  const error = openAIError(t, res, 400, 'invalid_experiment');
  t.equal(error.message.split('; ').length, MAX_LISTED_ISSUES + 1, `${MAX_LISTED_ISSUES} problems, then "and more"`);
  t.match(error.message, /; and more$/);
  t.match(error.message, /^invalid experiment "many": arms: expected array length to be less or equal to 16 \(got \[\{"name":"bad name x+","weight":"heavy","…\); /, 'the value quoted, cut short');
  await stillServes(t, app);
});

t.test('a field name, id or URL of a megabyte still gets an error body under 16 KB', async (t) => {
  const huge = 'k'.repeat(300_000);
  const unknownField = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ [huge]: 1 }) });
  const error = openAIError(t, unknownField, 400, 'unknown_parameter');
  t.ok(error.param !== null && error.param.length <= 200 && error.param.endsWith('…'), 'param cut short');
  const unknownArmField = await app.inject({
    method: 'POST',
    url: '/v1/experiments',
    headers: auth,
    payload: { id: huge, arms: [{ name: 'a', weight: 1, [huge]: 1 }, { name: huge, weight: 1 }] },
  });
  openAIError(t, unknownArmField, 400, 'invalid_experiment');
  const controlCharacters = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ ['\u0001'.repeat(100_000)]: 1 }) });
  openAIError(t, controlCharacters, 400, 'unknown_parameter');
  const url = await app.inject({ method: 'GET', url: `/${'u'.repeat(100_000)}` });
  openAIError(t, url, 404, 'unknown_url');
  await stillServes(t, app);
});

t.test('weights: overflowing, infinite or too far apart are a 400; zero and the ratio bound itself pass', async (t) => {
  const post = (payload: string | object) =>
    typeof payload === 'string'
      ? app.inject(raw('/v1/experiments', payload))
      : app.inject({ method: 'POST', url: '/v1/experiments', headers: auth, payload });
  const arms = (a: number, b: number) => ({ id: 'weights', enabled: false, arms: [{ name: 'a', weight: a }, { name: 'b', weight: b }] });
  const cases: [string | object, string, RegExp][] = [
    [arms(1e308, 1e308), 'arms[0].weight', /arms\[0\]\.weight: expected number to be less or equal to 1000000 \(got 1e\+308\)/],
    ['{"id":"weights","arms":[{"name":"a","weight":1e999},{"name":"b","weight":1}]}', 'arms[0].weight', /\(got Infinity\)/],
    ['{"id":"weights","arms":[{"name":"a","weight":1},{"name":"b","weight":-1e999}]}', 'arms[1].weight', /\(got -Infinity\)/],
    [arms(1, MAX_WEIGHT_RATIO * 1.5), 'arms', /at most 10000 times the smallest non-zero one \(got \[1,15000\]\)/],
    [arms(1e-300, 1), 'arms', /at most 10000 times/],
  ];
  for (const [payload, param, message] of cases) {
    const error = openAIError(t, await post(payload), 400, 'invalid_experiment');
    t.equal(error.param, param);
    t.match(error.message, message);
  }
  const ok = await post({ ...arms(1, MAX_WEIGHT_RATIO), arms: [...arms(1, MAX_WEIGHT_RATIO).arms, { name: 'off', weight: 0 }] });
  t.equal(ok.statusCode, 201, `weights 1, ${MAX_WEIGHT_RATIO} and 0: ${ok.body}`);
  await stillServes(t, app);
});
