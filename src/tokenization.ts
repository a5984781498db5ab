// POST /tokenize and POST /detokenize as vLLM has them: a prompt (or a chat's messages, rendered
// with the chat template) to the verifier's token ids with the context length, and token ids back
// to text. Encoding runs on the engine's worker thread, like a completion's.

import type { ChatPrompts } from './chat/chat-prompts.js';
import type { ChatMessage } from './chat/chat-template.js';
import { FairspecError } from './errors.js';

/** What tokenization needs from the engine (src/engine/engine.ts). */
export interface TokenizationEngine {
  readonly contextLength: number;
  readonly vocabSize: number;
  tokenize(text: string, signal?: AbortSignal, addSpecialTokens?: boolean): Promise<number[]>;
  decode(ids: readonly number[]): string;
}

export type TokenizeInput =
  | { model?: string; prompt: string; addSpecialTokens?: boolean }
  | { model?: string; messages: ChatMessage[]; addGenerationPrompt?: boolean; addSpecialTokens?: boolean };

export interface Tokenized {
  count: number;
  maxModelLen: number;
  tokens: number[];
}

export class Tokenization {
  constructor(
    readonly engine: TokenizationEngine,
    readonly chat: ChatPrompts,
    readonly modelId: string,
  ) {}

  /** vLLM's defaults: special tokens added to a prompt, not to a rendered chat (its template has them). */
  async tokenize(input: TokenizeInput, signal?: AbortSignal): Promise<Tokenized> {
    this.#checkModel(input.model);
    const chat = 'messages' in input;
    const text = chat ? this.chat.render(input.messages, input.addGenerationPrompt ?? true) : input.prompt;
    if (!text.isWellFormed()) throw new FairspecError('FS_INVALID_UTF8', 'The prompt contains a lone UTF-16 surrogate, which is not valid Unicode.', chat ? 'messages' : 'prompt');
    const tokens = await this.engine.tokenize(text, signal, input.addSpecialTokens ?? !chat);
    return { count: tokens.length, maxModelLen: this.engine.contextLength, tokens };
  }

  /** The text of `tokens` (special tokens skipped); FS_TOKEN_OUT_OF_VOCAB for an id outside the vocabulary. */
  detokenize(input: { model?: string; tokens: readonly number[] }): string {
    this.#checkModel(input.model);
    const vocab = this.engine.vocabSize;
    const bad = input.tokens.findIndex((id) => !(Number.isInteger(id) && id >= 0 && id < vocab));
    if (bad >= 0) {
      throw new FairspecError('FS_TOKEN_OUT_OF_VOCAB', `tokens[${bad}] = ${input.tokens[bad]} is not a token id of this model's vocabulary [0, ${vocab}).`, 'tokens');
    }
    return this.engine.decode(input.tokens);
  }

  #checkModel(model: string | undefined): void {
    if (model !== undefined && model !== this.modelId) throw new FairspecError('FS_MODEL_NOT_FOUND', `The model '${model}' does not exist.`, 'model');
  }
}
