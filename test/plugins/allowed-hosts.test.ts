// Issue 16: FAIRSPEC_ALLOWED_HOSTS, a DNS-rebinding defence for a server bound to loopback. A
// request whose Host is not listed gets 403 in OpenAI's error shape, on every route; without the
// setting any Host is served.

import t from 'tap';
import { hostAllowed } from '../../src/allowed-hosts.js';
import { buildTestApp, completionBody } from '../helpers/build-app.js';

t.test('hostAllowed: a name allows any port, host:port that port; no case, no trailing dot', async (t) => {
  const allowed = ['localhost', '127.0.0.1:8000', '[::1]'];
  for (const host of ['localhost', 'LOCALHOST:9', 'localhost.:8000', '127.0.0.1:8000', '[::1]', '[::1]:8000']) t.ok(hostAllowed(host, allowed), host);
  for (const host of [undefined, '', 'evil.example', 'localhost.evil.example', '127.0.0.1', '127.0.0.1:8001', '[::2]:8000', 'localhost:x', 'a:1:2']) {
    t.notOk(hostAllowed(host, allowed), String(host));
  }
  t.ok(hostAllowed(undefined, []), 'an empty list allows everything');
});

t.test('with a list: another Host gets 403 before anything runs; a listed one is served', async (t) => {
  const app = await buildTestApp(t, { allowedHosts: ['localhost', '127.0.0.1:8000'] });
  for (const url of ['/healthz', '/v1/models', '/nope']) {
    const res = await app.inject({ method: 'GET', url, headers: { host: 'rebound.evil.example' } });
    t.equal(res.statusCode, 403, url);
    t.same(res.json(), {
      error: { message: "The Host 'rebound.evil.example' is not served here (FAIRSPEC_ALLOWED_HOSTS).", type: 'invalid_request_error', param: null, code: 'host_not_allowed' },
    });
  }
  const refused = await app.inject({ method: 'POST', url: '/v1/completions', headers: { host: '127.0.0.1:9999' }, payload: completionBody() });
  t.equal(refused.statusCode, 403);
  const served = await app.inject({ method: 'POST', url: '/v1/completions', headers: { host: 'localhost:8000' }, payload: completionBody() });
  t.equal(served.statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/healthz', headers: { host: '127.0.0.1:8000' } })).statusCode, 200);
});

t.test('without a list any Host is served', async (t) => {
  const app = await buildTestApp(t);
  t.equal((await app.inject({ method: 'GET', url: '/healthz', headers: { host: 'anything.example' } })).statusCode, 200);
});
