// Graceful shutdown (SIGTERM in server.ts calls fastify.close()):
// - new work is refused from preClose on (the engine plugin closes the queue; /readyz says
//   'draining'; completions answer 503), while queued and running generations finish;
// - responses carry `Connection: close` meanwhile, and once no request is in flight every
//   connection is closed. server.close() alone would wait on keep-alive sockets that never
//   sent a request (clients pre-connect): Node counts those as active, not idle, so
//   closeIdleConnections() leaves them open until the client's own timeout;
// - abortInFlight() (called at the drain deadline) aborts whatever is still generating.

import { setMaxListeners } from 'node:events';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** Fires when in-flight generations must stop (drain deadline). */
    shutdownSignal: AbortSignal;
    abortInFlight(): void;
    draining: boolean;
  }
}

async function drainPlugin(fastify: FastifyInstance): Promise<void> {
  const controller = new AbortController();
  // One listener per in-flight request; the queue bounds them, not EventTarget's default of 10.
  setMaxListeners(0, controller.signal);
  fastify.decorate('shutdownSignal', controller.signal);
  fastify.decorate('abortInFlight', () => controller.abort());
  fastify.decorate('draining', false);

  let inFlight = 0;
  const closeConnectionsIfIdle = (): void => {
    // After the current I/O callbacks, so a response that just ended has released its socket.
    setImmediate(() => {
      if (inFlight === 0) fastify.server.closeAllConnections();
      else fastify.server.closeIdleConnections();
    });
  };

  fastify.addHook('onRequest', async (_request, reply) => {
    inFlight++;
    reply.raw.once('close', () => {
      inFlight--;
      if (fastify.draining) closeConnectionsIfIdle();
    });
  });
  fastify.addHook('preClose', async () => {
    fastify.draining = true;
    if (fastify.server.listening) closeConnectionsIfIdle();
  });
  fastify.addHook('onSend', async (_request, reply, payload) => {
    if (fastify.draining && !reply.raw.headersSent) reply.header('connection', 'close');
    return payload;
  });
}

export default fp(drainPlugin, { name: 'fairspec-drain', fastify: '5.x' });
