// Domain errors of the engine, with codes from the one union of src/error-codes.ts (client
// errors: FS_PROMPT_TOO_LONG, FS_EMPTY_PROMPT, FS_UNKNOWN_DRAFTER, FS_INVALID_OPTION; the rest
// are server or boot errors).

import type { ErrorCode } from '../error-codes.js';

/** The codes an EngineError carries (src/error-codes.ts says what each means). */
export type EngineErrorCode = Extract<
  ErrorCode,
  | 'FS_PROMPT_TOO_LONG'
  | 'FS_EMPTY_PROMPT'
  | 'FS_UNKNOWN_DRAFTER'
  | 'FS_INVALID_OPTION'
  | 'FS_MODEL_CONFIG'
  | 'FS_MODEL_IO'
  | 'FS_MODEL_LOAD'
  | 'FS_VOCAB_MISMATCH'
  | 'FS_ENGINE_CLOSED'
  | 'FS_MODEL_FAULT'
>;

export class EngineError extends Error {
  override readonly name = 'EngineError';

  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isEngineError(err: unknown, code?: EngineErrorCode): err is EngineError {
  return err instanceof EngineError && (code === undefined || err.code === code);
}
