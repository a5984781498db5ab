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

/**
 * Logits processors beyond temperature, top-k and top-p (logits-processors.ts), applied to the
 * verifier's and the drafter's rows alike, greedy requests included. Absent: neutral.
 */
export interface LogitsOptions {
  /** OpenAI's: subtracted once from every token already in the output. */
  presencePenalty?: number;
  /** OpenAI's: subtracted per occurrence in the output. */
  frequencyPenalty?: number;
  /** vLLM's (CTRL): divides positive, multiplies negative logits of tokens in the prompt or output; 1 is neutral. */
  repetitionPenalty?: number;
  /** Token id -> added to its logit. */
  logitBias?: Readonly<Record<number, number>>;
  /** The eos tokens are masked until the output has this many tokens. */
  minTokens?: number;
  /** Keeps tokens whose probability (after temperature) is at least minP times the top one's. */
  minP?: number;
}

export interface GenerateOptions extends SamplingOptions, LogitsOptions {
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
  /** The request's language as routed (null or absent: none detected); the n-gram drafter drafts with its table. */
  language?: string | null;
  /**
   * Generations with the same group (one request's choices) share rows fairly with other groups
   * (scheduler.ts); default: a group of its own.
   */
  group?: unknown;
  /** Aborting stops generation within one step (client disconnect, shutdown). */
  signal?: AbortSignal;
  /** An eos token neither ends the output nor is left out of it (vLLM's ignore_eos). */
  ignoreEos?: boolean;
  /** Log-probabilities of each output token with this many top alternatives (token-logprobs.ts); absent: none. */
  logprobs?: number;
  /**
   * Called with each newly decoded piece of text (never a broken UTF-8 character), and with
   * `logprobs` set, those of the tokens committed since the last call. A returned promise holds
   * the generation until it settles (a streaming client's backpressure).
   */
  onText?: (delta: string, logprobs?: TokenLogprob[]) => void | Promise<void>;
  /**
   * The drafter threw or gave non-finite logits: the generation goes on with plain decoding, and
   * this is told once, at the fault, with the revision of the drafter's model (as drafterRevision).
   */
  onDrafterError?: (drafter: string, error: Error, revision: number) => void;
}

/** The verifier's log-probability of a token, and the most likely tokens at its position. */
export interface TokenLogprob {
  token: number;
  logprob: number;
  /** The top alternatives, most likely first. */
  top: Array<{ token: number; logprob: number }>;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface SpeculativeStats {
  drafter: string | null;
  draftLength: number;
  /** Number of draft proposals (verifier steps that checked at least one drafted token). */
  drafts: number;
  draftedTokens: number;
  /**
   * Draft positions asked of the drafter (γ per step, after the step's caps). A drafter may
   * propose fewer (prompt lookup proposes nothing where the context does not repeat itself).
   */
  requestedTokens: number;
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
  /** With GenerateOptions.logprobs: one per token of tokenIds. */
  logprobs?: TokenLogprob[];
  /** Milliseconds from start to the first generated token. */
  firstTokenMs: number;
  totalMs: number;
}
