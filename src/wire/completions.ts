// Schemas of POST /v1/completions: they validate the body, type the handler, serialise the
// JSON reply and generate openapi/openapi.json. Bounds here are the API's; server limits that
// depend on configuration (FAIRSPEC_MAX_N, FAIRSPEC_MAX_TOKENS) are checked by the service so
// the published spec does not change with deployment settings.

import { Type, type Static } from 'typebox';
import { nullable } from './nullable.js';
import { CompletionLogprobs } from './logprobs.js';
import { samplingFields, UNKNOWN_FIELDS } from './sampling.js';
import { MAX_LOGPROBS } from '../engine/token-logprobs.js';

const TokenId = Type.Integer({ minimum: 0 });

export const CompletionRequest = Type.Object(
  {
    ...samplingFields,
    prompt: Type.Union(
      [
        Type.String(),
        Type.Array(Type.String(), { minItems: 1, maxItems: 64 }),
        Type.Array(TokenId, { minItems: 1 }),
        Type.Array(Type.Array(TokenId, { minItems: 1 }), { minItems: 1, maxItems: 64 }),
      ],
      {
        description:
          'Text to complete, or several texts (one set of `n` choices each); or token ids, one list or several (as lm-eval sends). Must not be empty.',
      },
    ),
    max_tokens: Type.Optional(nullable(Type.Integer({ minimum: 1, description: 'Default 16, as in OpenAI.' }))),
    echo: Type.Optional(nullable(Type.Boolean({ description: 'Each choice’s text starts with its prompt (and with logprobs, so do its log-probabilities).' }))),
    logprobs: Type.Optional(
      nullable(
        Type.Integer({
          minimum: 0,
          maximum: MAX_LOGPROBS,
          description: "The verifier's log-probability of each token with this many most likely alternatives (exact under speculation: every token was verified).",
        }),
      ),
    ),
    // Accepted so that clients which always send them work; only the neutral value is supported.
    suffix: Type.Optional(nullable(Type.String({ description: 'Not supported: only null.' }))),
    best_of: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 128, description: 'Not supported: only 1 or equal to n.' }))),
  },
  { title: 'CompletionRequest', description: UNKNOWN_FIELDS },
);
export type CompletionRequestBody = Static<typeof CompletionRequest>;

export const CompletionHeaders = Type.Object({
  'x-fairspec-user': Type.Optional(
    Type.String({ description: 'Extension: the key of A/B experiment assignment when the body has no `user`; else the request id is.' }),
  ),
});

export const Speculative = Type.Object(
  {
    language: Type.String({ description: "Detected or pinned language; 'unknown' when undetected, 'mixed' in an aggregate over differing prompts." }),
    language_confidence: Type.Number({ description: "The detector's score in [0, 1] (1 when pinned); the minimum in an aggregate." }),
    drafter: nullable(Type.String({ description: "Drafter used; null for plain decoding; 'mixed' in an aggregate over differing choices." })),
    draft_length: nullable(Type.Integer({ description: 'Draft length gamma; null in an aggregate over differing choices.' })),
    drafts: Type.Integer({ description: 'Verifier steps that checked at least one drafted token.' }),
    drafted: Type.Integer({ description: 'Drafted tokens proposed.' }),
    accepted: Type.Integer({ description: 'Drafted tokens accepted.' }),
    acceptance_rate: nullable(Type.Number({ description: 'accepted / drafted; null when nothing was drafted.' })),
    mean_accepted_length: nullable(Type.Number({ description: '1 + accepted / drafts (tokens per drafting step); null when no drafts.' })),
    verifier_steps: Type.Integer({ description: 'Verifier forward passes.' }),
    draft_ms: Type.Number({ description: 'Milliseconds spent in the drafter.' }),
    verify_ms: Type.Number({ description: 'Milliseconds spent in the verifier.' }),
    experiment: Type.Optional(Type.String({ description: 'The A/B experiment the request was assigned to; absent outside experiments.' })),
    arm: Type.Optional(Type.String({ description: "The experiment arm: it chose the drafter and/or the routing policy's mode." })),
  },
  { title: 'SpeculativeStats' },
);
/** The `speculative` object, per choice or aggregated over a request (built by src/speculative-summary.ts). */
export type SpeculativeBody = Static<typeof Speculative>;

export const Usage = Type.Object(
  {
    prompt_tokens: Type.Integer({ description: 'Tokens of the prompts, each prompt counted once.' }),
    completion_tokens: Type.Integer({ description: 'Tokens generated over all choices.' }),
    total_tokens: Type.Integer(),
  },
  { title: 'Usage' },
);

export const FinishReason = Type.Union([Type.Literal('stop'), Type.Literal('length')]);

export const CompletionChoice = Type.Object(
  {
    text: Type.String(),
    index: Type.Integer({ description: 'promptIndex * n + j' }),
    logprobs: nullable(CompletionLogprobs),
    finish_reason: FinishReason,
    speculative: Speculative,
  },
  { title: 'CompletionChoice' },
);

export const CompletionResponse = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('text_completion'),
    created: Type.Integer(),
    model: Type.String(),
    choices: Type.Array(CompletionChoice),
    usage: Usage,
    speculative: Speculative,
  },
  {
    title: 'CompletionResponse',
    description:
      'choices[i].speculative: that choice; speculative: the aggregate over all choices (counts summed, ratios recomputed ' +
      'from the sums; equal to the only choice when there is one).',
  },
);
export type CompletionResponseBody = Static<typeof CompletionResponse>;

export const CompletionChunk = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('text_completion'),
    created: Type.Integer(),
    model: Type.String(),
    choices: Type.Array(
      Type.Object({
        text: Type.String(),
        index: Type.Integer(),
        logprobs: nullable(CompletionLogprobs),
        finish_reason: nullable(FinishReason),
        speculative: Type.Optional(Speculative),
      }),
      { description: "One choice's text delta; its last chunk has finish_reason and that choice's speculative stats. Empty in the usage chunk." },
    ),
    usage: Type.Optional(nullable(Usage)),
    speculative: Type.Optional(Speculative),
  },
  {
    title: 'CompletionChunk',
    description:
      'Each server-sent event is `data: <CompletionChunk>`; the stream ends with `data: [DONE]`. With stream_options.include_usage, ' +
      'every chunk carries usage: null and a last chunk with no choices carries usage and the aggregate speculative stats.',
  },
);
export type CompletionChunkBody = Static<typeof CompletionChunk>;
