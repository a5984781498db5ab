// The one place where a completion's parameters meet the bounds the wire schema cannot state
// (src/wire/completions.ts states the API's own): the server's caps, and every edge of the values
// the schema admits that would otherwise reach the engine as a failure (issue 16). Each check is
// cheap (no tokenisation), so a request over a bound costs next to nothing before it is refused.
//
// The numeric edges and what becomes of them:
//   temperature  every value in [0, 2]: 0 is greedy; a tiny positive one (5e-324) is sampled
//                exactly, TemperatureProcessor scaling from the top logit so nothing overflows
//   top_p        (0, 1]: even 5e-324 keeps the most likely token
//   top_k        any integer >= 0: one beyond the vocabulary keeps every token
//   seed         [0, 2^32 − 1]: choice j's seed + j stays a safe integer
//   n, max_tokens  at most FAIRSPEC_MAX_N and FAIRSPEC_MAX_TOKENS (refused above)
//   the work      prompts × n × max_tokens at most FAIRSPEC_MAX_REQUEST_WORK: each prompt × choice
//                is a sequence of the batch, and one request may not hold the server for long
//   stop         at most MAX_STOP_CHARS characters each (matching is quadratic in it), valid Unicode
//   prompt       non-empty, valid Unicode, and not longer than the context could hold at
//                maxTokenChars characters a token (the context itself is checked once the
//                prompt is tokenised, off the event loop); token ids: in the vocabulary, and
//                fitting the context with max_tokens
//   logit_bias   keys are token ids of the vocabulary (values: the schema's [-100, 100])
//   min_tokens   at most max_tokens

import { FairspecError } from './errors.js';
import { assertFitsContext } from './engine/context-window.js';
import { EngineError } from './engine/errors.js';
import type { CompletionLimits, CompletionParams } from './completion-service.js';

/** Longest stop sequence, in characters. */
export const MAX_STOP_CHARS = 256;

export interface ModelLimits {
  /** Verifier context length in tokens (prompt + completion). */
  contextLength: number;
  /** At most how many characters one token stands for (TextTokenizer.maxTokenChars). */
  maxTokenChars: number;
  /** Token ids are in [0, vocabSize). */
  vocabSize: number;
}

/** Throws FairspecError (or EngineError FS_PROMPT_TOO_LONG) naming the parameter at fault. */
export function checkParams(params: CompletionParams, limits: CompletionLimits, model: ModelLimits): void {
  if (params.model !== limits.modelId) {
    throw new FairspecError('FS_MODEL_NOT_FOUND', `The model '${params.model}' does not exist.`, 'model');
  }
  if (params.n > limits.maxN) {
    throw new FairspecError('FS_INVALID_PARAM', `n must be at most ${limits.maxN} on this server, got ${params.n}.`, 'n');
  }
  if (params.maxTokens > limits.maxTokens) {
    throw new FairspecError('FS_INVALID_PARAM', `max_tokens must be at most ${limits.maxTokens} on this server, got ${params.maxTokens}.`, 'max_tokens');
  }
  const work = params.prompts.length * params.n * params.maxTokens;
  if (work > limits.maxRequestWork) {
    const perRequest = Math.max(1, Math.floor(limits.maxRequestWork / (params.n * params.maxTokens)));
    throw new FairspecError(
      'FS_INVALID_PARAM',
      `This request asks for ${params.prompts.length} prompts × n ${params.n} × max_tokens ${params.maxTokens} = ${work} tokens of work, ` +
        `more than the ${limits.maxRequestWork} one request may ask for on this server. Split it into requests of at most ${perRequest} prompts each, or lower n or max_tokens.`,
      params.prompts.length > 1 ? 'prompt' : 'max_tokens',
    );
  }
  for (const stop of params.stop) {
    if (stop.length > MAX_STOP_CHARS) {
      throw new FairspecError('FS_INVALID_PARAM', `A stop sequence may have at most ${MAX_STOP_CHARS} characters, got ${stop.length}.`, 'stop');
    }
    if (!stop.isWellFormed()) {
      throw new FairspecError('FS_INVALID_UTF8', 'A stop sequence contains a lone UTF-16 surrogate, which is not valid Unicode.', 'stop');
    }
  }
  if (params.minTokens !== undefined && params.minTokens > params.maxTokens) {
    throw new FairspecError('FS_INVALID_PARAM', `min_tokens must be at most max_tokens (${params.maxTokens}), got ${params.minTokens}.`, 'min_tokens');
  }
  for (const key of Object.keys(params.logitBias ?? {})) {
    if (!isTokenId(Number(key), model.vocabSize) || String(Number(key)) !== key) {
      throw new FairspecError('FS_TOKEN_OUT_OF_VOCAB', `logit_bias key ${JSON.stringify(key)} is not a token id of this model's vocabulary [0, ${model.vocabSize}).`, 'logit_bias');
    }
  }
  // A request without max_tokens (chat) needs room for one token; tokenize() gives it the rest.
  const newTokens = params.fitMaxTokens ? 1 : params.maxTokens;
  const room = model.contextLength - newTokens;
  params.prompts.forEach((prompt, i) => {
    const param = promptParam(params, i);
    const field = params.promptField ?? 'prompt';
    if (prompt.length === 0) throw new FairspecError('FS_EMPTY_PROMPT', `The ${param} is empty.`, field);
    if (typeof prompt !== 'string') {
      const bad = prompt.findIndex((id) => !isTokenId(id, model.vocabSize));
      if (bad >= 0) {
        throw new FairspecError('FS_TOKEN_OUT_OF_VOCAB', `${param}[${bad}] = ${prompt[bad]} is not a token id of this model's vocabulary [0, ${model.vocabSize}).`, field);
      }
      assertFitsContext(prompt.length, newTokens, model.contextLength, param);
      return;
    }
    // JSON escapes can carry lone surrogates ("\ud800") that no UTF-8 byte sequence encodes.
    if (!prompt.isWellFormed()) {
      throw new FairspecError('FS_INVALID_UTF8', `The ${param} contains a lone UTF-16 surrogate, which is not valid Unicode.`, 'prompt');
    }
    // Even a one-token prompt does not fit: the usual message.
    if (room < 1) assertFitsContext(1, newTokens, model.contextLength, param);
    if (prompt.length > room * model.maxTokenChars) {
      throw new EngineError(
        'FS_PROMPT_TOO_LONG',
        `This model's maximum context length is ${model.contextLength} tokens, however your ${param} has ${prompt.length} characters, ` +
          `more than ${room} tokens can hold with ${newTokens} more for the completion. Please reduce your prompt or max_tokens.`,
        { contextLength: model.contextLength, field: 'prompt' },
      );
    }
  });
}

/** 'prompt', or 'prompt[i]' when the request has several ('messages' for a chat). */
export function promptParam(params: Pick<CompletionParams, 'prompts' | 'promptField'>, index: number): string {
  const field = params.promptField ?? 'prompt';
  return params.prompts.length > 1 ? `${field}[${index}]` : field;
}

function isTokenId(id: number, vocabSize: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < vocabSize;
}
