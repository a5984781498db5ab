// Graceful shutdown (SIGTERM in server.ts calls fastify.close()):
// - new work is refused from preClose on (the engine plugin closes the queue; /readyz says
//   'draining'; completions answer 503), while queued and running generations finish;
// - responses carry `Connection: close` meanwhile, and once no request is in flight every
//   connection is closed. server.close() alone would wait on keep-alive sockets that never
//   sent a request (clients pre-connect): Node counts those as active, not idle, so
//   closeIdleConnections() leaves them open until the client's own timeout;
// - abortInFlight() (called at the drain deadline) aborts whatever is still generating;
// - a request whose body is still arriving has started no work: when the drain starts its
//   connection is closed, and a request with a body that arrives during the drain is answered
//   503 at once. A client that sends headers and part of a body then stalls never holds the
//   drain (issue 16); FAIRSPEC_BODY_TIMEOUT_MS ends it outside a drain.

import { setMaxListeners } from 'node:events';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FairspecError } from '../src/errors.js';

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
  /** Requests whose body has not been read yet. */
  const receiving = new Set<FastifyRequest>();
  const closeConnectionsIfIdle = (): void => {
    // After the current I/O callbacks, so a response that just ended has released its socket.
    setImmediate(() => {
      if (inFlight === 0) fastify.server.closeAllConnections();
      else fastify.server.closeIdleConnections();
    });
  };

  fastify.addHook('onRequest', async (request, reply) => {
    inFlight++;
    receiving.add(request);
    reply.raw.once('close', () => {
      inFlight--;
      receiving.delete(request);
      if (fastify.draining) closeConnectionsIfIdle();
    });
    if (fastify.draining && hasBody(request)) {
      throw new FairspecError('FS_SHUTTING_DOWN', 'The server is shutting down; retry on another instance.', null, 5);
    }
  });
  fastify.addHook('preValidation', async (request) => {
    receiving.delete(request);
  });
  fastify.addHook('preClose', async () => {
    fastify.draining = true;
    for (const request of receiving) if (hasBody(request)) request.raw.destroy();
    if (fastify.server.listening) closeConnectionsIfIdle();
  });
  fastify.addHook('onSend', async (_request, reply, payload) => {
    if (fastify.draining && !reply.raw.headersSent) reply.header('connection', 'close');
    return payload;
  });
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export default fp(drainPlugin, { name: 'fairspec-drain', fastify: '5.x' });
