// POST /v1/completions: OpenAI's legacy completions API, JSON or server-sent events. The request's
// life (signal, admission, stream) is generation-route.ts's; the wire format completions-format.ts'.

import type { FastifyPluginAsync } from 'fastify';
import { CompletionChunk, CompletionHeaders, CompletionRequest, CompletionResponse, type CompletionRequestBody } from '../src/wire/completions.js';
import { errorResponses } from '../src/wire/error.js';
import { chunks, responseMeta, toCompletion, toParams } from './completions-format.js';
import { generationRoute } from './generation-route.js';

const completionsPlugin: FastifyPluginAsync = async (fastify) => {
  const model = fastify.config.modelId;
  generationRoute<CompletionRequestBody>(
    fastify,
    '/v1/completions',
    {
      tags: ['completions'],
      summary: 'Create a completion',
      description:
        'OpenAI-compatible text completion with lossless speculative decoding. Each prompt is routed by its detected ' +
        '(or pinned) language to a drafter and draft length; `speculative` reports what was chosen and how it did.',
      body: CompletionRequest,
      headers: CompletionHeaders,
      response: {
        200: {
          description: 'A completion (JSON), or with stream: true a stream of CompletionChunk events.',
          content: { 'application/json': { schema: CompletionResponse }, 'text/event-stream': { schema: CompletionChunk } },
        },
        ...errorResponses,
      },
    },
    {
      params: (body) => toParams(body),
      json: (plan, results) => toCompletion(responseMeta(model), plan, results),
      chunks: (plan, includeUsage) => {
        const chunk = chunks(responseMeta(model), includeUsage);
        return { text: chunk.text, end: chunk.end, usage: (results) => chunk.usage(plan, results) };
      },
    },
  );
};

export default completionsPlugin;
