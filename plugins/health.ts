// GET /healthz: the process answers (liveness). GET /readyz: models are loaded and the
// server is not draining (readiness; 503 otherwise, so a load balancer stops sending work).

import fp from 'fastify-plugin';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const Health = Type.Object({ status: Type.Literal('ok') }, { title: 'Health' });
const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('loading'), Type.Literal('draining')]),
    running: Type.Integer({ description: 'Requests holding a generation slot.' }),
    queued: Type.Integer({ description: 'Requests waiting for a slot.' }),
  },
  { title: 'Readiness' },
);

const healthPlugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const quiet = { logLevel: 'warn' as const };

  fastify.get(
    '/healthz',
    { ...quiet, schema: { tags: ['operations'], summary: 'Liveness', response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );

  fastify.get(
    '/readyz',
    { ...quiet, schema: { tags: ['operations'], summary: 'Readiness', response: { 200: Readiness, 503: Readiness } } },
    async (_request, reply) => {
      const queue = fastify.requestQueue;
      const status = queue.closed ? 'draining' : fastify.engine === null ? 'loading' : 'ready';
      return reply.code(status === 'ready' ? 200 : 503).send({ status, running: queue.running, queued: queue.waiting });
    },
  );
};

export default fp(healthPlugin, { name: 'fairspec-health', fastify: '5.x', dependencies: ['fairspec-engine'] });
