// FAIRSPEC_ALLOWED_HOSTS: with a list set, a request whose Host header is not on it gets 403
// (host_not_allowed) before anything else runs (src/allowed-hosts.ts says why). Off by default.

import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { hostAllowed } from '../src/allowed-hosts.js';
import { FairspecError } from '../src/errors.js';

async function allowedHostsPlugin(fastify: FastifyInstance): Promise<void> {
  const allowed = fastify.config.allowedHosts;
  if (allowed.length === 0) return;
  fastify.addHook('onRequest', async (request) => {
    if (!hostAllowed(request.headers.host, allowed)) {
      throw new FairspecError('FS_HOST_NOT_ALLOWED', `The Host '${(request.headers.host ?? '').slice(0, 100)}' is not served here (FAIRSPEC_ALLOWED_HOSTS).`);
    }
  });
}

export default fp(allowedHostsPlugin, { name: 'fairspec-allowed-hosts', fastify: '5.x' });
