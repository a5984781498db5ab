// Counts a token n-gram model for the statistical drafter (src/engine/ngram-table.ts says what
// the table holds and how the drafter smooths it). Per context length k = 0..order-1, every
// (context, next token) pair is packed into one float64, context key × 2^16 + token (exact below
// 2^53), and the packed values are sorted: runs of equal values are the pair counts, runs of
// equal context keys the contexts. Typed-array sorting keeps a 3 MB language to a second or two.

import { contextKey, type NgramContext } from '../../../src/engine/ngram-table.js';

export interface CountOptions {
  /** Context lengths 0..order-1 are counted. */
  order: number;
  /** Next tokens seen fewer times in a context are left out (their mass goes to the shorter context). */
  minCount: number;
  /** Contexts (of length >= 1) seen fewer times are left out altogether. */
  minContextCount: number;
}

/** The contexts of a table over `documents` (each a token sequence; n-grams do not cross them). */
export function countNgrams(documents: readonly (readonly number[])[], options: CountOptions): NgramContext[] {
  const byKey = new Map<number, NgramContext>();
  for (let k = 0; k < options.order; k++) {
    let size = 0;
    for (const d of documents) size += Math.max(0, d.length - k);
    const packed = new Float64Array(size);
    let at = 0;
    for (const d of documents) {
      for (let i = k; i < d.length; i++) packed[at++] = contextKey(d, i - k, i) * 65536 + d[i]!;
    }
    packed.sort();
    let i = 0;
    while (i < size) {
      const key = Math.floor(packed[i]! / 65536);
      const next: Array<[number, number]> = [];
      let total = 0;
      let types = 0;
      while (i < size && Math.floor(packed[i]! / 65536) === key) {
        const value = packed[i]!;
        let count = 0;
        while (i < size && packed[i] === value) {
          count++;
          i++;
        }
        total += count;
        types++;
        if (count >= options.minCount || k === 0) next.push([value % 65536, count]);
      }
      // A context whose next tokens were all pruned predicts exactly what its shorter context
      // does (ngram-table.ts renormalises), and so does every longer one through it: drop it.
      if (k > 0 && (total < options.minContextCount || next.length === 0)) continue;
      const seen = byKey.get(key);
      if (seen) mergeInto(seen, total, types, next);
      else byKey.set(key, { key, total, types, next });
    }
  }
  return [...byKey.values()];
}

/** Two contexts whose keys collide share one entry: their counts add up. */
function mergeInto(c: NgramContext, total: number, types: number, next: Array<[number, number]>): void {
  c.total += total;
  const counts = new Map(c.next);
  for (const [token, count] of next) counts.set(token, (counts.get(token) ?? 0) + count);
  c.next = [...counts];
  c.types = Math.max(c.types, types, c.next.length); // a bound the vocabulary keeps
}
