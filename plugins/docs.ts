// OpenAPI from the routes' own TypeBox schemas (@fastify/swagger) and Swagger UI at /docs.
// Registered before the route plugins: @fastify/swagger collects routes through onRoute.

import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export const openapiInfo = {
  title: 'fairspec',
  description:
    'OpenAI-compatible text and chat completions with lossless speculative decoding, routed per language ' +
    '(drafter and draft length chosen from the detected language) and measured per language.',
  version: '1.0.0',
};

async function docsPlugin(fastify: FastifyInstance): Promise<void> {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: openapiInfo,
      tags: [
        { name: 'completions', description: 'OpenAI-compatible text and chat completions' },
        { name: 'tokenize', description: "vLLM's tokenize and detokenize" },
        { name: 'models', description: 'Served models' },
        { name: 'routing', description: 'Per-language routing policy' },
        { name: 'experiments', description: 'A/B experiments of drafting setups (admin: bearer token)' },
        { name: 'drafters', description: 'Loaded drafters, and replacing one while the server runs (admin: bearer token)' },
        { name: 'operations', description: 'Health, readiness and metrics' },
      ],
      components: {
        securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'FAIRSPEC_ADMIN_TOKEN' } },
      },
    },
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs', logLevel: 'warn' });
}

export default fp(docsPlugin, { name: 'fairspec-docs', fastify: '5.x' });
