// Liveness, readiness, and the drain that fastify.close() (SIGTERM) starts: new work is
// refused, /readyz says 'draining', in-flight requests finish, then the server closes.

import { connect, type Socket } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { buildTestApp, completionBody, listen } from '../helpers/build-app.js';

t.test('healthz and readyz once the pack is loaded', async (t) => {
  const app = await buildTestApp(t);
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(health.statusCode, 200);
  t.same(health.json(), { status: 'ok' });
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
  t.same(ready.json(), { status: 'ready', running: 0, queued: 0 });
});

t.test('without a loaded pack: alive, not ready, completions answer 503', async (t) => {
  const app = await buildTestApp(t, {}, { loadModels: false });
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 503);
  t.match(ready.json(), { status: 'loading' });
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody() });
  t.equal(res.statusCode, 503);
  t.match(res.json(), { error: { type: 'server_error', code: 'model_not_ready' } });
});

/** Sends `head` now (an unfinished request keeps the connection active through close()). */
function openRequest(port: number, head: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Finishes the request with `rest` and reads the whole response (the server closes it). */
function finish(socket: Socket, rest: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (data += chunk));
    socket.once('error', reject);
    socket.once('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body });
    });
    socket.write(rest);
  });
}

t.test('close() drains: refuses new work, readyz 503, in-flight requests finish first', async (t) => {
  const app = await buildTestApp(t, { concurrency: 1, maxQueue: 2 });
  const base = await listen(app);
  const port = Number(new URL(base).port);

  // One request in flight: queued behind the slot this test holds.
  const held = app.fairspec.requestQueue.reserve();
  const inFlight = request(`${base}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(completionBody({ max_tokens: 5 })),
  });
  while (app.fairspec.requestQueue.waiting === 0) await new Promise((r) => setTimeout(r, 2));

  // Connections that started a request before the drain (a load balancer's probe, a client).
  const probe = await openRequest(port, 'GET /readyz HTTP/1.1\r\nHost: x\r\n');
  const body = JSON.stringify(completionBody());
  const late = await openRequest(port, `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`);

  let closed = false;
  const closing = app.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 20));

  const refused = await request(`${base}/healthz`).catch((err: NodeJS.ErrnoException) => err);
  t.match(refused, { code: 'ECONNREFUSED' }, 'no new connections');

  const ready = await finish(probe, '\r\n');
  t.equal(ready.status, 503);
  t.match(ready.headers, /connection: close/);
  t.match(JSON.parse(ready.body), { status: 'draining', queued: 1 });

  const refusedWork = await finish(late, `\r\n${body}`);
  t.equal(refusedWork.status, 503);
  t.match(JSON.parse(refusedWork.body), { error: { type: 'server_error', code: 'server_shutting_down' } });

  t.equal(closed, false, 'still draining while a request is in flight');
  held.release();
  const res = await inFlight;
  t.equal(res.statusCode, 200, 'the in-flight request completed');
  t.match(await res.body.json(), { choices: [{ finish_reason: /stop|length/ }] });
  await closing;
  t.equal(closed, true, 'closed once drained');
});

t.test('past the drain deadline, abortInFlight() ends waiting requests with 503', async (t) => {
  const app = await buildTestApp(t, { concurrency: 1, maxQueue: 2 });
  const held = app.fairspec.requestQueue.reserve();
  const pending = app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody() });
  const pendingStream = app.inject({ method: 'POST', url: '/v1/completions', payload: completionBody({ stream: true }) });
  while (app.fairspec.requestQueue.waiting < 2) await new Promise((r) => setTimeout(r, 2));
  app.abortInFlight();
  const res = await pending;
  t.equal(res.statusCode, 503);
  t.match(res.json(), { error: { code: 'server_shutting_down', type: 'server_error' } });
  // The stream starts once its prompt is tokenised (off the event loop, while it waits): stopped
  // before, it is a plain 503; after, an error event and the stream's end.
  const streamed = await pendingStream;
  if (streamed.statusCode === 503) t.match(streamed.json(), { error: { code: 'server_shutting_down' } });
  else {
    t.equal(streamed.statusCode, 200, 'the stream had started');
    t.match(
      streamed.body,
      /^data: \{"error":\{"message":"The server shut down before the completion finished\.","type":"server_error","param":null,"code":"server_shutting_down"\}\}\n\ndata: \[DONE\]\n\n$/,
    );
  }
  held.release();
});
