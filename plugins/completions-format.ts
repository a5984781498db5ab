// OpenAI's completions wire format on both sides of CompletionService: the validated request
// body to service parameters, and the service's results to a completion or to stream chunks.

import { randomUUID } from 'node:crypto';
import type { ChoiceResult, CompletionParams, CompletionPlan } from '../src/completion-service.js';
import { FairspecError } from '../src/errors.js';
import { summarizeRequest } from '../src/speculative-summary.js';
import type { CompletionChunkBody, CompletionRequestBody, CompletionResponseBody } from '../src/wire/completions.js';

/** OpenAI's default. */
const DEFAULT_MAX_TOKENS = 16;

/** OpenAI parameters accepted at their neutral value only (clients such as LangChain always send them). */
function checkUnsupported(body: CompletionRequestBody): void {
  const n = body.n ?? 1;
  const unsupported: Array<[param: string, neutral: boolean, only: string]> = [
    ['echo', body.echo == null || body.echo === false, 'false'],
    ['suffix', body.suffix == null, 'null'],
    ['logprobs', body.logprobs == null, 'null'],
    ['best_of', body.best_of == null || body.best_of === 1 || body.best_of === n, '1 or n'],
    ['frequency_penalty', body.frequency_penalty == null || body.frequency_penalty === 0, '0'],
    ['presence_penalty', body.presence_penalty == null || body.presence_penalty === 0, '0'],
    ['logit_bias', body.logit_bias == null || Object.keys(body.logit_bias).length === 0, '{}'],
  ];
  for (const [param, neutral, only] of unsupported) {
    if (!neutral) throw new FairspecError('FS_INVALID_PARAM', `'${param}' is not supported by this server (only ${only}).`, param);
  }
}

export function toParams(body: CompletionRequestBody): CompletionParams {
  if (body.stream_options != null && body.stream !== true) {
    throw new FairspecError('FS_INVALID_PARAM', "The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  checkUnsupported(body);
  const spec = body.speculative;
  return {
    model: body.model,
    prompts: typeof body.prompt === 'string' ? [body.prompt] : body.prompt,
    n: body.n ?? 1,
    maxTokens: body.max_tokens ?? DEFAULT_MAX_TOKENS,
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: body.top_k ?? 0,
    seed: body.seed ?? undefined,
    stop: body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop,
    language: body.language,
    // `speculative: {}` overrides nothing: the request is routed (and may join an experiment) as without it.
    speculative:
      spec && Object.keys(spec).length > 0
        ? {
            ...('drafter' in spec ? { drafter: spec.drafter ?? null } : {}),
            ...(spec.draft_length !== undefined ? { draftLength: spec.draft_length } : {}),
          }
        : undefined,
  };
}

export interface ResponseMeta {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
}

export function responseMeta(model: string): ResponseMeta {
  return { id: `cmpl-${randomUUID().replaceAll('-', '')}`, object: 'text_completion', created: Math.floor(Date.now() / 1000), model };
}

export function usage(plan: CompletionPlan, results: readonly ChoiceResult[]): CompletionResponseBody['usage'] {
  const completion = results.reduce((acc, r) => acc + r.completionTokens, 0);
  return { prompt_tokens: plan.promptTokens, completion_tokens: completion, total_tokens: plan.promptTokens + completion };
}

export function toCompletion(meta: ResponseMeta, plan: CompletionPlan, results: readonly ChoiceResult[]): CompletionResponseBody {
  return {
    ...meta,
    choices: results.map((r) => ({ text: r.text, index: r.index, logprobs: null, finish_reason: r.finishReason, speculative: r.speculative })),
    usage: usage(plan, results),
    speculative: summarizeRequest(results.map((r) => r.speculative)),
  };
}

/** Stream chunks of one response. With include_usage every chunk carries `usage: null`, as OpenAI's do. */
export function chunks(meta: ResponseMeta, includeUsage: boolean) {
  const chunk = (choices: CompletionChunkBody['choices'], extra: Partial<CompletionChunkBody> = {}): CompletionChunkBody => ({
    ...meta,
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  return {
    text: (index: number, text: string) => chunk([{ text, index, logprobs: null, finish_reason: null }]),
    /** A choice's last chunk: its finish_reason and its own speculative stats. */
    end: (r: ChoiceResult) => chunk([{ text: '', index: r.index, logprobs: null, finish_reason: r.finishReason, speculative: r.speculative }]),
    /** The usage chunk: no choices, the usage and the aggregate speculative stats. */
    usage: (plan: CompletionPlan, results: readonly ChoiceResult[]) =>
      chunk([], { usage: usage(plan, results), speculative: summarizeRequest(results.map((r) => r.speculative)) }),
  };
}

/** One log line per completion: what routing chose and how it went (the client's `user`, the experiment arm). */
export function logFields(user: string | undefined, body: Pick<CompletionResponseBody, 'usage' | 'speculative'>) {
  const s = body.speculative;
  return {
    user,
    language: s.language,
    drafter: s.drafter,
    draftLength: s.draft_length,
    acceptanceRate: s.acceptance_rate,
    experiment: s.experiment,
    arm: s.arm,
    promptTokens: body.usage.prompt_tokens,
    completionTokens: body.usage.completion_tokens,
  };
}
