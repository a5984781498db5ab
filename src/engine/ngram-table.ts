// A smoothed token n-gram model in one compact binary table: what the statistical drafter
// (ngram-drafter.ts) draws its q from, and what the pipeline writes (models/training/
// build_ngram_drafter.ts) from the training corpus.
//
// Model: Witten-Bell interpolation (Witten & Bell 1991; Chen & Goodman 1998, section 2.5) from
// the uniform distribution up through contexts of 0..order-1 tokens:
//   P_0(x)   = (c(x) + T·1/V) / (C + T)                       over the empty context
//   P_k(x|h) = (c(h,x) + T(h)·P_{k-1}(x|h')) / (c(h) + T(h))  h' = h without its oldest token
// with c(h) the context's count, T(h) its number of distinct next tokens. Every token keeps
// probability > 0, so q has full support and a sampled draft is never a token q cannot give.
// The walk stops at the first context the table lacks (a longer one has no larger count, so
// the builder pruned it too). Pruned next tokens leave their mass unassigned; the row is
// renormalised at the end.
//
// Layout, little-endian (all sections 4-byte aligned):
//   header   'FSNG', u32 version 1, u32 vocabSize, u32 order, u32 contexts n, u32 entries m
//   keys     u32[n]    contextKey(tokens), strictly increasing (binary search)
//   totals   u32[n]    c(h)
//   types    u32[n]    T(h), counted before pruning
//   starts   u32[n+1]  entry range of each context; starts[0] = 0, starts[n] = m
//   tokens   u16[m]    next tokens, padded to 4 bytes
//   counts   u32[m]    c(h, x)
//   crc32    u32       of everything before it
// A file may hold the table gzip-compressed (the pipeline ships them so: about 40 % of the size,
// the keys being hashes are what stays); read() takes either.
// Contexts are keyed by a 32-bit hash of their length and tokens. A collision merges two
// contexts' counts into one (the builder sums them): a slightly worse q, never a wrong output,
// since the verifier decides every token.

import { crc32, gunzipSync } from 'node:zlib';

const MAGIC = 0x474e5346; // 'FSNG' read as a little-endian u32
const VERSION = 1;
const HEADER_BYTES = 24;

export class NgramTableError extends Error {
  override readonly name = 'NgramTableError';
}

/** One context's counts, as the builder hands them to encodeNgramTable. */
export interface NgramContext {
  key: number;
  total: number;
  types: number;
  /** [token, count], any order. */
  next: Array<[number, number]>;
}

/** FNV-1a over the context length and its tokens (16 bits each): the table key of `tokens[from..to)`. */
export function contextKey(tokens: ArrayLike<number>, from: number, to: number): number {
  let h = 0x811c9dc5;
  const mix = (byte: number): void => {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  };
  mix(to - from);
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    mix(t & 0xff);
    mix(t >>> 8);
  }
  return h >>> 0;
}

export class NgramTable {
  readonly vocabSize: number;
  readonly order: number;
  readonly #keys: Uint32Array;
  readonly #totals: Uint32Array;
  readonly #types: Uint32Array;
  readonly #starts: Uint32Array;
  readonly #tokens: Uint16Array;
  readonly #counts: Uint32Array;

  private constructor(vocabSize: number, order: number, sections: Uint32Array[], tokens: Uint16Array) {
    this.vocabSize = vocabSize;
    this.order = order;
    [this.#keys, this.#totals, this.#types, this.#starts, this.#counts] = sections as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
    this.#tokens = tokens;
  }

  get contexts(): number {
    return this.#keys.length;
  }

  get entries(): number {
    return this.#tokens.length;
  }

  /** decode() of the file's bytes, gunzipped first when they are a gzip stream. */
  static read(bytes: Uint8Array): NgramTable {
    if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      let raw: Uint8Array;
      try {
        raw = gunzipSync(bytes);
      } catch (err) {
        throw new NgramTableError(`not a whole gzip stream (truncated or corrupt: ${(err as Error).message})`);
      }
      return NgramTable.decode(raw);
    }
    return NgramTable.decode(bytes);
  }

