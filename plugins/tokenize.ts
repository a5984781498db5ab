// POST /tokenize and POST /detokenize in vLLM's shapes (src/tokenization.ts does the work).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FairspecError } from '../src/errors.js';
import type { Tokenization } from '../src/tokenization.js';
import { errorResponses } from '../src/wire/error.js';
import { DetokenizeRequest, DetokenizeResponse, TokenizeRequest, TokenizeResponse } from '../src/wire/tokenize.js';
import { toMessages } from './chat-format.js';
import { checkUnknownFields } from './unknown-fields.js';

const tokenizePlugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const tokenization = (): Tokenization => {
    const loaded = fastify.fairspec.loaded;
    if (!loaded) throw new FairspecError('FS_NOT_READY', 'The model is not loaded yet.');
    return loaded.tokenization;
  };
  const { 400: badRequest, 404: notFound, 413: tooLarge, 415: badMedia, 500: internal, 503: unavailable } = errorResponses;
  const errors = { 400: badRequest, 404: notFound, 413: tooLarge, 415: badMedia, 500: internal, 503: unavailable };

  fastify.post(
    '/tokenize',
    {
      schema: {
        tags: ['tokenize'],
        summary: 'Tokenize a prompt or chat messages',
        description: "vLLM's /tokenize: the verifier's token ids of `prompt`, or of `messages` rendered with the chat template, and the context length.",
        body: TokenizeRequest,
        response: { 200: TokenizeResponse, ...errors },
      },
    },
    async (request) => {
      checkUnknownFields(request, TokenizeRequest, fastify.config.strictRequests);
      const { model, prompt, messages, add_generation_prompt: addGenerationPrompt, add_special_tokens: addSpecialTokens } = request.body;
      if ((prompt === undefined) === (messages === undefined)) {
        throw new FairspecError('FS_INVALID_PARAM', "Give exactly one of 'prompt' and 'messages'.", prompt === undefined ? 'prompt' : 'messages');
      }
      const common = { ...(model !== undefined && { model }), ...(addSpecialTokens !== undefined && { addSpecialTokens }) };
      const result = await tokenization().tokenize(
        prompt !== undefined
          ? { ...common, prompt }
          : { ...common, messages: toMessages(messages!), ...(addGenerationPrompt !== undefined && { addGenerationPrompt }) },
      );
      return { count: result.count, max_model_len: result.maxModelLen, tokens: result.tokens };
    },
  );

  fastify.post(
    '/detokenize',
    {
      schema: {
        tags: ['tokenize'],
        summary: 'Detokenize token ids',
        description: "vLLM's /detokenize: the text of token ids of the verifier's vocabulary (special tokens skipped).",
        body: DetokenizeRequest,
        response: { 200: DetokenizeResponse, ...errors },
      },
    },
    async (request) => {
      checkUnknownFields(request, DetokenizeRequest, fastify.config.strictRequests);
      const { model, tokens } = request.body;
      return { prompt: tokenization().detokenize({ ...(model !== undefined && { model }), tokens }) };
    },
  );
};

export default tokenizePlugin;
