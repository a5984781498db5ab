// server.ts with FAIRSPEC_SHUTDOWN_LINGER_MS: after SIGTERM it refuses new work (GET /readyz and
// completions 503, for the balancer to go elsewhere) but keeps serving /metrics for the linger,
// so Prometheus scrapes its last counts, then exits 0.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { request } from 'undici';
import { testPack } from './helpers/build-app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LINGER_MS = 1500;

t.test('SIGTERM: not ready, completions 503, /metrics still served for the linger, then exit 0', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', FAIRSPEC_ORT_THREADS: '1', FAIRSPEC_PACK: testPack(), FAIRSPEC_MODEL_ID: 'm', FAIRSPEC_SHUTDOWN_LINGER_MS: String(LINGER_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit');
  let base: string | undefined;
  for (let i = 0; i < 1200 && base === undefined; i++) {
    base = output.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    if (base === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  if (base === undefined) throw new Error(`server did not start:\n${output}`);
  const complete = () =>
    request(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', prompt: 'Hello', max_tokens: 4 }) });
  t.equal((await complete()).statusCode, 200);

  const signalled = Date.now();
  child.kill('SIGTERM');
  for (let i = 0; i < 100 && !output.includes('lingering for a final scrape'); i++) await new Promise((r) => setTimeout(r, 20));
  const ready = await request(`${base}/readyz`);
  t.same([ready.statusCode, await ready.body.json()], [503, { status: 'draining', running: 0, queued: 0 }]);
  const refused = await complete();
  t.equal(refused.statusCode, 503);
  t.equal(((await refused.body.json()) as { error: { code: string } }).error.code, 'server_shutting_down');
  const metrics = await request(`${base}/metrics`);
  t.equal(metrics.statusCode, 200, 'still scraped');
  t.match(await metrics.body.text(), /fairspec_requests_total\{/);

  const [code] = await exited;
  t.equal(code, 0);
  t.ok(Date.now() - signalled >= LINGER_MS, `exited ${Date.now() - signalled} ms after SIGTERM, the linger included`);
});
