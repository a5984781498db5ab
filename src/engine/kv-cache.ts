// Per-sequence key/value cache with a cheap truncate(length), which speculative decoding needs
// after every rejected draft.
//
// Why holes instead of slicing: a cache tensor is [1, kvHeads, slots, headDim], head-major, so
// dropping its last slots is a strided copy of the whole cache. Instead the cache keeps the
// tensors exactly as onnxruntime returned them and marks the rejected slots dead. The next
// forward pass masks dead slots out with attention_mask zeros (masked keys get no attention),
// and feeds explicit position_ids that continue the *logical* positions, so a cache with holes
// gives the same logits as a compact one. Slots are in logical order, so holes never reorder.
//
// Dead slots still cost attention work and are copied along by the graph's Concat(past, new) in
// every step, so the cache compacts (one gather copy) once they exceed `compactDeadFraction` of
// the physical length: a compaction costs about one step's worth of cache traffic, and d dead
// slots cost d / physical of every step, so a fraction around 1/4 amortises the copy over many
// steps while wasting little. It also compacts before the physical length would pass
// `maxPhysicalLength`: some exports build their causal mask from a static buffer of
// n_positions, so physical slots must stay within the context as well.
//
// Graphs without attention_mask or position_ids cannot be told about holes; for them
// (allowHoles false) truncate() compacts at once.

import { Tensor } from 'onnxruntime-node';
import type { KvDtype } from './model-config.js';

export interface KvCacheLayout {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  dtype: KvDtype;
  maxPhysicalLength: number;
  allowHoles: boolean;
  /** Compact once dead slots exceed this fraction of the physical slots. */
  compactDeadFraction: number;
}

export interface KvFeeds {
  /** [2 * numLayers]: layer i key at 2i, value at 2i + 1; each [1, kvHeads, physical, headDim]. */
  past: Tensor[];
  /** [physical + n]: 1 for live past slots and the n new tokens, 0 for dead slots. */
  attentionMask: BigInt64Array;
  /** [n]: logical positions of the new tokens. */
  positionIds: BigInt64Array;
}

type CacheData = Float32Array | Uint16Array;

export class KvCache {
  readonly layout: KvCacheLayout;
  #tensors: Tensor[] = [];
  /** [capacity >= physical]: 1 where the physical slot holds a live token. */
  #live = new Uint8Array(64);
  #physical = 0;
  #logical = 0;
  #compactions = 0;

  constructor(layout: KvCacheLayout) {
    if (!(layout.compactDeadFraction >= 0 && layout.compactDeadFraction <= 1)) {
      throw new RangeError(`compactDeadFraction must be in [0, 1], got ${layout.compactDeadFraction}`);
    }
    this.layout = layout;
  }

  /** Number of tokens the cache holds (logical length). */
  get length(): number {
    return this.#logical;
  }

  get physicalLength(): number {
    return this.#physical;
  }

  get deadSlots(): number {
    return this.#physical - this.#logical;
  }

  /** How many times the cache has been compacted (a full copy), for tests and diagnostics. */
  get compactions(): number {
    return this.#compactions;
  }

  reset(): void {
    this.#tensors = [];
    this.#physical = 0;
    this.#logical = 0;
  }

