// Fields a request has and its route's schema does not: refused with FAIRSPEC_STRICT_REQUESTS=1,
// else one warning per request (src/request-fields.ts).

import type { FastifyRequest } from 'fastify';
import { checkUnknownFields as check } from '../src/request-fields.js';

/** Longest field name quoted in the log (a hostile body may have a key of a megabyte). */
const MAX_LOGGED_NAME = 64;

export function checkUnknownFields(request: FastifyRequest, schema: { properties: Readonly<Record<string, unknown>> }, strict: boolean): void {
  const fields = check(schema, request.body, strict);
  if (fields.length === 0) return;
  const names = fields.slice(0, 10).map((f) => (f.length > MAX_LOGGED_NAME ? `${f.slice(0, MAX_LOGGED_NAME)}…` : f));
  request.log.warn({ fields: names, count: fields.length, url: request.url }, 'request fields this API does not have were ignored');
}
