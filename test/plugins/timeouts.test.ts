// Issue 16, time limits: a client that stalls in any phase is ended, and the server answers the
// next request. Headers and body (FAIRSPEC_HEADERS_TIMEOUT_MS, FAIRSPEC_BODY_TIMEOUT_MS: Node
// answers 408 and closes), a keep-alive connection left idle (FAIRSPEC_IDLE_TIMEOUT_MS), and a
// completion that outlasts FAIRSPEC_REQUEST_TIMEOUT_MS (408, or an error event and [DONE]).

import { connect, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { buildTestApp, completionBody, listen, parseSse, withoutModelName } from '../helpers/build-app.js';

/** Connects, writes `data`, and resolves with what the server sent once it closes the connection. */
function stall(port: number, data: string): Promise<{ received: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let received = '';
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(data));
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (received += chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve({ received, closedAfterMs: performance.now() - started }));
  });
}

async function serves(t: Test, base: string): Promise<void> {
  const res = await request(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(completionBody({ max_tokens: 2 })) });
  t.equal(res.statusCode, 200, 'the server still serves');
  await res.body.dump();
}

t.test('stalled headers, a stalled body and an idle keep-alive connection are closed in time', async (t) => {
  const app = await buildTestApp(t, { headersTimeoutMs: 400, bodyTimeoutMs: 800, idleTimeoutMs: 600 });
  const base = await listen(app);
  const port = Number(new URL(base).port);

  const [headers, body, idle] = await Promise.all([
    stall(port, 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'),
    stall(port, 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model": "'),
    stall(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'),
  ]);
  t.match(headers.received, /^HTTP\/1\.1 408 /, 'headers: 408');
  t.ok(headers.closedAfterMs >= 350 && headers.closedAfterMs < 3000, `headers: closed after ${headers.closedAfterMs.toFixed(0)} ms`);
  t.match(body.received, /^HTTP\/1\.1 408 /, 'body: 408');
  t.ok(body.closedAfterMs >= 750 && body.closedAfterMs < 3000, `body: closed after ${body.closedAfterMs.toFixed(0)} ms`);
  t.match(idle.received, /^HTTP\/1\.1 200 .*"status":"ok"/s, 'idle: the request was answered');
  t.ok(idle.closedAfterMs >= 550 && idle.closedAfterMs < 3000, `idle: the kept-alive connection closed after ${idle.closedAfterMs.toFixed(0)} ms`);
  t.equal(app.fairspec.requestQueue.running + app.fairspec.requestQueue.waiting, 0, 'nothing holds a slot');
  await serves(t, base);
});

t.test('a completion past FAIRSPEC_REQUEST_TIMEOUT_MS: 408, or an error event then [DONE]', async (t) => {
  const app = await buildTestApp(t, { concurrency: 1, maxQueue: 4, requestTimeoutMs: 1000 });
  const base = await listen(app);
  await serves(t, base); // warm: the tokenizer's worker thread is up
  const held = app.fairspec.requestQueue.reserve(); // a generation that never ends

  const post = (stream: boolean) =>
    request(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(completionBody({ stream })) });
  const started = performance.now();
  const [json, streamed] = await Promise.all([post(false), post(true)]);
  t.equal(json.statusCode, 408);
  t.match(await json.body.json(), { error: { code: 'request_timeout', type: 'invalid_request_error', message: /time limit/ } });
  t.ok(performance.now() - started >= 900, 'not before the limit');
  t.equal(streamed.statusCode, 200, 'the stream had started');
  const events = parseSse(await streamed.body.text());
  t.match(events, [{ error: { code: 'request_timeout' } }, '[DONE]']);

  t.equal(app.fairspec.requestQueue.waiting, 0, 'both left the queue');
  const metrics = withoutModelName((await app.inject({ method: 'GET', url: '/metrics' })).body);
  t.notMatch(metrics, /^fairspec_queue_length\{[^}]*\} [1-9]/m, 'queue gauge back to 0');
  held.release();
  await serves(t, base);
});
