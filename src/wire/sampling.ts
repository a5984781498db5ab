// Request fields that /v1/completions and /v1/chat/completions share: sampling, the logits
// processors (OpenAI's penalties and logit_bias, vLLM's extras), stopping, streaming and
// fairspec's extensions. Each route's schema spreads them in beside its own fields.

import { Type } from 'typebox';
import { nullable } from './nullable.js';

export const samplingFields = {
  model: Type.String({ description: 'The served model id (see GET /v1/models).' }),
  temperature: Type.Optional(nullable(Type.Number({ minimum: 0, maximum: 2, description: '0 is exact greedy decoding. Default 1.' }))),
  top_p: Type.Optional(nullable(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Nucleus sampling mass. Default 1.' }))),
  top_k: Type.Optional(nullable(Type.Integer({ minimum: 0, description: 'Extension (as vLLM): keep the k most likely tokens; 0 (default) disables.' }))),
  min_p: Type.Optional(
    nullable(Type.Number({ minimum: 0, maximum: 1, description: "vLLM's: keep tokens at least min_p times as likely as the most likely one (after temperature). Default 0." })),
  ),
  n: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 128, description: 'Choices per prompt. Default 1.' }))),
  stop: Type.Optional(
    nullable(
      Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { maxItems: 4 })], {
        description: 'Up to 4 sequences; generation stops before the first one found.',
      }),
    ),
  ),
  seed: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 4294967295, description: 'Same seed, same output; choice j uses seed + j.' }))),
  presence_penalty: Type.Optional(
    nullable(Type.Number({ minimum: -2, maximum: 2, description: 'Subtracted from the logit of every token already in the output. Default 0.' })),
  ),
  frequency_penalty: Type.Optional(
    nullable(Type.Number({ minimum: -2, maximum: 2, description: 'Subtracted from a token’s logit once per occurrence in the output. Default 0.' })),
  ),
  repetition_penalty: Type.Optional(
    nullable(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 100,
        description: "vLLM's (CTRL): logits of tokens in the prompt or output are divided (positive) or multiplied (negative) by it. Default 1.",
      }),
    ),
  ),
  logit_bias: Type.Optional(
    nullable(
      Type.Record(Type.String(), Type.Number({ minimum: -100, maximum: 100 }), {
        description: 'Token id (as a string) -> bias added to its logit; -100 bans a token. Keys must be token ids of the vocabulary.',
      }),
    ),
  ),
  min_tokens: Type.Optional(nullable(Type.Integer({ minimum: 0, description: "vLLM's: the eos token is masked until the output has this many tokens." }))),
  ignore_eos: Type.Optional(nullable(Type.Boolean({ description: "vLLM's: eos neither ends the output nor is left out of it." }))),
  stream: Type.Optional(nullable(Type.Boolean({ description: 'Send server-sent events, ending with `data: [DONE]`.' }))),
  stream_options: Type.Optional(
    nullable(
      Type.Object(
        { include_usage: Type.Optional(Type.Boolean({ description: 'Send a last chunk with `usage` and the aggregate `speculative`.' })) },
        { additionalProperties: false },
      ),
    ),
  ),
  user: Type.Optional(
    Type.String({
      maxLength: 256,
      description: 'End-user id; logged with the completion, and the key of experiment assignment (else the x-fairspec-user header).',
    }),
  ),
  language: Type.Optional(
    Type.String({
      pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
      description: 'Extension: pin the language (e.g. "am") instead of detecting it; routing and metrics use it.',
    }),
  ),
  speculative: Type.Optional(
    Type.Object(
      {
        draft_length: Type.Optional(Type.Integer({ minimum: 0, maximum: 32, description: 'Draft length gamma; 0 decodes without drafting.' })),
        drafter: Type.Optional(nullable(Type.String({ minLength: 1, description: 'Drafter name in the pack; null decodes without drafting.' }))),
      },
      {
        additionalProperties: false,
        description: 'Extension: override the routed drafter and/or draft length. A request that overrides is not assigned to an experiment.',
      },
    ),
  ),
};

/** What a route's description says of fields it does not have. */
export const UNKNOWN_FIELDS =
  'Fields the API does not have are ignored, with a warning in the server log (FAIRSPEC_STRICT_REQUESTS=1: a 400 unknown_parameter).';
