// One generation (a prompt × choice) as the scheduler steps it: its committed tokens, its sampler,
// stopping rules and statistics, and what one verified step does to them. The decoding rules are
// those of speculative decoding for one sequence:
//
// Each step the drafter proposes γ tokens, the verifier scores all γ + 1 positions, the rejection
// rule keeps a prefix of the drafts and adds one recovered or bonus token, and the verifier's row
// drops the rejected drafts. γ = 0 (no drafter) is plain autoregressive decoding: one token a step.
// Cache invariant at the top of every step: the verifier row holds the committed tokens except the
// last one, which is fed in front of the drafts.
//
// Tokens are committed one at a time, so the stopping rules (eos, stop strings, max_tokens, the
// context) cut the output at the same token whatever γ is; tokens accepted after a stop are
// discarded. The eos token ends the output and is not part of text or tokenIds, but is counted in
// completionTokens. A stop string ends the output before the stop string; tokenIds keep the token
// that completed it.
//
// Faults (issue 16): a drafter that fails is dropped for the rest of the generation, which goes on
// as plain decoding. Every emitted token is the verifier's decision either way, so the output is
// what γ = 0 gives (greedy: token for token; sampled: the same distribution).

import type { BatchRow } from './batch-kv-cache.js';
import { draftAgreement } from './draft-agreement.js';
import type { Draft, Drafter } from './drafter.js';
import { IncrementalDetokenizer } from './incremental-detokenizer.js';
import { verifyGreedy, verifySampled, type Verdict } from './rejection.js';
import { argmax, type TokenSampler } from './sampling.js';
import { StopStringMatcher } from './stop-strings.js';
import type { FinishReason, GenerateResult, SpeculativeStats } from './types.js';

export interface SequenceSpec {
  /** Sequences of one request share a group: rows are shared out round-robin between groups. */
  group: unknown;
  /** null: plain decoding. */
  drafter: Drafter | null;
  /**
   * Keep γ whatever the load (a seeded sampled request: a different γ draws different random
   * numbers, and the same seed must give the same output).
   */
  steadyDraftLength?: boolean | undefined;
  /** γ; must be 0 when drafter is null. */
  draftLength: number;
  promptIds: readonly number[];
  sampler: TokenSampler;
  /** The request's language as routed, for drafters with one model per language; null: none detected. */
  language?: string | null | undefined;
  maxTokens: number;
  stop: readonly string[];
  eosTokenIds: readonly number[];
  contextLength: number;
  decode: (ids: readonly number[]) => string;
  signal?: AbortSignal | undefined;
  /** A returned promise keeps the sequence out of the batch until it settles (backpressure). */
  onText?: ((delta: string) => void | Promise<void>) | undefined;
  /** The drafter failed; decoding goes on without it. */
  onDrafterError?: ((drafter: string, error: Error) => void) | undefined;
  /** Each committed token (an eos that ends the output aside) with the verifier's raw logits row [vocab] it was decided on. */
  onToken?: ((token: number, logits: Float32Array) => void) | undefined;
}

/** Prompt tokens the detokenizer decodes ahead of the completion (incremental-detokenizer.ts), vLLM's 5. */
const DETOKENIZER_CONTEXT = 5;

export function emptyStats(drafter: string | null, draftLength: number): SpeculativeStats {
  return {
    drafter,
    draftLength,
    drafts: 0,
    draftedTokens: 0,
    requestedTokens: 0,
    acceptedTokens: 0,
    acceptedPerPosition: new Array<number>(draftLength).fill(0),
    alphaSum: 0,
    greedyMatches: 0,
    crossEntropySum: 0,
    verifierSteps: 0,
    draftMs: 0,
    verifyMs: 0,
  };
}

export class Sequence {
  readonly spec: SequenceSpec;
  readonly stats: SpeculativeStats;
  readonly startedAt = performance.now();
  /** Prompt and generated tokens. */
  readonly committed: number[];
  readonly generated: number[] = [];
  /** The verifier's row while resident in the batch. */
  row: BatchRow | null = null;
  /** null from a drafter fault on: plain decoding. */
  drafter: Drafter | null;
  finish: FinishReason | null = null;
  /** A text delta the client has not taken yet (backpressure). */
  pendingText: Promise<void> | null = null;
  #text = '';
  #endedByEos = false;
  #firstTokenMs: number | null = null;
  readonly #eos: Set<number>;
  readonly #detokenizer: IncrementalDetokenizer;
  readonly #stops: StopStringMatcher;
  readonly gamma: number;

  constructor(spec: SequenceSpec) {
    this.spec = spec;
    this.drafter = spec.drafter;
    this.gamma = spec.drafter ? spec.draftLength : 0;
    assert(Number.isInteger(this.gamma) && this.gamma >= 0, `bad draft length ${spec.draftLength}`);
    assert(spec.drafter !== null || spec.draftLength === 0, 'a draft length without a drafter');
    assert(spec.promptIds.length > 0 && spec.promptIds.length < spec.contextLength, `prompt of ${spec.promptIds.length} tokens`);
    this.stats = emptyStats(this.gamma > 0 ? spec.drafter!.name : null, this.gamma);
    this.committed = [...spec.promptIds];
    this.#eos = new Set(spec.eosTokenIds);
    this.#detokenizer = new IncrementalDetokenizer(spec.decode, spec.promptIds.slice(-DETOKENIZER_CONTEXT));
    this.#stops = new StopStringMatcher(spec.stop);
  }

