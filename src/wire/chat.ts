// Schemas of POST /v1/chat/completions (plugins/chat-completions.ts), in OpenAI's shapes, with the
// `speculative` object per choice and per response as in completions.

import { Type, type Static } from 'typebox';
import { MAX_LOGPROBS } from '../engine/token-logprobs.js';
import { FinishReason, Speculative, Usage } from './completions.js';
import { ChatLogprobs } from './logprobs.js';
import { nullable } from './nullable.js';
import { samplingFields, UNKNOWN_FIELDS } from './sampling.js';

/** The roles a message may have; tool and function messages need tool calling, which is not served. */
export const CHAT_ROLES = ['system', 'developer', 'user', 'assistant'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

const TextPart = Type.Object(
  { type: Type.Literal('text'), text: Type.String() },
  { title: 'ChatTextPart', description: 'Only text parts: the model reads text.' },
);

export const ChatMessage = Type.Object(
  {
    role: Type.Enum([...CHAT_ROLES], { description: `One of ${CHAT_ROLES.join(', ')}.` }),
    content: Type.Union([Type.String(), Type.Array(TextPart, { minItems: 1 })], {
      description: 'The text, or a list of text parts (joined with newlines).',
    }),
    name: Type.Optional(Type.String({ description: 'Passed to the chat template as is.' })),
  },
  { title: 'ChatMessage' },
);
export type ChatMessageBody = Static<typeof ChatMessage>;

export const Messages = Type.Array(ChatMessage, { minItems: 1, maxItems: 4096, description: 'The conversation, rendered with the chat template.' });

export const ChatCompletionRequest = Type.Object(
  {
    ...samplingFields,
    messages: Messages,
    max_completion_tokens: Type.Optional(
      nullable(Type.Integer({ minimum: 1, description: 'Default: what the context leaves after the prompt, up to FAIRSPEC_MAX_TOKENS.' })),
    ),
    max_tokens: Type.Optional(nullable(Type.Integer({ minimum: 1, description: 'The older name of max_completion_tokens.' }))),
    logprobs: Type.Optional(nullable(Type.Boolean({ description: "The verifier's log-probability of each output token (exact under speculation)." }))),
    top_logprobs: Type.Optional(
      nullable(Type.Integer({ minimum: 0, maximum: MAX_LOGPROBS, description: 'With logprobs: this many most likely alternatives per token. Default 0.' })),
    ),
    add_generation_prompt: Type.Optional(
      Type.Boolean({ description: "vLLM's: end the prompt with the template's assistant turn opener. Default true." }),
    ),
  },
  { title: 'ChatCompletionRequest', description: UNKNOWN_FIELDS },
);
export type ChatCompletionRequestBody = Static<typeof ChatCompletionRequest>;

export const ChatCompletionResponse = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('chat.completion'),
    created: Type.Integer(),
    model: Type.String(),
    choices: Type.Array(
      Type.Object(
        {
          index: Type.Integer({ description: 'j of n' }),
          message: Type.Object({ role: Type.Literal('assistant'), content: Type.String() }),
          logprobs: nullable(ChatLogprobs),
          finish_reason: FinishReason,
          speculative: Speculative,
        },
        { title: 'ChatCompletionChoice' },
      ),
    ),
    usage: Usage,
    speculative: Speculative,
  },
  { title: 'ChatCompletionResponse', description: 'choices[i].speculative: that choice; speculative: the aggregate over all choices.' },
);
export type ChatCompletionResponseBody = Static<typeof ChatCompletionResponse>;

export const ChatCompletionChunk = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('chat.completion.chunk'),
    created: Type.Integer(),
    model: Type.String(),
    choices: Type.Array(
      Type.Object({
        index: Type.Integer(),
        delta: Type.Object({ role: Type.Optional(Type.Literal('assistant')), content: Type.Optional(Type.String()) }),
        logprobs: nullable(ChatLogprobs),
        finish_reason: nullable(FinishReason),
        speculative: Type.Optional(Speculative),
      }),
      {
        description:
          "A choice's first chunk has delta.role, the next ones its text in delta.content; its last has finish_reason and that choice's speculative stats. Empty in the usage chunk.",
      },
    ),
    usage: Type.Optional(nullable(Usage)),
    speculative: Type.Optional(Speculative),
  },
  {
    title: 'ChatCompletionChunk',
    description:
      'Each server-sent event is `data: <ChatCompletionChunk>`; the stream ends with `data: [DONE]`. With stream_options.include_usage, every chunk carries usage: null and a last chunk with no choices carries usage and the aggregate speculative stats.',
  },
);
export type ChatCompletionChunkBody = Static<typeof ChatCompletionChunk>;
