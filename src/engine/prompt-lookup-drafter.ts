// Prompt lookup decoding: the drafts are what followed the most recent earlier occurrence of the
// sequence's last n tokens in its own prompt and output, n from maxNgram down to minNgram (HF
// transformers' prompt_lookup_num_tokens, vLLM's "ngram" proposer, llama.cpp's lookup decoding).
// No model runs: it costs a scan of at most a few thousand token comparisons.
//
// Its folder holds prompt-lookup.json: { "min_ngram": 3, "max_ngram": 8 }.
//
// q is one-hot on the proposed token x, and speculative sampling stays exact with it: x is kept
// with probability min(1, p(x)/q(x)) = p(x), and on rejection the token is drawn from
// norm(max(0, p − q)), which is p with x removed and renormalised, i.e. p(y) / (1 − p(x)). So y ≠ x
// comes out with probability (1 − p(x)) · p(y) / (1 − p(x)) = p(y), and x with p(x): the
// verifier's distribution (rejection.ts; the same argument as Leviathan et al., appendix A.1, with
// a degenerate q). Greedy verification keeps x only where it is the verifier's argmax.
//
// The agreement metrics (draft-agreement.ts) need logits: a one-hot q has no finite cross-entropy,
// so the logits give x all but LOOKUP_EPSILON of the mass, spread over the other tokens. α from
// them differs from the exact p(x) by less than LOOKUP_EPSILON; the drafts and q are exactly one-hot.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Draft, DraftRequest, Drafter } from './drafter.js';
import { EngineError } from './errors.js';

export const PROMPT_LOOKUP_MANIFEST = 'prompt-lookup.json';
const LOOKUP_EPSILON = 1e-6;

export interface PromptLookupSettings {
  minNgram: number;
  maxNgram: number;
}

/** Reads prompt-lookup.json; throws EngineError FS_MODEL_LOAD naming the file and the field. */
export async function loadPromptLookupSettings(name: string, dir: string): Promise<PromptLookupSettings> {
  const fail = (what: string, cause?: unknown): never => {
    throw new EngineError('FS_MODEL_LOAD', `drafter "${name}": ${PROMPT_LOOKUP_MANIFEST}: ${what}`, { drafter: name, file: PROMPT_LOOKUP_MANIFEST }, { cause });
  };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(join(dir, PROMPT_LOOKUP_MANIFEST), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return fail(`cannot be read as JSON (${(err as Error).message})`, err);
  }
  const int = (field: string): number => {
    const v = json?.[field];
    if (!(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 64)) fail(`"${field}" must be an integer in [1, 64], got ${JSON.stringify(v)}`);
    return v as number;
  };
  const settings = { minNgram: int('min_ngram'), maxNgram: int('max_ngram') };
  if (settings.minNgram > settings.maxNgram) fail(`"min_ngram" ${settings.minNgram} exceeds "max_ngram" ${settings.maxNgram}`);
  return settings;
}

/**
 * The continuation of the latest earlier match of the longest suffix of `tokens` (maxNgram down
 * to minNgram tokens), at most `limit` tokens; [] when nothing matches.
 */
export function lookupContinuation(tokens: readonly number[], settings: PromptLookupSettings, limit: number): number[] {
  const end = tokens.length;
  for (let n = Math.min(settings.maxNgram, end - 1); n >= settings.minNgram; n--) {
    // Candidate starts s: tokens[s..s+n) equals the suffix tokens[end-n..end), s + n < end.
    for (let s = end - n - 1; s >= 0; s--) {
      let k = 0;
      while (k < n && tokens[s + k] === tokens[end - n + k]) k++;
      if (k === n) return tokens.slice(s + n, Math.min(end, s + n + limit));
    }
  }
  return [];
}

/** Drafts by prompt lookup; it keeps no state per sequence. */
export class PromptLookupDrafter implements Drafter {
  readonly size = 0;

  constructor(
    readonly name: string,
    readonly settings: PromptLookupSettings,
    readonly vocabSize: number,
  ) {}

  maxDraftLength(): number {
    return Infinity;
  }

  release(): void {}

  async propose(requests: readonly DraftRequest[]): Promise<Draft[]> {
    return requests.map((r) => {
      const tokenIds = lookupContinuation(r.committed, this.settings, r.gamma);
      return { tokenIds, probs: tokenIds.map((x) => this.#oneHot(x)), logits: tokenIds.map((x) => this.#logits(x)) };
    });
  }

  #oneHot(x: number): Float64Array {
    const q = new Float64Array(this.vocabSize); // [vocab]
    q[x] = 1;
    return q;
  }

  #logits(x: number): Float32Array {
    const rest = Math.log(LOOKUP_EPSILON / (this.vocabSize - 1));
    const out = new Float32Array(this.vocabSize).fill(rest); // [vocab]
    out[x] = Math.log1p(-LOOKUP_EPSILON);
    return out;
  }
}
