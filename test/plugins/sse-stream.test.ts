// Issue 16: a stream respects backpressure. send() holds its caller (the generation) once the
// client is behind, lets it go when the client reads, and ends a client that reads nothing for
// stallMs. The client here is a real Writable that takes bytes only when the test lets it.

import { Writable } from 'node:stream';
import t from 'tap';
import { parseSse } from '../helpers/build-app.js';
import { SseStream } from '../../plugins/sse-stream.js';

/** A consumer that acknowledges writes only while `reading`. */
function client() {
  const held: Array<() => void> = [];
  let text = '';
  const state = { reading: false };
  const sink = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      if (state.reading) callback();
      else held.push(() => callback());
    },
  });
  return {
    sink,
    text: () => text,
    read() {
      state.reading = true;
      for (const callback of held.splice(0)) callback();
    },
  };
}

/** Sends events until send() asks the caller to wait; the number sent and that promise. */
function fill(sse: SseStream): { sent: number; wait: Promise<void> } {
  for (let sent = 1; sent < 100_000; sent++) {
    const wait = sse.send({ n: sent, text: 'x'.repeat(100) });
    if (wait) return { sent, wait };
  }
  throw new Error('send() never waited');
}

t.test('a client that falls behind holds the sender until it reads', async (t) => {
  const sse = new SseStream(5000);
  const c = client();
  sse.body.pipe(c.sink);
  const { sent, wait } = fill(sse);
  t.ok(sent > 10 && sent < 2000, `the sender waits after ${sent} events (the buffers hold the rest)`);
  let released = false;
  void wait.then(() => (released = true));
  await new Promise((r) => setTimeout(r, 50));
  t.equal(released, false, 'still waiting while the client reads nothing');
  c.read();
  await wait;
  t.equal(sse.stalled, false);
  t.equal(sse.send({ n: 'last' }), undefined, 'a client that reads takes events at once');
  void sse.send('[DONE]');
  sse.end();
  await new Promise((r) => c.sink.once('finish', r));
  const events = parseSse(c.text());
  t.equal(events.length, sent + 2, 'every event arrived, in order');
  t.same(events.at(-1), '[DONE]');
});

t.test('a client that reads nothing for stallMs is ended', async (t) => {
  const sse = new SseStream(200);
  const c = client();
  sse.body.pipe(c.sink);
  const started = performance.now();
  const { wait } = fill(sse);
  const alive = setInterval(() => {}, 1000); // the stall timer is unref'd; a server's socket keeps it going
  await wait;
  clearInterval(alive);
  const waited = performance.now() - started;
  t.ok(waited >= 190 && waited < 2000, `released after ${waited.toFixed(0)} ms`);
  t.equal(sse.stalled, true);
  t.equal(sse.body.destroyed, true, 'the body is destroyed, which ends the response');
  t.equal(sse.send({ after: true }), undefined, 'nothing more is written');
  sse.end();
});
