// GET /healthz: the process answers (liveness). GET /readyz: models are loaded, the server is
// not draining and the verifier is not failing (readiness, Fairspec.readiness(); 503 otherwise,
// so a load balancer stops sending work).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health, Readiness } from '../src/wire/health.js';

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
      const { requestQueue: queue } = fastify.fairspec;
      const status = fastify.fairspec.readiness();
      return reply.code(status === 'ready' ? 200 : 503).send({ status, running: queue.running, queued: queue.waiting });
    },
  );
};

export default healthPlugin;
