// server.ts as a process: a boot error names the missing pack; SIGTERM drains a streaming
// request to its end, then the process exits 0, also while a client stalls mid-upload.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { request } from 'undici';
import { testPack } from './helpers/build-app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function start(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', FAIRSPEC_ORT_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, 'exit');
  return code as number | null;
}

t.test('a missing pack stops the boot with the path', async (t) => {
  const { child, output } = start({ FAIRSPEC_PACK: '/nonexistent/pack' });
  t.equal(await exitCode(child), 1);
  t.match(output(), /cannot load the model pack \(FS_MODEL_LOAD\).*\/nonexistent\/pack/);
});

t.test("an experiment arm naming a drafter the pack lacks stops the boot, naming the field", async (t) => {
  const experiments = JSON.stringify([{ id: 'x', arms: [{ name: 'a', drafter: null, weight: 1 }, { name: 'b', drafter: 'huge', weight: 1 }] }]);
  const { child, output } = start({ FAIRSPEC_PACK: testPack(), FAIRSPEC_EXPERIMENTS: experiments });
  t.equal(await exitCode(child), 2);
  t.match(output(), /fairspec: invalid config experiments \(FAIRSPEC_EXPERIMENTS="huge"\): .*experiments\[0\]\.arms\[1\]\.drafter: is not a drafter of the model pack \(nopos, small\)/);
});

async function listening(output: () => string): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const base = output().match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    if (base !== undefined) return base;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not start:\n${output()}`);
}

t.test('SIGTERM drains the in-flight stream, then exits 0', async (t) => {
  const { child, output } = start({ FAIRSPEC_PACK: testPack(), FAIRSPEC_MODEL_ID: 'm' });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const base = await listening(output);

  const res = await request(`${base}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', prompt: 'Hi', max_tokens: 60, temperature: 0, stream: true }),
  });
  t.equal(res.statusCode, 200);
  let text = '';
  for await (const chunk of res.body) {
    if (text === '') child.kill('SIGTERM');
    text += chunk;
  }
  t.match(text, /"finish_reason":"length"/, 'the stream ran to the end');
  t.match(text, /data: \[DONE\]\n\n$/);
  t.equal(await exitCode(child), 0);
  t.match(output(), /"msg":"draining"/);
  t.match(output(), /"msg":"drained; bye"/);
});

t.test('issue 16: SIGTERM while an upload stalls drains the stream and exits 0 within the deadline', async (t) => {
  // The body limit (30 s by default) is longer than the test: only the drain may end the stall.
  const { child, output } = start({ FAIRSPEC_PACK: testPack(), FAIRSPEC_MODEL_ID: 'm', FAIRSPEC_DRAIN_TIMEOUT_MS: '20000' });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const base = await listening(output);
  const { port } = new URL(base);

  const stalled = connect(Number(port), '127.0.0.1');
  await once(stalled, 'connect');
  stalled.write('POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model": "m", "pro');
  const stalledClosed = once(stalled, 'close');
  stalled.on('error', () => {});
  stalled.resume();

  const res = await request(`${base}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', prompt: 'Hi', max_tokens: 60, temperature: 0, stream: true }),
  });
  t.equal(res.statusCode, 200);
  let text = '';
  let signalled = 0;
  for await (const chunk of res.body) {
    if (text === '') {
      child.kill('SIGTERM');
      signalled = performance.now();
    }
    text += chunk;
  }
  t.match(text, /"finish_reason":"length"/, 'the stream ran to the end');
  t.match(text, /data: \[DONE\]\n\n$/);
  await stalledClosed;
  t.pass('the stalled upload was closed');
  t.equal(await exitCode(child), 0, 'exit 0: drained, not cut at the deadline');
  const took = performance.now() - signalled;
  t.ok(took < 15_000, `exited ${took.toFixed(0)} ms after SIGTERM, within the 20 s deadline`);
  t.notMatch(output(), /drain deadline passed/);
  t.match(output(), /"msg":"drained; bye"/);
});
