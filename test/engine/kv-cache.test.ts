import t from 'tap';
import { Tensor } from 'onnxruntime-node';
import { CausalLM } from '../../src/engine/causal-lm.js';
import { KvCache, type KvCacheLayout } from '../../src/engine/kv-cache.js';
import { createRandom } from '../../src/engine/random.js';
import {
  GPT2_DRAFTER,
  GPT2_DRAFTER_NOPOS,
  GPT2_VERIFIER,
  LLAMA,
  LLAMA_F16,
  MODEL_OPTIONS,
  maxAbsDiff,
  readReference,
} from '../fixtures/engine-models.js';

const layout = (over: Partial<KvCacheLayout> = {}): KvCacheLayout => ({
  numLayers: 1,
  numKvHeads: 2,
  headDim: 3,
  dtype: 'float32',
  maxPhysicalLength: 32,
  allowHoles: true,
  compactDeadFraction: 0.5,
  ...over,
});

/** A present tensor whose element at (head h, slot s, dim d) is 100h + s + d / 10. */
function fakePresent(l: KvCacheLayout, slots: number, offset = 0): Tensor[] {
  const make = () => {
    const data = l.dtype === 'float16' ? new Uint16Array(l.numKvHeads * slots * l.headDim) : new Float32Array(l.numKvHeads * slots * l.headDim);
    for (let h = 0; h < l.numKvHeads; h++)
      for (let s = 0; s < slots; s++)
        for (let d = 0; d < l.headDim; d++) data[(h * slots + s) * l.headDim + d] = 100 * h + s + offset + d / 10;
    return new Tensor(l.dtype, data, [1, l.numKvHeads, slots, l.headDim]);
  };
  return Array.from({ length: 2 * l.numLayers }, make);
}

t.test('KvCache bookkeeping', async (t) => {
  t.test('truncate marks slots dead without copying, and feeds mask them with logical positions', async (t) => {
    const l = layout();
    const cache = new KvCache(l);
    let feeds = cache.feeds(5);
    t.same(Array.from(feeds.attentionMask), [1n, 1n, 1n, 1n, 1n]);
    t.same(Array.from(feeds.positionIds), [0n, 1n, 2n, 3n, 4n]);
    t.same(feeds.past[0]!.dims, [1, 2, 0, 3], 'empty past has the cache dims');
    cache.append(fakePresent(l, 5), 5);
    cache.feeds(3);
    const presents = fakePresent(l, 8);
    cache.append(presents, 3);
    cache.truncate(6); // reject the last two
    t.equal(cache.length, 6);
    t.equal(cache.physicalLength, 8);
    t.equal(cache.deadSlots, 2);
    t.equal(cache.compactions, 0);
    feeds = cache.feeds(2);
    t.equal(feeds.past[0], presents[0], 'the tensor onnxruntime returned is reused as it is');
    t.same(Array.from(feeds.attentionMask), [1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n, 1n, 1n]);
    t.same(Array.from(feeds.positionIds), [6n, 7n]);
  });

  t.test('holes in the middle and compaction keep live slots in order', async (t) => {
    for (const dtype of ['float32', 'float16'] as const) {
      const l = layout({ dtype, compactDeadFraction: 1 });
      const cache = new KvCache(l);
      cache.feeds(4);
      cache.append(fakePresent(l, 4), 4);
      cache.truncate(2); // slots 2, 3 dead
      cache.feeds(3);
      cache.append(fakePresent(l, 7), 3); // slots 4..6 live
      cache.truncate(4); // slot 6 dead
      t.same(Array.from(cache.feeds(1).attentionMask), [1n, 1n, 0n, 0n, 1n, 1n, 0n, 1n], dtype);
      cache.compact();
      t.equal(cache.physicalLength, 4);
      t.equal(cache.compactions, 1);
      const { past, attentionMask } = cache.feeds(1);
      t.same(Array.from(attentionMask), [1n, 1n, 1n, 1n, 1n]);
      t.same(past[1]!.dims, [1, 2, 4, 3]);
      const data = past[1]!.data as Float32Array | Uint16Array;
      const slotOf = (h: number, i: number) => data[(h * 4 + i) * 3]! - 100 * h;
      for (const h of [0, 1]) t.same([0, 1, 2, 3].map((i) => slotOf(h, i)), [0, 1, 4, 5], `${dtype} head ${h}`);
      t.equal(data[(1 * 4 + 3) * 3 + 2], dtype === 'float16' ? 105 : Math.fround(105.2), 'element within the slot');
    }
  });

  t.test('compacts once dead slots pass the fraction, or at once without hole support', async (t) => {
    const l = layout({ compactDeadFraction: 0.25 });
    const cache = new KvCache(l);
    cache.feeds(8);
    cache.append(fakePresent(l, 8), 8);
    cache.truncate(7);
    t.equal(cache.compactions, 0, '1 of 8 dead');
    cache.truncate(5);
    t.equal(cache.compactions, 1, '3 of 8 dead');
    t.equal(cache.physicalLength, 5);

    const eager = new KvCache(layout({ allowHoles: false }));
    eager.feeds(4);
    eager.append(fakePresent(eager.layout, 4), 4);
    eager.truncate(3);
    t.equal(eager.deadSlots, 0);
    t.equal(eager.compactions, 1);
  });

  t.test('compacts before the physical length would pass the limit', async (t) => {
    const l = layout({ maxPhysicalLength: 10, compactDeadFraction: 1 });
    const cache = new KvCache(l);
    cache.feeds(9);
    cache.append(fakePresent(l, 9), 9);
    cache.truncate(6);
    t.equal(cache.compactions, 0);
    const feeds = cache.feeds(3);
    t.equal(cache.compactions, 1);
    t.equal(feeds.attentionMask.length, 9);
    t.throws(() => {
      cache.append(fakePresent(l, 9), 3);
      cache.feeds(2);
    }, /cache overflow/);
  });

  t.test('rejects inconsistent use', async (t) => {
    const l = layout();
    const cache = new KvCache(l);
    t.throws(() => cache.truncate(1), /truncate\(1\)/);
    cache.feeds(2);
    t.throws(() => cache.append(fakePresent(l, 3), 2), /dims/);
    t.throws(() => cache.append(fakePresent(layout({ dtype: 'float16' }), 2), 2), /type float16/);
    t.throws(() => new KvCache(layout({ compactDeadFraction: 2 })), /compactDeadFraction/);
  });
});

