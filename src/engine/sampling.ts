// Logits processors and token sampling, in float64.
//
// Each processor is one small class that edits a logits row in place, masking tokens out with
// -Infinity; LogitsProcessorList chains them in transformers' order (temperature, top-k,
// top-p), after those that read the sequence so far (logits-processors.ts: logit bias,
// min_tokens, penalties; min-p after temperature). TokenSampler turns a request's options into
// the processed distribution that both the drafter (q) and the verifier (p) use, each given the
// tokens before its position, which is what speculative sampling needs to stay exact for the
// processed target distribution.

import type { LogitsOptions, SamplingOptions } from './types.js';
import type { RandomSource } from './random.js';
import {
  LogitBiasProcessor,
  MinPProcessor,
  MinTokensProcessor,
  PresenceFrequencyProcessor,
  RepetitionPenaltyProcessor,
  TokenHistory,
} from './logits-processors.js';

export interface LogitsProcessor {
  /** Edits `logits` [vocab] in place; `history` is the sequence before the row's position. */
  process(logits: Float64Array, history: TokenHistory): void;
}

export class TemperatureProcessor implements LogitsProcessor {
  constructor(readonly temperature: number) {
    if (!(temperature > 0 && Number.isFinite(temperature))) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  }

  process(logits: Float64Array): void {
    // (l − max) / T rather than l / T: the same distribution (softmax ignores a shift), but no
    // logit overflows to ±∞ however small T is (l / 5e-324 is ∞, and ∞ − ∞ made softmax NaN;
    // issue 16). The top logits become 0, the rest negative or −∞.
    const max = maxOf(logits);
    for (let i = 0; i < logits.length; i++) logits[i] = (logits[i]! - max) / this.temperature;
  }
}

/** Keeps the k highest logits (ties with the k-th are kept too). */
export class TopKProcessor implements LogitsProcessor {
  constructor(readonly k: number) {
    if (!(Number.isInteger(k) && k > 0)) throw new RangeError(`top-k must be a positive integer, got ${k}`);
  }

  process(logits: Float64Array): void {
    if (this.k >= logits.length) return;
    const kth = Float64Array.from(logits).sort().reverse()[this.k - 1]!;
    for (let i = 0; i < logits.length; i++) if (logits[i]! < kth) logits[i] = -Infinity;
  }
}

/** Nucleus sampling: keeps the most likely tokens until their probability reaches p (at least one). */
export class TopPProcessor implements LogitsProcessor {
  constructor(readonly p: number) {
    if (!(p > 0 && p <= 1)) throw new RangeError(`top-p must be in (0, 1], got ${p}`);
  }

  process(logits: Float64Array): void {
    if (this.p >= 1) return;
    const probs = softmax(logits);
    const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
    let mass = 0;
    let kept = 0;
    while (kept < order.length && (kept === 0 || mass < this.p)) mass += probs[order[kept++]!]!;
    for (let r = kept; r < order.length; r++) logits[order[r]!] = -Infinity;
  }
}

export class LogitsProcessorList implements LogitsProcessor {
  constructor(readonly processors: readonly LogitsProcessor[]) {}

  process(logits: Float64Array, history: TokenHistory = NO_HISTORY): void {
    for (const p of this.processors) p.process(logits, history);
  }
}

const NO_HISTORY = new TokenHistory([], 0);

/** Where a sampler's sequence starts and ends: what min_tokens and the penalties need to know. */
export interface SequenceInfo {
  /** Tokens of the prompt at the start of every history passed to distribution(). */
  promptLength: number;
  /** The tokens min_tokens masks. */
  eosTokenIds: readonly number[];
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function maxOf(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return max;
}

/** log softmax in float64: [vocab]. Subtracting the max first keeps the small terms exact. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const max = maxOf(logits);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const logSum = Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - max - logSum;
  return out;
}

/** softmax in float64 ([vocab]); -Infinity logits get probability 0. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  const max = maxOf(logits);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** Inverse-CDF draw from `probs` (which need not be normalised) with u uniform in [0, 1). */
export function sampleIndex(probs: ArrayLike<number>, u: number): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i]!;
  if (!(total > 0)) throw new RangeError('cannot sample from an all-zero distribution');
  let target = u * total;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    last = i;
    target -= probs[i]!;
    if (target < 0) return i;
  }
  return last; // rounding left a sliver past the end
}

