// Shared engine contract: the HTTP layer and the router only see these types.

export interface SamplingOptions {
  /** 0 means exact greedy decoding. */
  temperature: number;
  topP: number;
  /** 0 disables top-k. */
  topK: number;
  /** Same seed, same output. Undefined: a random seed is drawn per request. */
  seed?: number;
}

export interface GenerateOptions extends SamplingOptions {
  maxTokens: number;
  stop: string[];
  /** Name of the drafter model in the pack; null or draftLength 0 = plain decoding. */
  drafter: string | null;
  /** Draft length gamma; 0 runs plain autoregressive decoding through the same loop. */
  draftLength: number;
  /**
   * The prompt's token ids when the caller has them already (Engine.tokenize, off the event
   * loop); they must be the tokenizer's encoding of the prompt.
   */
  promptIds?: readonly number[];
  /**
   * Generations with the same group (one request's choices) share rows fairly with other groups
   * (scheduler.ts); default: a group of its own.
   */
  group?: unknown;
  /** Aborting stops generation within one step (client disconnect, shutdown). */
  signal?: AbortSignal;
  /**
   * Called with each newly decoded piece of text (never a broken UTF-8 character). A returned
   * promise holds the generation until it settles (a streaming client's backpressure).
   */
  onText?: (delta: string) => void | Promise<void>;
  /**
   * The drafter threw or gave non-finite logits: the generation goes on with plain decoding, and
   * this is told once, at the fault, with the revision of the drafter's model (as drafterRevision).
   */
  onDrafterError?: (drafter: string, error: Error, revision: number) => void;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface SpeculativeStats {
  drafter: string | null;
  draftLength: number;
  /** Number of draft proposals (verifier steps that checked at least one drafted token). */
  drafts: number;
  draftedTokens: number;
  acceptedTokens: number;
  /** acceptedPerPosition[i]: drafts whose token at position i (0-based) was accepted. */
  acceptedPerPosition: number[];
  /** Sum over drafted positions of exact alpha(s) = sum_x min(p(x|s), q(x|s)). */
  alphaSum: number;
  /**
   * Drafted positions (the same ones as alphaSum) where argmax of the drafter's raw logits equals
   * argmax of the verifier's: a greedy request's acceptance, counted for every request.
   */
  greedyMatches: number;
  /** Sum over drafted positions of -sum_x p(x|s) log q(x|s) (nats). */
  crossEntropySum: number;
  verifierSteps: number;
  draftMs: number;
  verifyMs: number;
}

export interface GenerateResult {
  text: string;
  tokenIds: number[];
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  stats: SpeculativeStats;
  /**
   * Revision of the drafter model that drafted (Engine.drafterRevision); absent for plain
   * decoding. Tells results of a replaced drafter model from its successor's.
   */
  drafterRevision?: number;
  /** Milliseconds from start to the first generated token. */
  firstTokenMs: number;
  totalMs: number;
}
