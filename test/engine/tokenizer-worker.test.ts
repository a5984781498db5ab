// The tokenizer's worker thread (issue 16): the same ids as TextTokenizer.encode, off the event
// loop (timers keep firing while a long text is encoded), abortable, and closed for good.

import t from 'tap';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import { TokenizerWorker } from '../../src/engine/tokenizer-worker.js';
import { GPT2_VERIFIER, PROMPTS } from '../fixtures/engine-models.js';

const tokenizer = await TextTokenizer.load(GPT2_VERIFIER);

t.test('the same ids as encoding on the event loop, also for jobs in flight together', async (t) => {
  const worker = new TokenizerWorker(tokenizer.source.json, tokenizer.source.config);
  t.teardown(() => worker.close());
  const texts = [...PROMPTS, '<|endoftext|> again', 'x'.repeat(5000)];
  const ids = await Promise.all(texts.map((text) => worker.encode(text)));
  texts.forEach((text, i) => t.same(ids[i], tokenizer.encode(text), JSON.stringify(text.slice(0, 20))));
});

t.test('a long text is encoded while the event loop keeps turning', async (t) => {
  const worker = new TokenizerWorker(tokenizer.source.json, tokenizer.source.config);
  t.teardown(() => worker.close());
  await worker.encode('warm up');
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(24_000); // ~1 MiB
  let worstGap = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  const ids = await worker.encode(text);
  const took = performance.now() - started;
  clearInterval(ticker);
  t.equal(ids.length, text.length, 'byte-level: one token per byte');
  t.ok(took > 100, `the encoding itself took a while (${took.toFixed(0)} ms)`);
  t.ok(worstGap < 100, `no timer waited 100 ms meanwhile (worst gap ${worstGap.toFixed(0)} ms)`);
});

t.test('an aborted job rejects with the signal\'s reason; close() rejects the rest and later calls', async (t) => {
  const worker = new TokenizerWorker(tokenizer.source.json, tokenizer.source.config);
  const before = new AbortController();
  before.abort(new Error('client left'));
  await t.rejects(worker.encode('x', before.signal), { message: 'client left' });
  const during = new AbortController();
  const long = worker.encode('y'.repeat(300_000), during.signal);
  during.abort(new Error('gone'));
  await t.rejects(long, { message: 'gone' });
  t.same(await worker.encode('ok'), tokenizer.encode('ok'), 'the worker still serves');
  const pending = t.rejects(worker.encode('z'.repeat(300_000)), /closed/);
  await worker.close();
  await pending;
  await t.rejects(worker.encode('after'), /closed/);
});
