// A drafter proposes γ tokens autoregressively with its own model and KV cache.

import type { CausalLM } from './causal-lm.js';
import type { KvCache } from './kv-cache.js';
import { assertUsableLogits, modelFault } from './model-fault.js';
import type { TokenSampler } from './sampling.js';

export interface Draft {
  /** [γ] */
  tokenIds: number[];
  /** [γ][vocab]: the processed distributions q the drafts were drawn from. */
  probs: Float64Array[];
  /** [γ][vocab]: the raw logits behind them, for the draft-agreement metrics. */
  logits: Float32Array[];
}

export class Drafter {
  readonly name: string;
  readonly model: CausalLM;
  readonly #cache: KvCache;
  /** The tokens whose keys and values #cache holds, in order. */
  readonly #cached: number[] = [];

  constructor(name: string, model: CausalLM) {
    this.name = name;
    this.model = model;
    this.#cache = model.newCache();
  }

  /** The longest draft this drafter's context allows after `committedLength` tokens. */
  maxDraftLength(committedLength: number): number {
    // Drafting γ tokens feeds positions up to committedLength + γ − 2.
    return Math.max(0, this.model.config.contextLength - committedLength + 1);
  }

  /**
   * Drafts `gamma` tokens after `committed`. The cache is first cut back to the longest prefix it
   * shares with `committed`, which drops the drafts the verifier rejected last step. A forward
   * pass that throws or gives unusable logits throws FS_MODEL_FAULT (model-fault.ts).
   */
  async propose(committed: readonly number[], gamma: number, sampler: TokenSampler): Promise<Draft> {
    assert(Number.isInteger(gamma) && gamma > 0, `bad draft length ${gamma}`);
    assert(committed.length > 0, 'nothing to draft from');
    assert(gamma <= this.maxDraftLength(committed.length), `draft of ${gamma} passes the drafter's context`);
    let shared = 0;
    const limit = Math.min(this.#cached.length, committed.length - 1); // feed at least one token
    while (shared < limit && this.#cached[shared] === committed[shared]) shared++;
    this.#cache.truncate(shared);
    this.#cached.length = shared;

    const draft: Draft = { tokenIds: [], probs: [], logits: [] };
    let feed = committed.slice(shared);
    for (let i = 0; i < gamma; i++) {
      let rows: Float32Array[];
      try {
        rows = await this.model.forward(this.#cache, feed); // [feed.length][vocab]
      } catch (err) {
        throw modelFault(err, `drafter ${this.name}`);
      }
      this.#cached.push(...feed);
      const logits = rows[rows.length - 1]!; // [vocab]
      assertUsableLogits(logits, `drafter ${this.name}`);
      const probs = sampler.distribution(logits); // [vocab]
      const token = sampler.sample(probs);
      draft.tokenIds.push(token);
      draft.probs.push(probs);
      draft.logits.push(logits);
      feed = [token];
    }
    return draft;
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`drafter: ${message}`);
}
