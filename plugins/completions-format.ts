// OpenAI's completions wire format on both sides of CompletionService: the validated request
// body to service parameters, and the service's results to a completion or to stream chunks.
// sharedParams() reads the fields chat completions share (src/wire/sampling.ts).

import { randomUUID } from 'node:crypto';
import type { Static } from 'typebox';
import type { ChoiceResult, CompletionParams, CompletionPlan, LogprobEntry, Prompt } from '../src/completion-service.js';
import { FairspecError } from '../src/errors.js';
import { summarizeRequest } from '../src/speculative-summary.js';
import type { CompletionChunkBody, CompletionRequestBody, CompletionResponseBody } from '../src/wire/completions.js';
import type { CompletionLogprobsBody } from '../src/wire/logprobs.js';
import type { samplingFields } from '../src/wire/sampling.js';

/** OpenAI's default. */
const DEFAULT_MAX_TOKENS = 16;

type SharedBody = { [K in keyof typeof samplingFields]?: Static<(typeof samplingFields)[K]> };
type SharedParams = Omit<CompletionParams, 'prompts' | 'maxTokens'>;

/** OpenAI parameters accepted at their neutral value only (clients such as LangChain always send them). */
function checkUnsupported(body: CompletionRequestBody): void {
  const n = body.n ?? 1;
  const unsupported: Array<[param: string, neutral: boolean, only: string]> = [
    ['suffix', body.suffix == null, 'null'],
    ['best_of', body.best_of == null || body.best_of === 1 || body.best_of === n, '1 or n'],
  ];
  for (const [param, neutral, only] of unsupported) {
    if (!neutral) throw new FairspecError('FS_INVALID_PARAM', `'${param}' is not supported by this server (only ${only}).`, param);
  }
}

/** The fields completions and chat completions share, as service parameters. */
export function sharedParams(body: SharedBody & { model: string }): SharedParams {
  if (body.stream_options != null && body.stream !== true) {
    throw new FairspecError('FS_INVALID_PARAM', "The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  const spec = body.speculative;
  return {
    model: body.model,
    n: body.n ?? 1,
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: body.top_k ?? 0,
    seed: body.seed ?? undefined,
    stop: body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop,
    ...(body.presence_penalty != null && { presencePenalty: body.presence_penalty }),
    ...(body.frequency_penalty != null && { frequencyPenalty: body.frequency_penalty }),
    ...(body.repetition_penalty != null && { repetitionPenalty: body.repetition_penalty }),
    ...(body.logit_bias != null && { logitBias: body.logit_bias }),
    ...(body.min_tokens != null && { minTokens: body.min_tokens }),
    ...(body.min_p != null && { minP: body.min_p }),
    ...(body.ignore_eos === true && { ignoreEos: true }),
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

export function toParams(body: CompletionRequestBody): CompletionParams {
  checkUnsupported(body);
  const { prompt } = body;
  // One string, several strings, one list of token ids, or several.
  const prompts: Prompt[] = typeof prompt === 'string' ? [prompt] : prompt.every((p) => typeof p === 'number') ? [prompt as number[]] : (prompt as Prompt[]);
  return {
    ...sharedParams(body),
    prompts,
    maxTokens: body.max_tokens ?? DEFAULT_MAX_TOKENS,
    ...(body.echo === true && { echo: true }),
    ...(body.logprobs != null && { logprobs: body.logprobs }),
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

/**
 * Logprob entries in the legacy completions shape; each top_logprobs holds the token itself too,
 * and text offsets count on from `offset` (the length of the choice's text before them).
 */
export function legacyLogprobs(entries: readonly LogprobEntry[], offset = 0): CompletionLogprobsBody {
  const out: CompletionLogprobsBody = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const e of entries) {
    out.tokens.push(e.token);
    out.token_logprobs.push(e.logprob);
    out.text_offset.push(offset);
    offset += e.token.length;
    if (e.top === null || e.logprob === null) {
      out.top_logprobs.push(null);
      continue;
    }
    const top: Record<string, number> = Object.fromEntries(e.top.map((a) => [a.token, a.logprob]));
    top[e.token] ??= e.logprob;
    out.top_logprobs.push(top);
  }
  return out;
}

export function usage(plan: CompletionPlan, results: readonly ChoiceResult[]): CompletionResponseBody['usage'] {
  const completion = results.reduce((acc, r) => acc + r.completionTokens, 0);
  return { prompt_tokens: plan.promptTokens, completion_tokens: completion, total_tokens: plan.promptTokens + completion };
}

export function toCompletion(meta: ResponseMeta, plan: CompletionPlan, results: readonly ChoiceResult[]): CompletionResponseBody {
  return {
    ...meta,
    choices: results.map((r) => ({
      text: r.text,
      index: r.index,
      logprobs: r.logprobs ? legacyLogprobs(r.logprobs) : null,
      finish_reason: r.finishReason,
      speculative: r.speculative,
    })),
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
  // Text offsets continue from each choice's text so far.
  const offsets = new Map<number, number>();
  return {
    text: (index: number, text: string, logprobs?: readonly LogprobEntry[]) => {
      const offset = offsets.get(index) ?? 0;
      offsets.set(index, offset + (logprobs ?? []).reduce((n, e) => n + e.token.length, 0));
      return chunk([{ text, index, logprobs: logprobs ? legacyLogprobs(logprobs, offset) : null, finish_reason: null }]);
    },
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
