// POST /v1/chat/completions: OpenAI's chat API, JSON or server-sent events. The messages become
// one prompt through the chat template (src/chat/); the request's life (signal, admission,
// stream) is generation-route.ts's, the wire format chat-format.ts'.

import type { FastifyPluginAsync } from 'fastify';
import { ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, type ChatCompletionRequestBody } from '../src/wire/chat.js';
import { CompletionHeaders } from '../src/wire/completions.js';
import { errorResponses } from '../src/wire/error.js';
import { chatChunks, chatMeta, toChatCompletion, toChatParams } from './chat-format.js';
import { generationRoute } from './generation-route.js';

const chatCompletionsPlugin: FastifyPluginAsync = async (fastify) => {
  const { config, fairspec } = fastify;
  generationRoute<ChatCompletionRequestBody>(
    fastify,
    '/v1/chat/completions',
    {
      tags: ['completions'],
      summary: 'Create a chat completion',
      description:
        "OpenAI-compatible chat completion: the messages are rendered with the model's chat template (FAIRSPEC_CHAT_TEMPLATE overrides it) " +
        'and completed with lossless speculative decoding, routed by the language of the user messages; `speculative` reports what was chosen and how it did. ' +
        'A model without a chat template answers 400 chat_template_missing.',
      body: ChatCompletionRequest,
      headers: CompletionHeaders,
      response: {
        200: {
          description: 'A chat completion (JSON), or with stream: true a stream of ChatCompletionChunk events.',
          content: { 'application/json': { schema: ChatCompletionResponse }, 'text/event-stream': { schema: ChatCompletionChunk } },
        },
        ...errorResponses,
      },
    },
    {
      // The route runs only once the service exists (generation-route.ts), and with it the chat prompts.
      params: (body) => toChatParams(body, fairspec.loaded!.chat, config.maxTokens),
      json: (plan, results) => toChatCompletion(chatMeta(config.modelId), plan, results),
      chunks: (plan, includeUsage) => chatChunks(chatMeta(config.modelId), plan, includeUsage),
    },
  );
};

export default chatCompletionsPlugin;
