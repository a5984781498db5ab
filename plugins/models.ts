// GET /v1/models and GET /v1/models/:model in OpenAI's list / model shapes. One model is
// served: the verifier of the loaded pack, under the configured id, with its context length as
// vLLM's max_model_len.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FairspecError } from '../src/errors.js';
import { errorResponses } from '../src/wire/error.js';
import { Model, ModelList, ModelParams } from '../src/wire/models.js';

const modelsPlugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const created = Math.floor(Date.now() / 1000);
  const model = () => {
    const contextLength = fastify.fairspec.loaded?.engine.contextLength;
    return { id: fastify.config.modelId, object: 'model' as const, created, owned_by: 'fairspec', ...(contextLength !== undefined && { max_model_len: contextLength }) };
  };

  fastify.get(
    '/v1/models',
    { schema: { tags: ['models'], summary: 'List models', response: { 200: ModelList } } },
    async () => ({ object: 'list' as const, data: [model()] }),
  );

  fastify.get(
    '/v1/models/:model',
    {
      schema: {
        tags: ['models'],
        summary: 'Retrieve a model',
        params: ModelParams,
        response: { 200: Model, 404: errorResponses[404] },
      },
    },
    async (request) => {
      if (request.params.model !== fastify.config.modelId) {
        throw new FairspecError('FS_MODEL_NOT_FOUND', `The model '${request.params.model}' does not exist.`, 'model');
      }
      return model();
    },
  );
};

export default modelsPlugin;
