// The one context-length check. A prompt of `promptTokens` must leave room for `newTokens` more
// in the verifier's context. The engine asks room for one token (a generation may then stop at
// the context with finish reason 'length'); the completion service asks, before a request is
// queued, room for all of max_tokens, as OpenAI's API does.

import { EngineError } from './errors.js';

/** Throws FS_PROMPT_TOO_LONG unless promptTokens + newTokens fit in contextLength. */
export function assertFitsContext(promptTokens: number, newTokens: number, contextLength: number, where = 'prompt'): void {
  if (promptTokens + newTokens <= contextLength) return;
  throw new EngineError(
    'FS_PROMPT_TOO_LONG',
    `This model's maximum context length is ${contextLength} tokens, however you requested ${promptTokens + newTokens} tokens ` +
      `(${promptTokens} in your ${where}; ${newTokens} for the completion). Please reduce your prompt or max_tokens.`,
    { promptTokens, contextLength, field: where.replace(/\[\d+\]$/, '') }, // 'prompt[1]' -> 'prompt'; 'messages' for a chat
  );
}