const models = [
  { dir: GPT2_VERIFIER, tol: 2e-4 },
  { dir: GPT2_DRAFTER, tol: 2e-4 },
  { dir: GPT2_DRAFTER_NOPOS, tol: 2e-4 },
  { dir: LLAMA, tol: 2e-4 },
  // torch's full pass keeps keys and values in float32; the cache rounds them to float16
  { dir: LLAMA_F16, tol: 5e-3 },
];

t.test('logits through a cache with holes match torch', async (t) => {
  for (const { dir, tol } of models) {
    const lm = await CausalLM.load(dir, MODEL_OPTIONS);
    t.teardown(() => lm.release());
    const ref = readReference(dir);
    const ids = ref.tokenIds;
    const cache = lm.newCache();
    const junk = [7, 8, 9];
    // Feed in uneven chunks, each followed by drafts that are then rejected.
    const cut = ids.length - ref.lastPositions;
    for (const [from, to] of [[0, 7], [7, 8], [8, 13], [13, cut]] as const) {
      await lm.forward(cache, ids.slice(from, to));
      await lm.forward(cache, junk);
      cache.truncate(to);
    }
    const rows = await lm.forward(cache, ids.slice(cut));
    const worst = Math.max(...rows.map((row, i) => maxAbsDiff(row, ref.logits[i]!)));
    t.ok(worst < tol, `${lm.id} (${lm.kvDtype}): max |engine - torch| = ${worst.toExponential(2)} < ${tol}`);
  }
});

/**
 * Simulated speculation: each round commits a few tokens and drafts a few, of which a random
 * prefix is kept. Returns the logits rows of every fed token with its logical position.
 */
