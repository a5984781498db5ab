// The errors and json-body plugins on a bare Fastify, without the engine.

import Fastify from 'fastify';
import t, { type Test } from 'tap';
import errors from '../../plugins/errors.js';
import jsonBody from '../../plugins/json-body.js';
import { FairspecError } from '../../src/errors.js';

async function bare(t: Test) {
  const app = Fastify({ logger: false });
  await app.register(errors);
  await app.register(jsonBody);
  app.post('/echo', async (request) => ({ body: request.body }));
  app.get('/domain', async () => {
    throw new FairspecError('FS_QUEUE_FULL', 'busy', null, 7);
  });
  app.get('/boom', async () => {
    throw new Error('secret internal detail');
  });
  t.teardown(() => app.close());
  return app;
}

t.test('valid UTF-8 passes through, multi-byte characters intact', async (t) => {
  const app = await bare(t);
  const text = 'héllo 日本語 🙂 አማርኛ';
  const payload = Buffer.from(JSON.stringify({ text }));
  const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json; charset=utf-8' }, payload });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { body: { text } });
});

t.test('invalid UTF-8 anywhere in the body is a 400, not a U+FFFD', async (t) => {
  const app = await bare(t);
  for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
    const payload = Buffer.concat([Buffer.from('{"text":"a'), Buffer.from(bytes), Buffer.from('b"}')]);
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
    t.equal(res.statusCode, 400, Buffer.from(bytes).toString('hex'));
    t.same(res.json(), { error: { message: 'The request body is not valid UTF-8.', type: 'invalid_request_error', param: null, code: 'invalid_utf8' } });
  }
});

t.test('domain errors map to status, code and Retry-After', async (t) => {
  const app = await bare(t);
  const res = await app.inject({ method: 'GET', url: '/domain' });
  t.equal(res.statusCode, 429);
  t.equal(res.headers['retry-after'], '7');
  t.same(res.json(), { error: { message: 'busy', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } });
});

t.test('unexpected errors are a generic 500 that leaks nothing', async (t) => {
  const app = await bare(t);
  const res = await app.inject({ method: 'GET', url: '/boom' });
  t.equal(res.statusCode, 500);
  t.notMatch(res.body, /secret/);
  t.match(res.json(), { error: { type: 'server_error', code: 'internal_error' } });
});

t.test('unknown URLs are a 404 in the same shape', async (t) => {
  const app = await bare(t);
  const res = await app.inject({ method: 'DELETE', url: '/v1/nothing' });
  t.equal(res.statusCode, 404);
  t.same(res.json(), { error: { message: 'Invalid URL (DELETE /v1/nothing)', type: 'invalid_request_error', param: null, code: 'unknown_url' } });
});
