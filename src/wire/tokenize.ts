// Schemas of POST /tokenize and POST /detokenize (plugins/tokenize.ts), in vLLM's shapes.

import { Type, type Static } from 'typebox';
import { Messages } from './chat.js';
import { UNKNOWN_FIELDS } from './sampling.js';

export const TokenizeRequest = Type.Object(
  {
    model: Type.Optional(Type.String({ description: 'The served model id; optional, as in vLLM.' })),
    prompt: Type.Optional(Type.String({ description: 'Text to tokenize. Give either prompt or messages.' })),
    messages: Type.Optional(Messages),
    add_generation_prompt: Type.Optional(Type.Boolean({ description: 'With messages: end with the assistant turn opener. Default true.' })),
    add_special_tokens: Type.Optional(
      Type.Boolean({ description: "Add the tokenizer's special tokens (e.g. a BOS). Default true for a prompt, false for messages (the template has them)." }),
    ),
  },
  { title: 'TokenizeRequest', description: `A prompt, or chat messages rendered with the chat template. ${UNKNOWN_FIELDS}` },
);
export type TokenizeRequestBody = Static<typeof TokenizeRequest>;

export const TokenizeResponse = Type.Object(
  {
    count: Type.Integer({ description: 'Number of tokens.' }),
    max_model_len: Type.Integer({ description: "The verifier's context length in tokens (prompt + completion)." }),
    tokens: Type.Array(Type.Integer()),
  },
  { title: 'TokenizeResponse' },
);
export type TokenizeResponseBody = Static<typeof TokenizeResponse>;

export const DetokenizeRequest = Type.Object(
  {
    model: Type.Optional(Type.String({ description: 'The served model id; optional, as in vLLM.' })),
    tokens: Type.Array(Type.Integer(), { description: "Token ids of the model's vocabulary." }),
  },
  { title: 'DetokenizeRequest', description: UNKNOWN_FIELDS },
);
export type DetokenizeRequestBody = Static<typeof DetokenizeRequest>;

export const DetokenizeResponse = Type.Object({ prompt: Type.String({ description: 'The text of the tokens, special tokens skipped.' }) }, { title: 'DetokenizeResponse' });