  /** Feeds for a forward pass over `n` new tokens; compacts first if the graph would see too many slots. */
  feeds(n: number): KvFeeds {
    assert(Number.isInteger(n) && n > 0, `feeds: bad token count ${n}`);
    if (this.#physical + n > this.layout.maxPhysicalLength && this.deadSlots > 0) this.compact();
    assert(
      this.#physical + n <= this.layout.maxPhysicalLength,
      `cache overflow: ${this.#logical} cached + ${n} new tokens > ${this.layout.maxPhysicalLength} positions`,
    );
    const attentionMask = new BigInt64Array(this.#physical + n); // [physical + n]
    for (let s = 0; s < this.#physical; s++) attentionMask[s] = BigInt(this.#live[s]!);
    attentionMask.fill(1n, this.#physical);
    const positionIds = new BigInt64Array(n); // [n]
    for (let i = 0; i < n; i++) positionIds[i] = BigInt(this.#logical + i);
    return { past: this.#physical === 0 ? this.#emptyPast() : this.#tensors, attentionMask, positionIds };
  }

  /** Adopts the present tensors that the forward pass over the last feeds(n) returned. */
  append(presents: readonly Tensor[], n: number): void {
    const { numLayers, numKvHeads, headDim, dtype } = this.layout;
    const physical = this.#physical + n;
    assert(presents.length === 2 * numLayers, `expected ${2 * numLayers} present tensors, got ${presents.length}`);
    for (const t of presents) {
      const [b, h, s, d] = t.dims;
      assert(
        t.dims.length === 4 && b === 1 && h === numKvHeads && s === physical && d === headDim,
        `present tensor has dims [${t.dims.join(', ')}], expected [1, ${numKvHeads}, ${physical}, ${headDim}]`,
      );
      assert(t.type === dtype, `present tensor has type ${t.type}, expected ${dtype}`);
    }
    this.#tensors = [...presents];
    this.#reserve(physical);
    this.#live.fill(1, this.#physical, physical);
    this.#physical = physical;
    this.#logical += n;
  }

  /** Keeps the first `length` tokens. Copies nothing unless a compaction is due. */
  truncate(length: number): void {
    assert(Number.isInteger(length) && length >= 0 && length <= this.#logical, `truncate(${length}) on a cache of ${this.#logical}`);
    if (length === this.#logical) return;
    if (length === 0) return this.reset();
    for (let s = this.#physical - 1; this.#logical > length; s--) {
      if (this.#live[s] === 1) {
        this.#live[s] = 0;
        this.#logical--;
      }
    }
    if (!this.layout.allowHoles || this.deadSlots > this.layout.compactDeadFraction * this.#physical) this.compact();
  }

  /** Gathers the live slots into new tensors with no holes (one copy of the live cache). */
  compact(): void {
    if (this.deadSlots === 0) return;
    const runs: Array<[start: number, end: number]> = [];
    for (let s = 0; s < this.#physical; s++) {
      if (this.#live[s] !== 1) continue;
      const last = runs[runs.length - 1];
      if (last && last[1] === s) last[1] = s + 1;
      else runs.push([s, s + 1]);
    }
    const { numKvHeads, headDim, dtype } = this.layout;
    const from = this.#physical;
    const to = this.#logical;
    this.#tensors = this.#tensors.map((t) => {
      const src = t.data as CacheData; // [1, kvHeads, from, headDim]
      const dst = dtype === 'float16' ? new Uint16Array(numKvHeads * to * headDim) : new Float32Array(numKvHeads * to * headDim);
      for (let h = 0; h < numKvHeads; h++) {
        let out = h * to * headDim;
        for (const [start, end] of runs) {
          const chunk = src.subarray((h * from + start) * headDim, (h * from + end) * headDim);
          dst.set(chunk as never, out);
          out += chunk.length;
        }
      }
      return new Tensor(dtype, dst, [1, numKvHeads, to, headDim]); // [1, kvHeads, to, headDim]
    });
    this.#live.fill(1, 0, to);
    this.#physical = to;
    this.#compactions++;
  }

  #reserve(slots: number): void {
    if (slots <= this.#live.length) return;
    const grown = new Uint8Array(Math.max(slots, 2 * this.#live.length));
    grown.set(this.#live);
    this.#live = grown;
  }

  #emptyPast(): Tensor[] {
    const { numLayers, numKvHeads, headDim, dtype } = this.layout;
    // An empty past still needs the graph's element type: a float16 graph rejects a float32 tensor.
    const empty = new Tensor(dtype, dtype === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, numKvHeads, 0, headDim]);
    return Array.from({ length: 2 * numLayers }, () => empty);
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`kv-cache: ${message}`);
}
