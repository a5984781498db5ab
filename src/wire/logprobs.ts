// Log-probabilities on the wire, in OpenAI's two shapes: the legacy completions object of
// parallel lists, and chat's list of per-token objects. Both carry the verifier's raw
// log-probabilities (before temperature, penalties and the like), as vLLM's default does.

import { Type, type Static } from 'typebox';
import { nullable } from './nullable.js';

export const CompletionLogprobs = Type.Object(
  {
    tokens: Type.Array(Type.String(), { description: "Each token's text." }),
    token_logprobs: Type.Array(nullable(Type.Number()), { description: "Each token's log-probability; null for an echoed prompt's first token." }),
    top_logprobs: Type.Array(nullable(Type.Record(Type.String(), Type.Number())), {
      description: 'Per token, the most likely tokens at its position (and the token itself) with their log-probabilities.',
    }),
    text_offset: Type.Array(Type.Integer(), { description: "Where each token's text starts in the choice's text (the sum of the tokens' lengths before it, as vLLM)." }),
  },
  { title: 'CompletionLogprobs' },
);
export type CompletionLogprobsBody = Static<typeof CompletionLogprobs>;

const TokenBytes = nullable(Type.Array(Type.Integer(), { description: "The UTF-8 bytes of the token's text." }));

export const ChatTokenLogprob = Type.Object(
  {
    token: Type.String(),
    logprob: Type.Number(),
    bytes: TokenBytes,
    top_logprobs: Type.Array(Type.Object({ token: Type.String(), logprob: Type.Number(), bytes: TokenBytes }), {
      description: 'The top_logprobs most likely tokens at this position, most likely first.',
    }),
  },
  { title: 'ChatTokenLogprob' },
);

export const ChatLogprobs = Type.Object({ content: nullable(Type.Array(ChatTokenLogprob)) }, { title: 'ChatLogprobs' });
export type ChatLogprobsBody = Static<typeof ChatLogprobs>;
