// The experiments admin API and experiment traffic on the fixture pack: the bearer token, create /
// list / read-out / delete and their errors, sticky assignment across app instances and restarts,
// the per-arm per-language read-out after traffic, and the `arm` label staying bounded.

import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { assignArm } from '../../src/experiments/assignment.js';
import { parseExperiment } from '../../src/experiments/experiment.js';
import { ADMIN_TOKEN, buildTestApp, completionBody, parseSse, sample, withoutModelName } from '../helpers/build-app.js';

const EXPERIMENT = {
  id: 'drafters',
  description: 'plain decoding against the small drafter',
  arms: [
    { name: 'plain', drafter: null, weight: 1 },
    { name: 'small', drafter: 'small', weight: 1 },
  ],
};
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const ROUTES = [
  { method: 'POST', url: '/v1/experiments', payload: { ...EXPERIMENT, id: 'other-one' } },
  { method: 'GET', url: '/v1/experiments' },
  { method: 'GET', url: '/v1/experiments/drafters' },
  { method: 'DELETE', url: '/v1/experiments/drafters' },
] as const;

/** Users that the experiment assigns to `arm`, computed the way the server does. */
function usersIn(arm: string, count: number, prefix = 'user'): string[] {
  const experiment = parseExperiment(EXPERIMENT);
  const users: string[] = [];
  for (let i = 0; users.length < count; i++) if (assignArm(experiment, `${prefix}-${i}`).name === arm) users.push(`${prefix}-${i}`);
  return users;
}

async function complete(app: FastifyInstance, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ max_tokens: 8, ...body }), headers });
  if (res.statusCode !== 200) throw new Error(`completion failed: ${res.body}`);
  return res.json().speculative as { experiment?: string; arm?: string; drafter: string | null; language: string };
}

