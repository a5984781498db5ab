// The admin API's guard, shared by the routes that change or expose the server's setup
// (/v1/experiments, /v1/drafters): `Authorization: Bearer <FAIRSPEC_ADMIN_TOKEN>` or 401 with a
// WWW-Authenticate challenge; without a configured token the admin API is disabled (403). Used
// as an onRequest hook, so it runs before the body is read and nothing about validation leaks to
// unauthenticated clients.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { AdminToken } from '../src/admin-token.js';
import { FairspecError } from '../src/errors.js';
import { errorResponse } from '../src/wire/error.js';

/** Response schemas of the guard's errors, for every admin route. */
export const adminErrors = {
  401: errorResponse('Missing or wrong admin token (code invalid_api_key).'),
  403: errorResponse('The admin API is disabled: no FAIRSPEC_ADMIN_TOKEN is configured (code admin_api_disabled).'),
};

/** Schema fields every admin route shares: its tag and the bearer security requirement. */
export const adminSchema = (tag: string) => ({ tags: [tag], security: [{ adminToken: [] }] });

/** An onRequest hook that admits only requests bearing `adminToken` (null: admin API disabled). */
export function adminGuard(adminToken: string | null): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const token = adminToken === null ? null : new AdminToken(adminToken);
  return async (request, reply) => {
    if (token === null) {
      throw new FairspecError('FS_ADMIN_DISABLED', 'The admin API is disabled on this server: set FAIRSPEC_ADMIN_TOKEN to enable it.');
    }
    const check = token.check(request.headers.authorization);
    if (check === 'ok') return;
    reply.header('www-authenticate', 'Bearer realm="fairspec admin"');
    throw new FairspecError(
      'FS_UNAUTHORIZED',
      check === 'missing'
        ? "You didn't provide an admin token. Send it in the Authorization header as 'Bearer <FAIRSPEC_ADMIN_TOKEN>'."
        : 'Incorrect admin token provided.',
    );
  };
}