async function speculate(lm: CausalLM, seed: number, compactDeadFraction: number) {
  const rnd = createRandom(seed);
  const int = (n: number) => Math.floor(rnd.next() * n);
  const cache = new KvCache({ ...lm.newCache().layout, compactDeadFraction });
  const committed: number[] = [];
  const rows: Array<{ tokens: number[]; row: Float32Array }> = [];
  let maxDead = 0;
  while (committed.length < 40) {
    const fresh = Array.from({ length: 1 + int(3) }, () => int(256));
    const drafts = Array.from({ length: 1 + int(4) }, () => int(256));
    const feed = [...fresh, ...drafts];
    const out = await lm.forward(cache, feed);
    out.forEach((row, i) => rows.push({ tokens: [...committed, ...feed.slice(0, i + 1)], row }));
    const kept = int(drafts.length + 1);
    committed.push(...fresh, ...drafts.slice(0, kept));
    cache.truncate(committed.length);
    maxDead = Math.max(maxDead, cache.deadSlots);
  }
  return { rows, committed, maxDead, compactions: cache.compactions, cache };
}

t.test('truncate + continue gives the logits of a fresh full forward pass', async (t) => {
  for (const { dir, tol } of [
    { dir: GPT2_VERIFIER, tol: 1e-4 },
    { dir: GPT2_DRAFTER_NOPOS, tol: 1e-4 },
    { dir: LLAMA, tol: 1e-4 },
    { dir: LLAMA_F16, tol: 5e-3 },
  ]) {
    const lm = await CausalLM.load(dir, MODEL_OPTIONS);
    t.teardown(() => lm.release());
    const holes = await speculate(lm, 1, 0.25);
    const compact = await speculate(lm, 1, 0);
    if (lm.inputNames.includes('position_ids')) {
      t.ok(holes.maxDead > 0, `${lm.id}: the cache did run with holes (up to ${holes.maxDead})`);
      t.ok(holes.compactions < compact.compactions, `${lm.id}: ${holes.compactions} compactions with holes, ${compact.compactions} without`);
    } else {
      t.equal(holes.maxDead, 0, `${lm.id} has no position_ids input: truncation compacts at once`);
    }

    // Same chunks, holes vs compacted: identical up to float summation order.
    const vsCompact = Math.max(...holes.rows.map((r, i) => maxAbsDiff(r.row, compact.rows[i]!.row)));
    t.ok(vsCompact < 1e-4, `${lm.id}: holes vs compact ${vsCompact.toExponential(2)}`);

    // Fresh full forward over the final committed sequence, against every row whose context is a prefix of it.
    const full = await lm.forward(lm.newCache(), holes.committed);
    let worst = 0;
    let compared = 0;
    for (const { tokens, row } of holes.rows) {
      const n = tokens.length;
      if (n > holes.committed.length || tokens.some((x, i) => x !== holes.committed[i])) continue;
      worst = Math.max(worst, maxAbsDiff(row, full[n - 1]!));
      compared++;
    }
    t.ok(compared >= 30, `${compared} positions compared`);
    t.ok(worst < tol, `${lm.id} (${lm.kvDtype}): incremental with truncation vs fresh ${worst.toExponential(2)} < ${tol}`);
  }
});

t.test('a cache near the context compacts before the graph would see too many slots', async (t) => {
  const lm = await CausalLM.load(GPT2_VERIFIER, MODEL_OPTIONS);
  t.teardown(() => lm.release());
  const ctx = lm.config.contextLength;
  const ids = Array.from({ length: ctx }, (_, i) => (i * 37) % 256);
  const cache = lm.newCache();
  await lm.forward(cache, ids.slice(0, ctx - 4));
  await lm.forward(cache, [1, 2, 3]);
  cache.truncate(ctx - 4);
  t.equal(cache.deadSlots, 3);
  const rows = await lm.forward(cache, ids.slice(ctx - 4));
  t.equal(cache.length, ctx);
  t.equal(cache.physicalLength, ctx, 'compacted to fit');
  const full = await lm.forward(lm.newCache(), ids);
  t.ok(maxAbsDiff(rows[3]!, full[ctx - 1]!) < 1e-4);
  await t.rejects(lm.forward(cache, [1]), /cache overflow/);
});