  /** Tokens the sequence may still emit (max_tokens and the context). */
  get room(): number {
    return Math.min(this.spec.maxTokens - this.generated.length, this.spec.contextLength - this.committed.length);
  }

  /** Ends the sequence when the client left or no room is left; true when it has ended. */
  checkEnd(): boolean {
    if (this.finish !== null) return true;
    if (this.spec.signal?.aborted) this.finish = 'abort';
    else if (this.room <= 0) this.finish = 'length';
    return this.finish !== null;
  }

  /** The draft length for this step: γ capped by the room left, the drafter's context and `cap`. */
  draftLengthFor(cap: number): number {
    if (!this.drafter || this.gamma === 0) return 0;
    // A step emits up to γ + 1 tokens: draft no more than the room left can take.
    return Math.max(0, Math.min(this.gamma, cap, this.room - 1, this.drafter.maxDraftLength(this.committed.length)));
  }

  /** The drafter failed: plain decoding from now on. */
  dropDrafter(error: Error): void {
    const drafter = this.drafter;
    if (!drafter) return;
    this.drafter = null;
    drafter.release(this);
    this.spec.onDrafterError?.(drafter.name, error);
  }

  /** The tokens to feed the verifier this step: those its row lacks, then the drafts. */
  verifierFeed(draft: Draft): number[] {
    return this.committed.slice(this.row!.length).concat(draft.tokenIds);
  }

  /**
   * Applies one verified step: `scored` [g + 1][vocab] are the verifier's logits at the draft
   * positions and the one after. Returns the text to emit (possibly empty).
   */
  accept(draft: Draft, scored: Float32Array[], verifyMs: number): string {
    const g = draft.tokenIds.length;
    const { sampler } = this.spec;
    this.stats.verifierSteps++;
    const verifierTop = scored.map(argmax); // [g + 1]
    const t0 = performance.now();
    // Row i's history is the committed tokens and drafts 0..i-1, as the drafter's q had (logits-processors.ts).
    const history = (i: number): number[] => this.committed.concat(draft.tokenIds.slice(0, i));
    const verdict: Verdict = sampler.greedy
      ? verifyGreedy(draft.tokenIds, scored.map((row, i) => sampler.argmax(row, history(i)))) // [g + 1]
      : verifySampled(draft.tokenIds, draft.probs, scored.map((row, i) => sampler.distribution(row, history(i))), sampler.random); // p: [g + 1][vocab]
    this.stats.verifyMs += verifyMs + performance.now() - t0;
    assert(verdict.accepted >= 0 && verdict.accepted <= g, `accepted ${verdict.accepted} of ${g}`);

    if (g > 0) {
      this.stats.drafts++;
      this.stats.draftedTokens += g;
    }
    // Every drafted position is scored, also those after a rejection: their contexts are real
    // states and both distributions are already in hand. Mean α = alphaSum / draftedTokens; the
    // argmax matches are what a greedy request accepts, so sampled traffic measures greedy too.
    for (let i = 0; i < g; i++) {
      const { alpha, crossEntropy } = draftAgreement(scored[i]!, draft.logits[i]!);
      this.stats.alphaSum += alpha;
      this.stats.crossEntropySum += crossEntropy;
      if (argmax(draft.logits[i]!) === verifierTop[i]) this.stats.greedyMatches++;
    }
    this.stats.acceptedTokens += verdict.accepted;
    for (let i = 0; i < verdict.accepted; i++) this.stats.acceptedPerPosition[i]!++;

    // Keep the committed tokens and the accepted drafts; the new token is fed next step.
    const row = this.row!;
    row.cache.truncate(row, this.committed.length + verdict.accepted);

    let delta = '';
    const emitted = [...draft.tokenIds.slice(0, verdict.accepted), verdict.token];
    for (const [i, token] of emitted.entries()) {
      if (this.#eos.has(token)) {
        this.#endedByEos = true;
        this.finish = 'stop';
        break;
      }
      this.spec.onToken?.(token, scored[i]!);
      this.committed.push(token);
      this.generated.push(token);
      this.#firstTokenMs ??= performance.now() - this.startedAt;
      const scan = this.#stops.push(this.#detokenizer.push(token));
      delta += scan.text;
      if (scan.stopped) {
        this.finish = 'stop';
        break;
      }
      if (this.generated.length >= this.spec.maxTokens) {
        this.finish = 'length';
        break;
      }
    }
    return delta;
  }

  /** The text held back at the end (a partial character, a possible stop string's start). */
  flush(): string {
    if (this.finish === 'stop' && !this.#endedByEos) return '';
    const tail = this.#stops.push(this.#detokenizer.flush());
    if (tail.stopped) {
      this.finish = 'stop';
      return tail.text;
    }
    return tail.text + this.#stops.flush();
  }

  /** Adds emitted text to the result (the caller passes it on to onText). */
  record(delta: string): void {
    this.#text += delta;
  }

  result(): GenerateResult {
    const totalMs = performance.now() - this.startedAt;
    return {
      text: this.#text,
      tokenIds: this.generated,
      finishReason: this.finish ?? 'abort',
      promptTokens: this.spec.promptIds.length,
      completionTokens: this.generated.length + (this.#endedByEos ? 1 : 0),
      stats: this.stats,
      firstTokenMs: this.#firstTokenMs ?? totalMs,
      totalMs,
    };
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`sequence: ${message}`);
}
