// The key/value cache of several sequences decoded together (continuous batching, issue 15): one
// tensor per layer and kind, [rows, kvHeads, slots, headDim], fed to the graph as past and adopted
// from its present outputs, so a step copies no more than the graph's own Concat(past, new) does.
//
// Rows share the physical slot axis, and each row marks its own slots live or dead (kv-cache.ts
// explains holes for one row; the same attention_mask zeros and explicit position_ids carry over
// to rows). Rows feed different numbers of tokens in one pass: a row's real tokens come first and
// pad tokens fill it to the pass's width. Pad slots are visible to the pass that writes them
// (every query then attends to at least one finite key, so no softmax row is all-masked and no NaN
// reaches the cache) and dead from the next pass on; causality keeps them out of the row's real
// queries, which precede them.
//
// Joins are queued and applied by the next prepare(), which rebuilds the tensors: one gather copy
// that also drops every dead slot and every row that left (the compaction). A joining row comes
// from another BatchKvCache, typically a one-row cache its prompt was prefilled into, so a long
// prompt never widens the batch's pass.

import { Tensor } from 'onnxruntime-node';
import type { KvCacheLayout } from './kv-cache.js';

type CacheData = Float32Array | Uint16Array;

/** One sequence's row. Its index in the tensors changes when the cache is rebuilt. */
export class BatchRow {
  /** [capacity >= slots]: 1 where the physical slot holds one of this row's tokens. */
  live = new Uint8Array(64);
  /** Number of tokens the row holds (logical length). */
  length = 0;
  /** Index into the cache's tensors; -1 while not resident. */
  index = -1;
  constructor(readonly cache: BatchKvCache) {}
}

export interface BatchFeeds {
  /** Tokens per row in this pass (the widest row's real count). */
  width: number;
  /** [rows * width] */
  inputIds: BigInt64Array;
  /** [rows * (slots + width)] */
  attentionMask: BigInt64Array;
  /** [rows * width] */
  positionIds: BigInt64Array;
  /** [2 * numLayers]: each [rows, kvHeads, slots, headDim]. */
  past: Tensor[];
  /** Real token count per row, in row order. */
  counts: number[];
}

export class BatchKvCache {
  readonly layout: KvCacheLayout;
  #rows: BatchRow[] = [];
  #tensors: Tensor[] = [];
  #slots = 0;
  #joining: Array<{ row: BatchRow; from: { tensors: Tensor[]; slots: number } }> = [];
  #leaving = new Set<BatchRow>();
  #rebuilds = 0;

  constructor(layout: KvCacheLayout) {
    this.layout = layout;
  }

  /**
   * Rows in tensor order: resident ones, and ones that left but are still in the tensors (feed
   * them nothing). Joins apply at the next prepare().
   */
  get rows(): readonly BatchRow[] {
    return this.#rows;
  }

  get slots(): number {
    return this.#slots;
  }

  /** How many times the tensors were rebuilt (a gather copy), for tests and diagnostics. */
  get rebuilds(): number {
    return this.#rebuilds;
  }

  /** A new empty row; resident at the next prepare(). */
  addRow(): BatchRow {
    const row = new BatchRow(this);
    this.#joining.push({ row, from: { tensors: [], slots: 0 } });
    return row;
  }

