// Issue 16, fault isolation through the HTTP API: a drafter that gives NaN or throws
// mid-generation costs no request (200, the γ = 0 text), is counted in
// fairspec_drafter_errors_total, logged once per burst and routed around for its cool-down; a
// verifier fault fails only its own request (500, or an error event then [DONE]) and a run of
// them turns /readyz to 503. Faults are injected into the fixture pack's real models.

import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildTestApp, completionBody, parseSse, sample } from '../helpers/build-app.js';
import { injectFault } from '../fixtures/faulty-model.js';

const isDrafter = (name: string) => (m: { id: string }) => m.id.endsWith(`/drafter-${name}`);
const isVerifier = (m: { id: string }) => m.id.endsWith('/verifier');

async function build(t: Test, coolDownMs: number): Promise<{ app: FastifyInstance; logs: () => Array<Record<string, unknown>> }> {
  const lines: string[] = [];
  const app = await buildTestApp(t, {}, {
    logger: { level: 'warn', stream: { write: (line: string) => void lines.push(line) } },
    routingPolicy: { drafterCoolDownMs: coolDownMs },
  });
  return { app, logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const complete = (app: FastifyInstance, overrides: Record<string, unknown> = {}) =>
  app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ prompt: 'The quick brown fox', language: 'en', max_tokens: 24, ...overrides }) });

async function drafterErrors(app: FastifyInstance, drafter: string): Promise<number> {
  return sample((await app.inject({ method: 'GET', url: '/metrics' })).body, `fairspec_drafter_errors_total{drafter="${drafter}"}`);
}

t.test('a drafter that fails mid-generation: γ = 0 output, counted, logged once, routed around', async (t) => {
  const { app, logs } = await build(t, 1500);
  const plain = (await complete(app, { speculative: { draft_length: 0 } })).json();
  t.equal(await drafterErrors(app, 'small'), 0, 'the series exists from the start');

  const fault = injectFault(isDrafter('small'), { fault: 'nan', after: 4 });
  t.teardown(() => fault.restore());
  // Two requests routed to 'small' (en: small, γ = 3) before either runs: both meet the fault.
  const [a, b] = await Promise.all([complete(app), complete(app, { stream: true })]);
  t.equal(a.statusCode, 200);
  t.equal(a.json().choices[0].text, plain.choices[0].text, 'the γ = 0 text');
  t.equal(a.json().speculative.drafter, 'small', 'routed to the drafter, which failed');
  const events = parseSse(b.body);
  t.equal(events.at(-1), '[DONE]');
  t.equal(events.filter((e): e is { choices: Array<{ text: string }> } => typeof e === 'object' && e !== null && 'choices' in e).map((e) => e.choices[0]?.text ?? '').join(''), plain.choices[0].text, 'the stream too');
  t.equal(await drafterErrors(app, 'small'), 2, 'both faults counted');
  const warned = logs().filter((l) => l.msg === 'drafter failed: plain decoding takes over; routed around for a cool-down');
  t.equal(warned.length, 1, 'one log line for the burst');
  t.match(warned[0], { drafter: 'small', err: { message: /drafter small gave a non-finite logit/ } });

  // During the cool-down: plain decoding without meeting the drafter, override included.
  const routed = await complete(app);
  t.equal(routed.statusCode, 200);
  t.match(routed.json().speculative, { drafter: null, draft_length: 0 });
  const overridden = await complete(app, { speculative: { drafter: 'small', draft_length: 3 } });
  t.match(overridden.json().speculative, { drafter: null, draft_length: 0 });
  const other = await complete(app, { speculative: { drafter: 'nopos', draft_length: 2 } });
  t.match(other.json().speculative, { drafter: 'nopos', draft_length: 2 }, 'the other drafter still drafts');
  t.equal(await drafterErrors(app, 'small'), 2, 'no new fault');
  const routing = (await app.inject({ method: 'GET', url: '/v1/routing' })).json();
  const en = routing.languages.find((l: { language: string }) => l.language === 'en');
  t.match(en.choice, { drafter: null, draft_length: 0, reason: 'drafter-failing' }, 'GET /v1/routing says why');

  // After the cool-down it is tried again: a new fault, a new burst, a new log line.
  await new Promise((r) => setTimeout(r, 1600));
  const again = await complete(app);
  t.equal(again.statusCode, 200);
  t.equal(again.json().choices[0].text, plain.choices[0].text);
  t.equal(await drafterErrors(app, 'small'), 3);
  t.equal(logs().filter((l) => l.drafter === 'small').length, 2, 'a second burst, a second line');

  fault.restore();
  await new Promise((r) => setTimeout(r, 1600));
  const healed = await complete(app);
  t.match(healed.json().speculative, { drafter: 'small', draft_length: 3 }, 'routed to the drafter again');
  t.ok(healed.json().speculative.drafted > 0);
  t.equal(healed.json().choices[0].text, plain.choices[0].text);
});

t.test('a drafter that throws: the same', async (t) => {
  const { app } = await build(t, 30_000);
  const plain = (await complete(app, { prompt: 'Der schnelle braune Fuchs', language: 'de', speculative: { draft_length: 0 } })).json();
  const fault = injectFault(isDrafter('small'), { fault: 'throw', after: 0 });
  t.teardown(() => fault.restore());
  const res = await complete(app, { prompt: 'Der schnelle braune Fuchs', language: 'de' });
  t.equal(res.statusCode, 200);
  t.equal(res.json().choices[0].text, plain.choices[0].text);
  t.equal(await drafterErrors(app, 'small'), 1);
});

t.test('a verifier fault fails its own request only; a run of them turns /readyz to 503', async (t) => {
  const { app, logs } = await build(t, 30_000);
  for (let i = 0; i < 3; i++) {
    const stream = i === 1;
    const fault = injectFault(isVerifier, { fault: i === 2 ? 'nan' : 'throw', after: 1, times: 1 });
    const res = await complete(app, { stream });
    fault.restore();
    if (stream) {
      t.equal(res.statusCode, 200, 'the stream had started');
      t.match(parseSse(res.body).slice(-2), [{ error: { code: 'internal_error', type: 'server_error' } }, '[DONE]'], 'an error event, then [DONE]');
    } else {
      t.equal(res.statusCode, 500);
      t.match(res.json(), { error: { code: 'internal_error', message: 'The server had an error while processing your request.' } });
    }
    const next = await complete(app);
    t.equal(next.statusCode, 200, `fault ${i + 1}: the next request is served`);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    if (i < 2) t.equal(ready.statusCode, 200, `${i + 1} fault(s): still ready`);
    else {
      t.equal(ready.statusCode, 503, 'three faults within a minute: not ready');
      t.match(ready.json(), { status: 'failing' });
    }
  }
  t.equal(logs().filter((l) => l.msg === 'verifier fault: the request failed').length, 3);
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive');
});
