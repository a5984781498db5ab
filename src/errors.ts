// Domain errors raised below the HTTP layer. Each carries a stable FS_* code; the error
// plugin (plugins/errors.ts) is the one place that maps codes to HTTP statuses and to
// OpenAI's `{error: {message, type, param, code}}` body.

export type FairspecErrorCode =
  | 'FS_MODEL_NOT_FOUND'
  | 'FS_EMPTY_PROMPT'
  | 'FS_PROMPT_TOO_LONG'
  | 'FS_INVALID_PARAM'
  | 'FS_UNKNOWN_DRAFTER'
  | 'FS_INVALID_UTF8'
  | 'FS_QUEUE_FULL'
  | 'FS_SHUTTING_DOWN'
  | 'FS_NOT_READY'
  | 'FS_UNAUTHORIZED'
  | 'FS_ADMIN_DISABLED'
  // PUT /v1/drafters/{name}
  | 'FS_DRAFTER_NOT_FOUND'
  | 'FS_PATH_NOT_FOUND'
  | 'FS_PATH_NOT_ALLOWED'
  | 'FS_NOT_A_DIRECTORY'
  | 'FS_INVALID_DRAFTER_MODEL'
  | 'FS_VOCAB_MISMATCH';

export class FairspecError extends Error {
  constructor(
    readonly code: FairspecErrorCode,
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
  readonly code = 'FS_ABORTED';
  constructor(message = 'generation aborted') {
    super(message);
    this.name = 'AbortedError';
  }
}
