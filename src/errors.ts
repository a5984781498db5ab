// Domain errors of requests, admission and the admin API. Each carries a code of the one
// union in src/error-codes.ts; plugins/error-status.ts is the one place that maps codes to HTTP
// statuses and OpenAI's `{error: {message, type, param, code}}` body.

import type { ErrorCode } from './error-codes.js';

export class FairspecError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Request field the error is about (OpenAI's `param`), null when none. */
    readonly param: string | null = null,
    /** For FS_QUEUE_FULL / FS_SHUTTING_DOWN: seconds a client should wait (Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'FairspecError';
  }
}

export function isFairspecError(err: unknown): err is FairspecError {
  return err instanceof FairspecError;
}

/** The error an aborted generation rejects with (client gone, or drain deadline passed). */
export class AbortedError extends Error {
  readonly code: ErrorCode = 'FS_ABORTED';
  constructor(message = 'generation aborted') {
    super(message);
    this.name = 'AbortedError';
  }
}
