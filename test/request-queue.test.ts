import t from 'tap';
import { AbortedError, FairspecError } from '../src/errors.js';
import { RequestQueue } from '../src/request-queue.js';

t.test('runs up to `concurrency` at once, queues up to `maxQueue`, refuses the rest', async (t) => {
  const q = new RequestQueue({ concurrency: 2, maxQueue: 1 });
  const a = q.reserve();
  const b = q.reserve();
  t.equal(a.queued, false);
  t.equal(b.queued, false);
  const c = q.reserve();
  t.equal(c.queued, true);
  t.equal(q.running, 2);
  t.equal(q.waiting, 1);
  const err = (() => {
    try {
      q.reserve();
    } catch (e) {
      return e;
    }
  })();
  t.type(err, FairspecError);
  t.match(err, { code: 'FS_QUEUE_FULL', retryAfterSeconds: Number });
  t.ok((err as FairspecError).retryAfterSeconds! >= 1);

  let cRan = false;
  const cReady = c.ready.then(() => (cRan = true));
  a.release();
  await cReady;
  t.equal(cRan, true, 'the queued holder runs when a slot frees');
  t.equal(c.queued, false);
  t.equal(q.running, 2);
  a.release();
  t.equal(q.running, 2, 'release is idempotent');
  b.release();
  c.release();
  t.equal(q.running, 0);
  await q.idle();
});

t.test('first in, first out', async (t) => {
  const q = new RequestQueue({ concurrency: 1, maxQueue: 3 });
  const first = q.reserve();
  const order: number[] = [];
  const slots = [1, 2, 3].map((i) => {
    const s = q.reserve();
    void s.ready.then(() => {
      order.push(i);
      s.release();
    });
    return s;
  });
  first.release();
  await Promise.all(slots.map((s) => s.ready));
  await q.idle();
  t.same(order, [1, 2, 3]);
});

t.test('an aborted waiter leaves the queue; an aborted signal is refused up front', async (t) => {
  const q = new RequestQueue({ concurrency: 1, maxQueue: 2 });
  const running = q.reserve();
  const controller = new AbortController();
  const waiting = q.reserve(controller.signal);
  const after = q.reserve();
  controller.abort();
  await t.rejects(waiting.ready, AbortedError);
  t.equal(q.waiting, 1);
  running.release();
  await after.ready;
  t.equal(q.running, 1, 'the next waiter got the slot, not the aborted one');
  after.release();
  t.throws(() => q.reserve(AbortSignal.abort()), AbortedError);
  t.equal(q.running, 0);
});

t.test('releasing a queued slot cancels it', async (t) => {
  const q = new RequestQueue({ concurrency: 1, maxQueue: 1 });
  const running = q.reserve();
  const queued = q.reserve();
  queued.release();
  t.equal(q.waiting, 0);
  await t.rejects(queued.ready, AbortedError);
  running.release();
  await q.idle();
});

t.test('close() refuses new holders but serves those already in', async (t) => {
  const q = new RequestQueue({ concurrency: 1, maxQueue: 1 });
  const running = q.reserve();
  const queued = q.reserve();
  q.close();
  t.throws(() => q.reserve(), { code: 'FS_SHUTTING_DOWN' });
  const idle = q.idle();
  running.release();
  await queued.ready;
  queued.release();
  await idle;
  t.equal(q.closed, true);
});

t.test('options are checked', async (t) => {
  t.throws(() => new RequestQueue({ concurrency: 0, maxQueue: 1 }), RangeError);
  t.throws(() => new RequestQueue({ concurrency: 1, maxQueue: -1 }), RangeError);
});