export class TokenSampler {
  /** Temperature 0: every choice is the argmax and no random numbers are drawn. */
  readonly greedy: boolean;
  /** The request's random stream; the acceptance test draws from it too. */
  readonly random: RandomSource;
  /** Processors that read the history; they apply to greedy requests too. */
  readonly #contextual: LogitsProcessorList;
  readonly #processors: LogitsProcessorList;
  readonly #promptLength: number;

  constructor(options: SamplingOptions & LogitsOptions, random: RandomSource, sequence: SequenceInfo = { promptLength: 0, eosTokenIds: [] }) {
    this.greedy = options.temperature === 0;
    const contextual: LogitsProcessor[] = [];
    if (options.logitBias !== undefined && Object.keys(options.logitBias).length > 0) contextual.push(new LogitBiasProcessor(options.logitBias));
    if ((options.minTokens ?? 0) > 0 && sequence.eosTokenIds.length > 0) contextual.push(new MinTokensProcessor(options.minTokens!, sequence.eosTokenIds));
    if ((options.repetitionPenalty ?? 1) !== 1) contextual.push(new RepetitionPenaltyProcessor(options.repetitionPenalty!));
    const presence = options.presencePenalty ?? 0;
    const frequency = options.frequencyPenalty ?? 0;
    if (presence !== 0 || frequency !== 0) contextual.push(new PresenceFrequencyProcessor(presence, frequency));
    const processors: LogitsProcessor[] = [];
    if (!this.greedy) {
      if (options.temperature !== 1) processors.push(new TemperatureProcessor(options.temperature));
      if ((options.minP ?? 0) > 0) processors.push(new MinPProcessor(options.minP!));
      if (options.topK > 0) processors.push(new TopKProcessor(options.topK));
      if (options.topP < 1) processors.push(new TopPProcessor(options.topP));
    }
    this.#contextual = new LogitsProcessorList(contextual);
    this.#processors = new LogitsProcessorList(processors);
    this.#promptLength = sequence.promptLength;
    this.random = random;
  }

  /**
   * The processed distribution of a raw logits row: [vocab]; one-hot on the processed argmax when
   * greedy. `history` [promptLength + output so far] is the sequence before the row's position,
   * drafts included; it may be left out only by a sampler whose processors do not read it.
   */
  distribution(logits: ArrayLike<number>, history?: readonly number[]): Float64Array {
    const contextual = this.#contextual.processors.length > 0;
    if (this.greedy && !contextual) {
      const onehot = new Float64Array(logits.length);
      onehot[argmax(logits)] = 1;
      return onehot;
    }
    const row = Float64Array.from(logits as ArrayLike<number>);
    if (contextual) {
      if (history === undefined || history.length < this.#promptLength) {
        throw new Error(`sampling: a history of at least the prompt's ${this.#promptLength} tokens is needed, got ${history?.length}`);
      }
      this.#contextual.process(row, new TokenHistory(history, this.#promptLength));
    }
    if (this.greedy) {
      const onehot = new Float64Array(logits.length);
      onehot[argmax(row)] = 1;
      return onehot;
    }
    this.#processors.process(row);
    return softmax(row);
  }

  /** The processed argmax of a raw logits row (greedy decoding), without building the one-hot distribution. */
  argmax(logits: ArrayLike<number>, history?: readonly number[]): number {
    return this.#contextual.processors.length === 0 ? argmax(logits) : argmax(this.distribution(logits, history));
  }

  /** A token from a processed distribution. */
  sample(probs: Float64Array): number {
    return this.greedy ? argmax(probs) : sampleIndex(probs, this.random.next());
  }
}