t.test('the admin API needs the bearer token: 401 in OpenAI error shape without it or with a wrong one', async (t) => {
  const app = await buildTestApp(t, { adminToken: ADMIN_TOKEN, experiments: [parseExperiment(EXPERIMENT)] });
  for (const route of ROUTES) {
    for (const [headers, message] of [
      [{}, /didn't provide an admin token/],
      [{ authorization: 'Bearer wrong-token-0123456789' }, /Incorrect admin token/],
      [{ authorization: `Bearer ${ADMIN_TOKEN}x` }, /Incorrect admin token/],
      [{ authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` }, /didn't provide/],
    ] as const) {
      const res = await app.inject({ ...route, headers });
      t.equal(res.statusCode, 401, `${route.method} ${route.url} with ${JSON.stringify(headers)}`);
      t.same(res.json(), { error: { message: res.json().error.message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
      t.match(res.json().error.message, message);
      t.equal(res.headers['www-authenticate'], 'Bearer realm="fairspec admin"');
    }
  }
  const garbage = await app.inject({ method: 'POST', url: '/v1/experiments', payload: '{"id":', headers: { 'content-type': 'application/json' } });
  t.equal(garbage.statusCode, 401, 'authentication comes before the body is even parsed');
  t.equal((await app.inject({ method: 'GET', url: '/v1/experiments', headers: auth })).statusCode, 200, 'the right token');
  t.equal((await app.inject({ method: 'GET', url: '/v1/experiments', headers: { authorization: `bearer ${ADMIN_TOKEN}` } })).statusCode, 200);
});

t.test('without FAIRSPEC_ADMIN_TOKEN the admin API is disabled (403), experiments from config still run', async (t) => {
  const app = await buildTestApp(t, { experiments: [parseExperiment(EXPERIMENT)] });
  for (const route of ROUTES) {
    const res = await app.inject({ ...route, headers: auth });
    t.equal(res.statusCode, 403, `${route.method} ${route.url}`);
    t.equal(res.json().error.code, 'admin_api_disabled');
    t.match(res.json().error.message, /set FAIRSPEC_ADMIN_TOKEN/);
  }
  t.equal((await complete(app, { user: 'someone' })).experiment, 'drafters');
});

t.test('create, list, read out, delete', async (t) => {
  const app = await buildTestApp(t, { adminToken: ADMIN_TOKEN });
  t.same((await app.inject({ method: 'GET', url: '/v1/experiments', headers: auth })).json(), { object: 'list', data: [] });

  const created = await app.inject({ method: 'POST', url: '/v1/experiments', headers: auth, payload: EXPERIMENT });
  t.equal(created.statusCode, 201);
  const view = created.json();
  t.match(view, { id: 'drafters', object: 'experiment', salt: 'drafters', description: EXPERIMENT.description, enabled: true });
  t.same(view.arms, EXPERIMENT.arms, 'drafter null is kept (plain decoding), not dropped');
  t.ok(!Number.isNaN(Date.parse(view.created_at)));
  const second = { id: 'policies', enabled: false, arms: [{ name: 'static', policy: 'static', weight: 3 }, { name: 'adaptive', policy: 'adaptive', weight: 1 }] };
  t.equal((await app.inject({ method: 'POST', url: '/v1/experiments', headers: auth, payload: second })).statusCode, 201);
  const list = (await app.inject({ method: 'GET', url: '/v1/experiments', headers: auth })).json();
  t.same(list.data.map((e: { id: string }) => e.id), ['drafters', 'policies']);
  t.same(list.data[1].arms[0], { name: 'static', policy: 'static', weight: 3 }, 'an absent drafter stays absent: the policy picks');

  const summary = await app.inject({ method: 'GET', url: '/v1/experiments/drafters', headers: auth });
  t.equal(summary.statusCode, 200);
  t.match(summary.json(), { id: 'drafters', control: 'plain', confidence: 0.95, languages: [], comparisons: [] });
  t.same(summary.json().arms.map((a: { name: string; share: number; requests: number }) => [a.name, a.share, a.requests]), [['plain', 0.5, 0], ['small', 0.5, 0]]);

  const deleted = await app.inject({ method: 'DELETE', url: '/v1/experiments/drafters', headers: auth });
  t.same(deleted.json(), { id: 'drafters', object: 'experiment', deleted: true });
  for (const method of ['GET', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/v1/experiments/drafters', headers: auth });
    t.equal(res.statusCode, 404);
    t.same(res.json().error, { message: "No experiment 'drafters'.", type: 'invalid_request_error', param: 'id', code: 'experiment_not_found' });
  }
  t.notOk((await complete(app, { user: 'u' })).experiment, 'a deleted experiment assigns nobody');
});

t.test('invalid experiments: 400 naming the field; 409 for a taken id, a second enabled one, a full registry', async (t) => {
  const app = await buildTestApp(t, { adminToken: ADMIN_TOKEN });
  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/experiments', headers: auth, payload: payload as object });
  const bad: [unknown, string, RegExp][] = [
    [{ ...EXPERIMENT, arms: [EXPERIMENT.arms[0], { name: 'small', drafter: 'small', weight: -1 }] }, 'arms[1].weight', /arms\[1\]\.weight: .*greater or equal to 0 \(got -1\)/],
    [{ ...EXPERIMENT, arms: [EXPERIMENT.arms[0], { name: 'big', drafter: 'big', weight: 1 }] }, 'arms[1].drafter', /not a drafter of the model pack \(nopos, small\)/],
    [{ ...EXPERIMENT, arms: [EXPERIMENT.arms[0], { ...EXPERIMENT.arms[0] }] }, 'arms[1].name', /already the name of an earlier arm/],
    [{ ...EXPERIMENT, arms: [EXPERIMENT.arms[0], { name: 'none', weight: 1 }] }, 'arms[1].name', /reserved/],
    [{ ...EXPERIMENT, arms: [EXPERIMENT.arms[0]] }, 'arms', /arms/],
    [{ id: 'x' }, 'arms', /arms/],
    [{ ...EXPERIMENT, id: 'has space' }, 'id', /1-64 letters/],
    [{ ...EXPERIMENT, colour: 'blue' }, 'colour', /not a known field/],
    [[EXPERIMENT], '', /invalid experiment/],
  ];
  for (const [payload, param, message] of bad) {
    const res = await post(payload);
    t.equal(res.statusCode, 400, param);
    t.equal(res.json().error.param, param);
    t.equal(res.json().error.code, 'invalid_experiment');
    t.match(res.json().error.message, message);
  }
  t.equal((await post(EXPERIMENT)).statusCode, 201);
  const taken = await post(EXPERIMENT);
  t.same([taken.statusCode, taken.json().error.code, taken.json().error.param], [409, 'experiment_exists', 'id']);
  const conflict = await post({ ...EXPERIMENT, id: 'another' });
  t.same([conflict.statusCode, conflict.json().error.code, conflict.json().error.param], [409, 'experiment_conflict', 'enabled']);
  t.match(conflict.json().error.message, /experiment "drafters" is enabled/);
  for (let i = 1; i < 16; i++) t.equal((await post({ ...EXPERIMENT, id: `paused-${i}`, enabled: false })).statusCode, 201);
  const full = await post({ ...EXPERIMENT, id: 'one-too-many', enabled: false });
  t.same([full.statusCode, full.json().error.code], [409, 'too_many_experiments']);
});

t.test('the same user gets the same arm in two separately built servers and after a restart', async (t) => {
  const config = { experiments: [parseExperiment(EXPERIMENT)] };
  const users = Array.from({ length: 12 }, (_, i) => `sticky-${i}`);
  const arms = async (app: FastifyInstance) => {
    const out: string[] = [];
    for (const user of users) out.push((await complete(app, { user, max_tokens: 1 })).arm!);
    return out;
  };
  const a = await buildTestApp(t, config);
  const b = await buildTestApp(t, config);
  const first = await arms(a);
  t.same(await arms(b), first, 'another process');
  t.same(first, users.map((u) => assignArm(parseExperiment(EXPERIMENT), u).name), 'SHA-256 of salt and user, nothing process-local');
  t.same(new Set(first), new Set(['plain', 'small']), 'both arms get users');
  await a.close();
  const restarted = await buildTestApp(t, config);
  t.same(await arms(restarted), first, 'after a restart');

  const viaHeader = await complete(b, {}, { 'x-fairspec-user': users[0]! });
  t.equal(viaHeader.arm, first[0], 'the x-fairspec-user header is the key when the body has no user');
  const bodyWins = await complete(b, { user: users[1] }, { 'x-fairspec-user': users[0]! });
  t.equal(bodyWins.arm, first[1], 'the body user wins over the header');
  const streamed = await b.inject({
    method: 'POST',
    url: '/v1/completions',
    payload: completionBody({ user: users[2], max_tokens: 2, stream: true, stream_options: { include_usage: true } }),
  });
  const events = parseSse(streamed.body) as { choices: { speculative?: { arm?: string } }[]; speculative?: { experiment?: string; arm?: string } }[];
  t.equal(events.find((e) => e.choices[0]?.speculative)?.choices[0]?.speculative?.arm, first[2], "a streamed choice's last chunk names the arm");
  t.match(events.at(-2), { speculative: { experiment: 'drafters', arm: first[2] } }, 'so does the usage chunk');
});

t.test('experiment traffic: arms route, responses say so, the read-out has per-arm per-language numbers with intervals', async (t) => {
  const app = await buildTestApp(t, { adminToken: ADMIN_TOKEN, experiments: [parseExperiment(EXPERIMENT)] });
  const plainUsers = usersIn('plain', 6, 'p');
  const smallUsers = usersIn('small', 6, 's');
  for (const language of ['en', 'fr']) {
    for (const user of plainUsers) {
      const s = await complete(app, { user, language, max_tokens: 12 });
      t.same([s.experiment, s.arm, s.drafter], ['drafters', 'plain', null]);
    }
    for (const user of smallUsers) {
      const s = await complete(app, { user, language, max_tokens: 12 });
      t.same([s.experiment, s.arm, s.drafter], ['drafters', 'small', 'small'], 'the arm sets the drafter, whatever the language routes to');
    }
  }
  const overridden = await complete(app, { user: smallUsers[0], language: 'en', speculative: { drafter: 'nopos', draft_length: 2 } });
  t.same([overridden.experiment, overridden.arm, overridden.drafter], [undefined, undefined, 'nopos'], 'a request that overrides joins no experiment');
  const emptyOverride = await complete(app, { user: smallUsers[0], language: 'de', speculative: {} });
  t.equal(emptyOverride.arm, 'small', '`speculative: {}` overrides nothing');

  const res = await app.inject({ method: 'GET', url: '/v1/experiments/drafters', headers: auth });
  t.equal(res.statusCode, 200);
  const summary = res.json();
  t.same(summary.languages, ['de', 'en', 'fr']);
  const [plain, small] = summary.arms;
  t.same([plain.name, plain.requests, small.name, small.requests], ['plain', 12, 'small', 13], 'the overridden request is not counted');
  const cell = (arm: typeof plain, language: string) => arm.languages.find((c: { language: string }) => c.language === language);
  for (const language of ['en', 'fr']) {
    const p = cell(plain, language);
    const s = cell(small, language);
    t.equal(p.requests, 6);
    t.ok(p.generated_tokens > 0 && p.generated_tokens <= 6 * 12);
    t.equal(p.acceptance_rate, null, 'plain decoding drafts nothing');
    t.equal(p.plain_reference.source, 'pooled', 'fewer than 10 plain requests per language: the pooled reference');
    t.equal(p.plain_reference.scope, 'experiment', "the experiment's plain arm");
    t.ok(p.speed_up.estimate > 0 && p.plain_reference.ms_per_token > 0, 'a speed-up over the plain reference');
    t.ok(s.acceptance_rate.estimate > 0 && s.acceptance_rate.estimate <= 1);
    t.ok(s.acceptance_rate.ci.low <= s.acceptance_rate.estimate && s.acceptance_rate.estimate <= s.acceptance_rate.ci.high, 'Wilson interval');
    t.ok(s.mean_accepted_length.estimate >= 1);
    t.ok(s.mean_accepted_length.ci.low <= s.mean_accepted_length.estimate && s.mean_accepted_length.estimate <= s.mean_accepted_length.ci.high, 'mean accepted length interval');
    t.type(s.cross_entropy, 'number');
    for (const c of [p, s]) {
      t.ok(c.speed_up.ci.low <= c.speed_up.estimate && c.speed_up.estimate <= c.speed_up.ci.high, `${language} speed-up interval`);
      t.equal(c.latency_ms.samples, 6);
      t.ok(c.latency_ms.p50.ci.low <= c.latency_ms.p50.estimate && c.latency_ms.p50.estimate <= c.latency_ms.p50.ci.high, 'p50 with its interval');
      t.equal(c.latency_ms.p95.ci, null, 'six samples cannot bound a p95');
    }
    const comparison = summary.comparisons.find((c: { language: string }) => c.language === language);
    t.match(comparison, { arm: 'small', control: 'plain', tokens_per_second: { significant: Boolean } });
    t.type(comparison.speed_up.p_adjusted, 'number');
  }
  // The plain arm is the reference, pooled over en and fr: its time-weighted speed-up is 1 exactly.
  const plainCells = ['en', 'fr'].map((language) => cell(plain, language));
  const tokens = plainCells.reduce((sum, c) => sum + c.generated_tokens, 0);
  const time = plainCells.reduce((sum, c) => sum + c.generated_tokens / c.speed_up.estimate, 0);
  t.ok(Math.abs(tokens / time - 1) < 1e-12, `plain decoding reads 1 against itself (${tokens / time})`);
  t.type(small.fairness.unfairness, 'number', 'U over the languages the small arm drafted in');
  t.equal(plain.fairness.unfairness, null, 'the plain arm drafts nothing');
  t.match(small.fairness.speed_up, { languages: 3, worst: { language: String, value: Number } });

  const metrics = withoutModelName((await app.inject({ method: 'GET', url: '/metrics' })).body);
  t.equal(sample(metrics, 'fairspec_requests_total{language="en",drafter="none",arm="plain",status="200"}'), 6);
  t.equal(sample(metrics, 'fairspec_requests_total{language="en",drafter="small",arm="small",status="200"}'), 6);
  t.equal(sample(metrics, 'fairspec_requests_total{language="en",drafter="nopos",arm="none",status="200"}'), 1);
  const s = cell(small, 'en').speed_up;
  t.equal(sample(metrics, 'fairspec_experiment_speedup{experiment="drafters",arm="small",language="en",bound="mean"}'), s.estimate);
  t.equal(sample(metrics, 'fairspec_experiment_speedup{experiment="drafters",arm="small",language="en",bound="lower"}'), s.ci.low);
  t.equal(sample(metrics, 'fairspec_experiment_speedup{experiment="drafters",arm="small",language="en",bound="upper"}'), s.ci.high);
  const worse = summary.comparisons.find((c: { language: string }) => c.language === 'en');
  t.match(
    metrics,
    new RegExp(`^fairspec_experiment_arm_worse_than_control\\{experiment="drafters",arm="small",language="en"\\} ${worse.tokens_per_second.significant && worse.tokens_per_second.difference < 0 ? 1 : 0}$`, 'm'),
  );
});

t.test('many users and languages: arm and language labels stay bounded', async (t) => {
  const app = await buildTestApp(t, { experiments: [parseExperiment(EXPERIMENT)] });
  const languages = ['en', 'fr', 'de', 'pt', 'es', 'it', 'nl', 'sv', 'pl', 'cs', 'tr', 'vi', 'sw', 'yo', 'zu', 'xh'];
  for (let i = 0; i < 48; i++) await complete(app, { user: `crowd-${i}`, language: languages[i % languages.length], max_tokens: 1 });
  for (let i = 0; i < 4; i++) await complete(app, { max_tokens: 1 }); // no user: keyed by request id
  const metrics = withoutModelName((await app.inject({ method: 'GET', url: '/metrics' })).body);
  const values = (label: string) => new Set([...metrics.matchAll(new RegExp(`[{,]${label}="([^"]+)"`, 'g'))].map((m) => m[1]));
  t.same([...values('arm')].sort(), ['plain', 'small'], 'arm names from the experiment only, whatever the users');
  t.same([...values('language')].sort(), ['de', 'en', 'fr', 'other'], "languages outside the label set are 'other'");
  const series = metrics.split('\n').filter((l) => l.startsWith('fairspec_requests_total{'));
  t.ok(series.length <= 4 * 3 * 2, `${series.length} request series for 52 requests from 52 keys`);
  t.notMatch(metrics, /crowd-/, 'no user id in any label');
});

t.test('the cluster read-out: 501 without FAIRSPEC_PROMETHEUS_URL, 502 when Prometheus does not answer, 400 for another scope', async (t) => {
  const local = await buildTestApp(t, { adminToken: ADMIN_TOKEN, experiments: [parseExperiment(EXPERIMENT)] }, { loadModels: false });
  const disabled = await local.inject({ method: 'GET', url: '/v1/experiments/drafters?scope=cluster', headers: auth });
  t.equal(disabled.statusCode, 501);
  t.same(disabled.json().error, { message: disabled.json().error.message, type: 'server_error', param: 'scope', code: 'cluster_readout_disabled' });
  t.equal((await local.inject({ method: 'GET', url: '/v1/experiments/drafters?scope=replica', headers: auth })).json().scope, 'replica');
  t.equal((await local.inject({ method: 'GET', url: '/v1/experiments/drafters?scope=galaxy', headers: auth })).statusCode, 400);

  // A port nothing listens on: connection refused at once.
  const app = await buildTestApp(t, { adminToken: ADMIN_TOKEN, experiments: [parseExperiment(EXPERIMENT)], prometheusUrl: 'http://127.0.0.1:9' }, { loadModels: false });
  const down = await app.inject({ method: 'GET', url: '/v1/experiments/drafters?scope=cluster', headers: auth });
  t.equal(down.statusCode, 502);
  t.equal(down.json().error.code, 'prometheus_unavailable');
  t.match(down.json().error.message, /Prometheus at http:\/\/127\.0\.0\.1:9 did not answer/);
});

t.test('with FAIRSPEC_STATE_DIR an experiment created through the API is there after a restart, with its creation time', async (t) => {
  const stateDir = t.testdir({});
  const first = await buildTestApp(t, { adminToken: ADMIN_TOKEN, stateDir }, { loadModels: false });
  const created = await first.inject({ method: 'POST', url: '/v1/experiments', headers: auth, payload: EXPERIMENT });
  t.equal(created.statusCode, 201);
  await first.close();
  const second = await buildTestApp(t, { adminToken: ADMIN_TOKEN, stateDir }, { loadModels: false });
  const list = (await second.inject({ method: 'GET', url: '/v1/experiments', headers: auth })).json();
  t.same(list.data, [created.json()], 'the same experiment, created_at included');
  t.equal((await second.inject({ method: 'DELETE', url: '/v1/experiments/drafters', headers: auth })).statusCode, 200);
  const third = await buildTestApp(t, { adminToken: ADMIN_TOKEN, stateDir }, { loadModels: false });
  t.same((await third.inject({ method: 'GET', url: '/v1/experiments', headers: auth })).json().data, [], 'deleted stays deleted');
});