  /**
   * Moves `row` of another cache (same layout) into this one, taking its tensors' data as they
   * stand; the other cache must not use the row again. Resident at the next prepare().
   */
  adopt(row: BatchRow): BatchRow {
    const from = row.cache;
    assert(from !== this && from.#rows[row.index] === row, 'adopt: the row is not resident in its cache');
    const moved = new BatchRow(this);
    // Its own mask: several rows may adopt one prefilled row (choices of one prompt).
    moved.live = row.live.slice();
    moved.length = row.length;
    moved.index = row.index;
    this.#joining.push({ row: moved, from: { tensors: from.#tensors, slots: from.#slots } });
    from.#leaving.add(row);
    return moved;
  }

  /** Drops `row` at the next prepare(). */
  remove(row: BatchRow): void {
    const j = this.#joining.findIndex((x) => x.row === row);
    if (j !== -1) this.#joining.splice(j, 1);
    else if (row.index !== -1) this.#leaving.add(row);
  }

  /**
   * Applies joins, and compacts when dead slots pass the layout's fraction or when `width` new
   * tokens would not fit the physical limit. A row that left stays in the tensors, dead, until
   * one of those rebuilds (the next join usually comes within a step or two, and one rebuild then
   * serves both). Returns how many tokens per row the next pass may feed (at least 1 once
   * compacted, since every row is shorter than the context).
   */
  prepare(width = 1): number {
    // A graph that cannot be told about holes must never see a dead slot.
    if (this.layout.allowHoles) this.#joinIntoVacancies();
    let live = 0;
    for (const r of this.#rows) if (!this.#leaving.has(r)) live += r.length;
    const dead = this.#rows.length * this.#slots - live;
    if (this.#joining.length > 0 || (!this.layout.allowHoles && this.#leaving.size > 0) || dead > this.layout.compactDeadFraction * this.#rows.length * this.#slots || this.#slots + width > this.layout.maxPhysicalLength) {
      this.#rebuild();
    }
    return this.layout.maxPhysicalLength - this.#slots;
  }

  /**
   * Puts joining rows into the slots of rows that left, copying only the joining row: in steady
   * traffic one sequence ends as another starts, and a rebuild would copy every row for it.
   */
  #joinIntoVacancies(): void {
    const { numLayers, numKvHeads: heads, headDim } = this.layout;
    const vacant = this.#rows.filter((r) => this.#leaving.has(r));
    while (vacant.length > 0) {
      const j = this.#joining.findIndex((x) => x.row.length <= this.#slots);
      if (j === -1) return;
      const { row, from } = this.#joining.splice(j, 1)[0]!;
      const gone = vacant.pop()!;
      const b = gone.index;
      const runs = liveRuns(row, from.slots);
      for (let t = 0; t < 2 * numLayers && row.length > 0; t++) {
        copyRow(from.tensors[t]!.data as CacheData, from.slots, row.index, runs, this.#tensors[t]!.data as CacheData, this.#slots, b, heads, headDim);
      }
      packMask(row, this.#slots);
      row.index = b;
      this.#rows[b] = row;
      this.#leaving.delete(gone);
      gone.index = -1;
    }
  }

  /** Truncates `row` to its first `length` tokens (marks the rest dead; copies nothing). */
  truncate(row: BatchRow, length: number): void {
    assert(Number.isInteger(length) && length >= 0 && length <= row.length, `truncate(${length}) on a row of ${row.length}`);
    if (length === row.length) return;
    for (let s = this.#slots - 1; row.length > length; s--) {
      if (row.live[s] === 1) {
        row.live[s] = 0;
        row.length--;
      }
    }
    // A graph that cannot be told about holes sees physical slots only.
    if (!this.layout.allowHoles) this.#rebuild();
  }

  /**
   * Feeds for one pass over the resident rows: `tokens[i]` are row i's new tokens (possibly none:
   * the row sits the pass out with pads). Call prepare() first; the widest row must fit its room.
   */
  feeds(tokens: readonly (readonly number[])[]): BatchFeeds {
    assert(this.#joining.length === 0, 'feeds: prepare() was not called after a join');
    const rows = this.#rows.length;
    assert(tokens.length === rows && rows > 0, `feeds: ${tokens.length} token lists for ${rows} rows`);
    const width = Math.max(1, ...tokens.map((t) => t.length));
    const slots = this.#slots;
    assert(slots + width <= this.layout.maxPhysicalLength, `cache overflow: ${slots} slots + ${width} new > ${this.layout.maxPhysicalLength}`);
    const maxPosition = this.layout.maxPhysicalLength - 1;
    const inputIds = new BigInt64Array(rows * width); // [rows, width]
    const positionIds = new BigInt64Array(rows * width); // [rows, width]
    const attentionMask = new BigInt64Array(rows * (slots + width)); // [rows, slots + width]
    for (let b = 0; b < rows; b++) {
      const row = this.#rows[b]!;
      const ids = tokens[b]!;
      assert(ids.length === 0 || !this.#leaving.has(row), 'feeds: tokens for a row that left');
      for (let i = 0; i < width; i++) {
        inputIds[b * width + i] = i < ids.length ? BigInt(ids[i]!) : 0n;
        positionIds[b * width + i] = BigInt(Math.min(row.length + i, maxPosition));
      }
      const mask = b * (slots + width);
      for (let s = 0; s < slots; s++) attentionMask[mask + s] = row.live[s] === 1 ? 1n : 0n;
      attentionMask.fill(1n, mask + slots, mask + slots + width);
    }
    return { width, inputIds, attentionMask, positionIds, past: slots === 0 ? this.#emptyPast() : this.#tensors, counts: tokens.map((t) => t.length) };
  }

  /** Adopts the present tensors of the pass over the last feeds(): each row keeps its real tokens. */
  append(presents: readonly Tensor[], feeds: BatchFeeds): void {
    const { numLayers, numKvHeads, headDim, dtype } = this.layout;
    const slots = this.#slots + feeds.width;
    const rows = this.#rows.length;
    assert(presents.length === 2 * numLayers, `expected ${2 * numLayers} present tensors, got ${presents.length}`);
    for (const t of presents) {
      const [b, h, s, d] = t.dims;
      assert(
        t.dims.length === 4 && b === rows && h === numKvHeads && s === slots && d === headDim,
        `present tensor has dims [${t.dims.join(', ')}], expected [${rows}, ${numKvHeads}, ${slots}, ${headDim}]`,
      );
      assert(t.type === dtype, `present tensor has type ${t.type}, expected ${dtype}`);
    }
    this.#tensors = [...presents];
    for (let b = 0; b < rows; b++) {
      const row = this.#rows[b]!;
      reserve(row, slots);
      const n = feeds.counts[b]!;
      row.live.fill(1, this.#slots, this.#slots + n);
      row.live.fill(0, this.#slots + n, slots);
      row.length += n;
    }
    this.#slots = slots;
  }

  /** Gathers every staying and joining row's live slots into new tensors with no dead slot. */
  #rebuild(): void {
    const { numLayers, numKvHeads: heads, headDim, dtype } = this.layout;
    const sources: Array<{ row: BatchRow; tensors: Tensor[]; slots: number }> = [];
    for (const row of this.#rows) {
      if (this.#leaving.has(row)) row.index = -1;
      else sources.push({ row, tensors: this.#tensors, slots: this.#slots });
    }
    for (const { row, from } of this.#joining) sources.push({ row, ...from });
    const rows = sources.length;
    const slots = Math.max(0, ...sources.map((s) => s.row.length));
    const runs = sources.map((source) => liveRuns(source.row, source.slots));
    const tensors: Tensor[] = [];
    for (let t = 0; t < 2 * numLayers; t++) {
      const size = rows * heads * slots * headDim;
      const dst: CacheData = dtype === 'float16' ? new Uint16Array(size) : new Float32Array(size);
      sources.forEach((source, b) => {
        if (source.row.length > 0) copyRow(source.tensors[t]!.data as CacheData, source.slots, source.row.index, runs[b]!, dst, slots, b, heads, headDim);
      });
      tensors.push(new Tensor(dtype, dst, [rows, heads, slots, headDim])); // [rows, heads, slots, headDim]
    }
    sources.forEach(({ row }, b) => {
      row.index = b;
      packMask(row, slots);
    });
    this.#rows = sources.map((s) => s.row);
    this.#tensors = tensors;
    this.#slots = slots;
    this.#joining = [];
    this.#leaving.clear();
    this.#rebuilds++;
  }

  #emptyPast(): Tensor[] {
    const { numLayers, numKvHeads, headDim, dtype } = this.layout;
    const rows = this.#rows.length;
    // An empty past still needs the graph's element type: a float16 graph rejects a float32 tensor.
    const empty = new Tensor(dtype, dtype === 'float16' ? new Uint16Array(0) : new Float32Array(0), [rows, numKvHeads, 0, headDim]);
    return Array.from({ length: 2 * numLayers }, () => empty);
  }
}

function liveRuns(row: BatchRow, slots: number): Array<[start: number, end: number]> {
  const runs: Array<[number, number]> = [];
  for (let s = 0; s < slots; s++) {
    if (row.live[s] !== 1) continue;
    const last = runs[runs.length - 1];
    if (last && last[1] === s) last[1] = s + 1;
    else runs.push([s, s + 1]);
  }
  return runs;
}

/**
 * Copies a row's live slots `runs`, as they lie at row `from` of `src` [rows, heads, srcSlots,
 * headDim], into slots 0.. of row `to` of `dst` [rows, heads, dstSlots, headDim].
 */
function copyRow(
  src: CacheData,
  srcSlots: number,
  from: number,
  runs: ReadonlyArray<[number, number]>,
  dst: CacheData,
  dstSlots: number,
  to: number,
  heads: number,
  headDim: number,
): void {
  for (let h = 0; h < heads; h++) {
    let out = (to * heads + h) * dstSlots * headDim;
    const base = (from * heads + h) * srcSlots;
    for (const [start, end] of runs) {
      const chunk = src.subarray((base + start) * headDim, (base + end) * headDim);
      dst.set(chunk as never, out);
      out += chunk.length;
    }
  }
}

/** The mask of a row whose tokens were just copied to slots 0..length of `slots`. */
function packMask(row: BatchRow, slots: number): void {
  reserve(row, slots);
  row.live.fill(1, 0, row.length);
  row.live.fill(0, row.length, slots);
}

function reserve(row: BatchRow, slots: number): void {
  if (slots <= row.live.length) return;
  const grown = new Uint8Array(Math.max(slots, 2 * row.live.length));
  grown.set(row.live);
  row.live = grown;
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`batch-kv-cache: ${message}`);
}
