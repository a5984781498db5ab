// Drafters propose γ tokens per sequence. The scheduler (scheduler.ts) asks each drafter once per
// step for all the sequences it drafts for, so a drafter can batch them; it keeps whatever state
// it holds per sequence (a KV cache row) until release().

import type { BatchKvCache, BatchRow } from './batch-kv-cache.js';
import type { CausalLM } from './causal-lm.js';
import { assertUsableLogits, modelFault } from './model-fault.js';
import type { TokenSampler } from './sampling.js';

export interface Draft {
  /** [γ'] with γ' <= the γ asked for (a drafter may stop early). */
  tokenIds: number[];
  /** [γ'][vocab]: the processed distributions q the drafts were drawn from. */
  probs: Float64Array[];
  /** [γ'][vocab]: the raw logits behind them, for the draft-agreement metrics. */
  logits: Float32Array[];
}

export interface DraftRequest {
  /** Identifies the sequence across steps (its state is kept until release()). */
  sequence: object;
  committed: readonly number[];
  gamma: number;
  sampler: TokenSampler;
  /** The request's language as routed (null: none detected), for drafters with one model per language. */
  language: string | null;
}

export interface Drafter {
  readonly name: string;
  /** The longest draft the drafter's context allows after `committedLength` tokens. */
  maxDraftLength(committedLength: number): number;
  /**
   * Drafts for every request, in order. A fault (FS_MODEL_FAULT) rejects the whole call: the
   * scheduler then drops the drafter for those sequences.
   */
  propose(requests: readonly DraftRequest[]): Promise<Draft[]>;
  /** Forgets a sequence's state (it ended, or left the batch). */
  release(sequence: object): void;
  /** Sequences holding state. */
  readonly size: number;
}

interface SequenceState {
  row: BatchRow;
  /** The tokens whose keys and values the row holds, in order. */
  cached: number[];
}

/** A neural drafter: its own causal LM, one batched pass per drafted position for all sequences. */
export class ModelDrafter implements Drafter {
  readonly #cache: BatchKvCache;
  readonly #sequences = new Map<object, SequenceState>();
  /** A model that cannot take rows of different lengths drafts each sequence in a cache of its own. */
  readonly #solo: Map<object, ModelDrafter> | null;

  constructor(
    readonly name: string,
    readonly model: CausalLM,
    batched = model.batchable,
  ) {
    this.#cache = model.newBatchCache();
    this.#solo = batched ? null : new Map();
  }

  get size(): number {
    return this.#solo ? this.#solo.size : this.#sequences.size;
  }

  maxDraftLength(committedLength: number): number {
    // Drafting γ tokens feeds positions up to committedLength + γ − 2.
    return Math.max(0, this.model.config.contextLength - committedLength + 1);
  }

  release(sequence: object): void {
    if (this.#solo) {
      this.#solo.get(sequence)?.release(sequence);
      this.#solo.delete(sequence);
      return;
    }
    const state = this.#sequences.get(sequence);
    if (!state) return;
    this.#cache.remove(state.row);
    this.#sequences.delete(sequence);
  }

  /**
   * Each sequence's row is first cut back to the longest prefix it shares with `committed`, which
   * drops the drafts the verifier rejected last step; a new sequence's prompt is prefilled alone
   * and joins the batch. Pass i then feeds every row still drafting: the first pass the tokens
   * the row lacks, later passes the token drafted last.
   */
  async propose(requests: readonly DraftRequest[]): Promise<Draft[]> {
    if (this.#solo) {
      const drafts: Draft[] = [];
      for (const r of requests) {
        let own = this.#solo.get(r.sequence);
        if (!own) {
          // One row only: its passes are never padded, so it needs no mask or positions.
          own = new ModelDrafter(this.name, this.model, true);
          this.#solo.set(r.sequence, own);
        }
        drafts.push((await own.propose([r]))[0]!);
      }
      return drafts;
    }
    try {
      return await this.#propose(requests);
    } catch (err) {
      for (const r of requests) this.release(r.sequence);
      throw modelFault(err, `drafter ${this.name}`);
    }
  }

  async #propose(requests: readonly DraftRequest[]): Promise<Draft[]> {
    const feeds = new Map<object, number[]>();
    for (const r of requests) {
      assert(Number.isInteger(r.gamma) && r.gamma > 0, `bad draft length ${r.gamma}`);
      assert(r.committed.length > 0, 'nothing to draft from');
      let state = this.#sequences.get(r.sequence);
      if (!state) {
        const prefix = r.committed.slice(0, -1);
        const prefilled = await this.model.prefill(prefix);
        // Only the cache is kept, but logits no distribution can come from mean a faulty model.
        if (prefilled.logits) assertUsableLogits(prefilled.logits, `drafter ${this.name}`);
        state = { row: this.#cache.adopt(prefilled.row), cached: prefix };
        this.#sequences.set(r.sequence, state);
      }
      let shared = 0;
      const limit = Math.min(state.cached.length, r.committed.length - 1); // feed at least one token
      while (shared < limit && state.cached[shared] === r.committed[shared]) shared++;
      // A row that joined this call holds exactly committed minus its last token: nothing to cut.
      this.#cache.truncate(state.row, shared);
      state.cached.length = shared;
      feeds.set(r.sequence, r.committed.slice(shared));
    }

    const drafts = requests.map((): Draft => ({ tokenIds: [], probs: [], logits: [] }));
    const byRow = new Map<BatchRow, number>(requests.map((r, i) => [this.#sequences.get(r.sequence)!.row, i]));
    const passes = Math.max(...requests.map((r) => r.gamma));
    for (let pass = 0; pass < passes; pass++) {
      const widest = Math.max(...requests.map((r, i) => (drafts[i]!.tokenIds.length === pass && pass < r.gamma ? feeds.get(r.sequence)!.length : 0)));
      const room = this.#cache.prepare(Math.max(1, widest));
      if (widest > room) break; // the drafter's context is full for the longest row: draft no further
      const tokens = this.#cache.rows.map((row) => {
        const i = byRow.get(row);
        if (i === undefined) return [];
        const r = requests[i]!;
        return drafts[i]!.tokenIds.length === pass && pass < r.gamma ? feeds.get(r.sequence)! : [];
      });
      if (tokens.every((t) => t.length === 0)) break;
      const out = await this.model.forwardBatch(this.#cache, tokens); // [rows][fed][vocab]
      this.#cache.rows.forEach((row, b) => {
        const i = byRow.get(row);
        if (i === undefined || tokens[b]!.length === 0) return;
        const r = requests[i]!;
        const state = this.#sequences.get(r.sequence)!;
        state.cached.push(...tokens[b]!);
        const logits = out[b]![out[b]!.length - 1]!; // [vocab]
        assertUsableLogits(logits, `drafter ${this.name}`);
        const draft = drafts[i]!;
        const probs = r.sampler.distribution(logits, r.committed.concat(draft.tokenIds)); // [vocab]
        const token = r.sampler.sample(probs);
        draft.tokenIds.push(token);
        draft.probs.push(probs);
        draft.logits.push(logits);
        feeds.set(r.sequence, [token]);
      });
    }
    return drafts;
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`drafter: ${message}`);
}
