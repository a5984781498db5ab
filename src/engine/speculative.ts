// The decoding loop. Each step: the drafter proposes γ tokens, the verifier scores all γ + 1
// positions in one forward pass, the rejection rule keeps a prefix of the drafts and adds one
// recovered or bonus token, and both caches drop the rejected drafts. γ = 0 (no drafter) is plain
// autoregressive decoding through the same loop: one verifier pass, one token per step.
//
// Cache invariant at the top of every step: the verifier cache holds the committed tokens except
// the last one, which is fed in front of the drafts (the first step feeds the whole prompt).
//
// Tokens are committed one at a time, so the stopping rules (eos, stop strings, max_tokens, the
// context) cut the output at the same token whatever γ is; tokens accepted after a stop are
// discarded. The eos token ends the output and is not part of text or tokenIds, but is counted
// in completionTokens. A stop string ends the output before the stop string; tokenIds keep the
// token that completed it.
//
// Faults (issue 16): a drafter whose forward pass throws or gives unusable logits is dropped for
// the rest of the generation, which goes on as plain decoding. Every emitted token is the
// verifier's decision either way, so the output is what γ = 0 gives (greedy: token for token;
// sampled: the same distribution). A verifier fault fails the generation with FS_MODEL_FAULT.

import type { CausalLM } from './causal-lm.js';
import { draftAgreement } from './draft-agreement.js';
import type { Draft, Drafter } from './drafter.js';
import { IncrementalDetokenizer } from './incremental-detokenizer.js';
import { assertUsableLogits, modelFault } from './model-fault.js';
import { verifyGreedy, verifySampled, type Verdict } from './rejection.js';
import { argmax, type TokenSampler } from './sampling.js';
import { StopStringMatcher } from './stop-strings.js';
import type { FinishReason, GenerateResult, SpeculativeStats } from './types.js';

export interface SpeculativeRequest {
  verifier: CausalLM;
  /** null: plain decoding. */
  drafter: Drafter | null;
  /** γ; must be 0 when drafter is null. */
  draftLength: number;
  promptIds: readonly number[];
  sampler: TokenSampler;
  maxTokens: number;
  stop: readonly string[];
  eosTokenIds: readonly number[];
  decode: (ids: readonly number[]) => string;
  signal?: AbortSignal | undefined;
  /** A returned promise holds the loop until it settles (backpressure). */
  onText?: ((delta: string) => void | Promise<void>) | undefined;
  /** The drafter failed; decoding goes on without it. */
  onDrafterError?: ((drafter: string, error: Error) => void) | undefined;
}

/** Prompt tokens the detokenizer decodes ahead of the completion (incremental-detokenizer.ts), vLLM's 5. */
const DETOKENIZER_CONTEXT = 5;

