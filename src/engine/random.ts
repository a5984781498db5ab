// Seeded uniform random numbers for sampling (pure-rand's xoroshiro128+): same seed, same stream.

import { randomInt } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';

export interface RandomSource {
  /** Uniform in [0, 1), 53 random bits. */
  next(): number;
}

/** murmur3's 32-bit finaliser: every input bit flips each output bit with probability about 1/2. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/**
 * A generator for any safe-integer seed. The 128-bit state is expanded from the seed with a
 * SplitMix-style hash, as the xoroshiro authors recommend: pure-rand's xoroshiro128plus(seed)
 * uses the seed almost verbatim as state, so consecutive seeds (0, 1, 2, ...) start with nearly
 * the same numbers and would sample nearly the same tokens.
 */
export function createRandom(seed: number): RandomSource {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const low = seed >>> 0;
  const high = Math.floor(seed / 2 ** 32) >>> 0;
  const base = mix32(low ^ mix32(high + 0x7f4a7c15));
  const state = [1, 2, 3, 4].map((i) => mix32(base + Math.imul(i, 0x9e3779b9)));
  if (!state.some((w) => w !== 0)) state[0] = 1; // the all-zero state is a fixed point
  const rng = xoroshiro128plusFromState(state);
  return { next: () => uniformFloat64(rng) };
}

/**
 * A standard normal draw by Box–Muller, using one value of the pair: two uniforms per draw, so
 * consecutive draws stay independent whatever the caller interleaves them with.
 */
export function standardNormal(random: RandomSource): number {
  return Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
}

/** A fresh seed for requests that give none. */
export function randomSeed(): number {
  return randomInt(0, 2 ** 48 - 1);
}