  /**
   * Parses and checks a table: magic, version, sizes against the file's length, the checksum,
   * and every structural invariant the lookups rely on. Throws NgramTableError saying what is wrong.
   */
  static decode(bytes: Uint8Array): NgramTable {
    const fail = (what: string): never => {
      throw new NgramTableError(what);
    };
    if (bytes.length < HEADER_BYTES + 8) fail(`${bytes.length} bytes is too short for an n-gram table`);
    // A private, aligned copy: a Buffer from readFile may sit at any offset of a shared pool.
    const buf = new Uint8Array(bytes);
    const view = new DataView(buf.buffer);
    const u32 = (at: number) => view.getUint32(at, true);
    if (u32(0) !== MAGIC) fail('not an n-gram table (bad magic number)');
    if (u32(4) !== VERSION) fail(`n-gram table version ${u32(4)}, this server reads version ${VERSION}`);
    const [vocabSize, order, n, m] = [u32(8), u32(12), u32(16), u32(20)];
    if (!(vocabSize >= 2 && vocabSize <= 0x10000)) fail(`vocab size ${vocabSize} out of range`);
    if (!(order >= 1 && order <= 32)) fail(`order ${order} out of range`);
    const tokenBytes = Math.ceil((2 * m) / 4) * 4;
    const expected = HEADER_BYTES + 4 * (4 * n + 1) + tokenBytes + 4 * m + 4;
    if (buf.length !== expected) fail(`${buf.length} bytes, but its header says ${expected} (truncated or corrupt)`);
    if (crc32(buf.subarray(0, expected - 4)) !== u32(expected - 4)) fail('checksum mismatch (corrupt)');
    let at = HEADER_BYTES;
    const words = (count: number): Uint32Array => {
      const out = new Uint32Array(buf.buffer, at, count);
      at += 4 * count;
      return out;
    };
    const keys = words(n);
    const totals = words(n);
    const types = words(n);
    const starts = words(n + 1);
    const tokens = new Uint16Array(buf.buffer, at, m);
    at += tokenBytes;
    const counts = words(m);
    if (starts[0] !== 0 || starts[n] !== m) fail('entry ranges do not cover the entries');
    for (let i = 0; i < n; i++) {
      if (i > 0 && keys[i]! <= keys[i - 1]!) fail(`context keys out of order at ${i}`);
      const [from, to] = [starts[i]!, starts[i + 1]!];
      if (to < from) fail(`entry range of context ${i} is reversed`);
      if (types[i]! < to - from || types[i]! > vocabSize) fail(`context ${i} has ${types[i]} types for ${to - from} entries`);
      let sum = 0;
      for (let e = from; e < to; e++) {
        if (tokens[e]! >= vocabSize) fail(`token ${tokens[e]} is outside the vocabulary of ${vocabSize}`);
        if (counts[e] === 0) fail(`a zero count in context ${i}`);
        sum += counts[e]!;
      }
      if (sum > totals[i]! || (to > from ? totals[i] === 0 : false)) fail(`context ${i}: entry counts ${sum} exceed its total ${totals[i]}`);
    }
    return new NgramTable(vocabSize, order, [keys, totals, types, starts, counts], tokens);
  }

  /** Writes contexts (any order; keys must be distinct) as a table. */
  static encode(vocabSize: number, order: number, contexts: readonly NgramContext[]): Uint8Array {
    const sorted = [...contexts].sort((a, b) => a.key - b.key);
    const n = sorted.length;
    const m = sorted.reduce((s, c) => s + c.next.length, 0);
    const tokenBytes = Math.ceil((2 * m) / 4) * 4;
    const size = HEADER_BYTES + 4 * (4 * n + 1) + tokenBytes + 4 * m + 4;
    const buf = new Uint8Array(size);
    const view = new DataView(buf.buffer);
    [MAGIC, VERSION, vocabSize, order, n, m].forEach((v, i) => view.setUint32(4 * i, v, true));
    const base = HEADER_BYTES;
    const at = { keys: base, totals: base + 4 * n, types: base + 8 * n, starts: base + 12 * n, tokens: base + 16 * n + 4 };
    const countsAt = at.tokens + tokenBytes;
    let e = 0;
    sorted.forEach((c, i) => {
      view.setUint32(at.keys + 4 * i, c.key, true);
      view.setUint32(at.totals + 4 * i, c.total, true);
      view.setUint32(at.types + 4 * i, c.types, true);
      view.setUint32(at.starts + 4 * i, e, true);
      for (const [token, count] of [...c.next].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
        view.setUint16(at.tokens + 2 * e, token, true);
        view.setUint32(countsAt + 4 * e, count, true);
        e++;
      }
    });
    view.setUint32(at.starts + 4 * n, e, true);
    view.setUint32(size - 4, crc32(buf.subarray(0, size - 4)), true);
    return buf;
  }

  #find(key: number): number {
    const keys = this.#keys;
    let lo = 0;
    let hi = keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k === key) return mid;
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * log q(x | history): [vocab], the interpolated distribution after the last order-1 tokens of
   * `history`, as logits (log-probabilities) for the samplers and the agreement metrics.
   */
  logits(history: readonly number[]): Float32Array {
    const V = this.vocabSize;
    const p = new Float64Array(V).fill(1 / V);
    const longest = Math.min(this.order - 1, history.length);
    for (let k = 0; k <= longest; k++) {
      const i = this.#find(contextKey(history, history.length - k, history.length));
      if (i === -1) break;
      const total = this.#totals[i]!;
      const types = this.#types[i]!;
      if (total + types === 0) break;
      const scale = types / (total + types);
      for (let x = 0; x < V; x++) p[x]! *= scale;
      for (let e = this.#starts[i]!; e < this.#starts[i + 1]!; e++) p[this.#tokens[e]!]! += this.#counts[e]! / (total + types);
    }
    let sum = 0;
    for (let x = 0; x < V; x++) sum += p[x]!;
    const out = new Float32Array(V);
    for (let x = 0; x < V; x++) out[x] = Math.log(p[x]! / sum);
    return out;
  }
}