export function emptyStats(drafter: string | null, draftLength: number): SpeculativeStats {
  return {
    drafter,
    draftLength,
    drafts: 0,
    draftedTokens: 0,
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

export async function generateSpeculative(req: SpeculativeRequest): Promise<GenerateResult> {
  const start = performance.now();
  const { verifier, sampler, maxTokens, signal } = req;
  /** null from a drafter fault on: plain decoding. */
  let drafter = req.drafter;
  const gamma = drafter ? req.draftLength : 0;
  assert(Number.isInteger(gamma) && gamma >= 0, `bad draft length ${req.draftLength}`);
  assert(drafter !== null || req.draftLength === 0, 'a draft length without a drafter');
  const contextLength = verifier.config.contextLength;
  assert(req.promptIds.length > 0 && req.promptIds.length < contextLength, `prompt of ${req.promptIds.length} tokens`);

  const stats = emptyStats(gamma > 0 ? drafter!.name : null, gamma);
  const eos = new Set(req.eosTokenIds);
  const committed = [...req.promptIds];
  const generated: number[] = [];
  const cache = verifier.newCache();
  const detokenizer = new IncrementalDetokenizer(req.decode, req.promptIds.slice(-DETOKENIZER_CONTEXT));
  const stops = new StopStringMatcher(req.stop);
  let text = '';
  let firstTokenMs: number | null = null;
  let finish: FinishReason | null = null;
  let endedByEos = false;

  const emit = async (delta: string): Promise<void> => {
    if (delta.length === 0) return;
    text += delta;
    await req.onText?.(delta);
  };

  while (finish === null) {
    if (signal?.aborted) {
      finish = 'abort';
      break;
    }
    const room = Math.min(maxTokens - generated.length, contextLength - committed.length);
    if (room <= 0) {
      finish = 'length';
      break;
    }
    // A step emits up to γ + 1 tokens: draft no more than the room left can take.
    let g = drafter && gamma > 0 ? Math.min(gamma, room - 1, drafter.maxDraftLength(committed.length)) : 0;

    let draft: Draft = { tokenIds: [], probs: [], logits: [] };
    if (g > 0) {
      const t0 = performance.now();
      try {
        draft = await drafter!.propose(committed, g, sampler);
      } catch (err) {
        req.onDrafterError?.(drafter!.name, err instanceof Error ? err : new Error(String(err)));
        drafter = null;
        g = 0;
      }
      stats.draftMs += performance.now() - t0;
      // Drafting takes γ passes of its own: do not start the verifier pass for a gone client.
      if (signal?.aborted) {
        finish = 'abort';
        break;
      }
    }

    const t1 = performance.now();
    const base = committed.length;
    const feed = committed.slice(cache.length).concat(draft.tokenIds);
    let rows: Float32Array[];
    try {
      rows = await verifier.forward(cache, feed); // [feed.length][vocab]
    } catch (err) {
      throw modelFault(err, `verifier ${verifier.id}`);
    }
    const scored = rows.slice(rows.length - (g + 1)); // [g + 1][vocab]
    for (const row of scored) assertUsableLogits(row, `verifier ${verifier.id}`);
    stats.verifierSteps++;
    const verifierTop = scored.map(argmax); // [g + 1]
    const verdict: Verdict = sampler.greedy
      ? verifyGreedy(draft.tokenIds, verifierTop)
      : verifySampled(
          draft.tokenIds,
          draft.probs,
          scored.map((row) => sampler.distribution(row)),
          sampler.random,
        );
    stats.verifyMs += performance.now() - t1;
    assert(verdict.accepted >= 0 && verdict.accepted <= g, `accepted ${verdict.accepted} of ${g}`);

    if (g > 0) {
      stats.drafts++;
      stats.draftedTokens += g;
    }
    // Every drafted position is scored, also those after a rejection: their contexts are real
    // states and both distributions are already in hand. Mean α = alphaSum / draftedTokens; the
    // argmax matches are what a greedy request accepts, so sampled traffic measures greedy too.
    for (let i = 0; i < g; i++) {
      const { alpha, crossEntropy } = draftAgreement(scored[i]!, draft.logits[i]!);
      stats.alphaSum += alpha;
      stats.crossEntropySum += crossEntropy;
      if (argmax(draft.logits[i]!) === verifierTop[i]) stats.greedyMatches++;
    }
    stats.acceptedTokens += verdict.accepted;
    for (let i = 0; i < verdict.accepted; i++) stats.acceptedPerPosition[i]!++;

    // Keep the committed tokens and the accepted drafts; the new token is fed next step.
    cache.truncate(base + verdict.accepted);

    for (const token of [...draft.tokenIds.slice(0, verdict.accepted), verdict.token]) {
      if (eos.has(token)) {
        endedByEos = true;
        finish = 'stop';
        break;
      }
      committed.push(token);
      generated.push(token);
      firstTokenMs ??= performance.now() - start;
      const scan = stops.push(detokenizer.push(token));
      await emit(scan.text);
      if (scan.stopped) {
        finish = 'stop';
        break;
      }
      if (generated.length >= maxTokens) {
        finish = 'length';
        break;
      }
    }
  }

  if (!(finish === 'stop' && !endedByEos)) {
    const tail = stops.push(detokenizer.flush());
    await emit(tail.text);
    if (tail.stopped) finish = 'stop';
    else await emit(stops.flush());
  }

  const totalMs = performance.now() - start;
  return {
    text,
    tokenIds: generated,
    finishReason: finish,
    promptTokens: req.promptIds.length,
    completionTokens: generated.length + (endedByEos ? 1 : 0),
    stats,
    firstTokenMs: firstTokenMs ?? totalMs,
    totalMs,
  };
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`speculative: ${message}`);
}
