// Errors of the experiment registry, with codes from the one union of src/error-codes.ts.
// Validation errors list every problem, each naming the field (as a path, `arms[1].weight`) and
// the value that was given.

import type { ErrorCode } from '../error-codes.js';

export type ExperimentErrorCode = Extract<
  ErrorCode,
  'FS_INVALID_EXPERIMENT' | 'FS_EXPERIMENT_NOT_FOUND' | 'FS_EXPERIMENT_EXISTS' | 'FS_EXPERIMENT_CONFLICT' | 'FS_TOO_MANY_EXPERIMENTS'
>;

export interface ValidationIssue {
  /** Path of the field, e.g. `arms[1].weight`; '' for the whole value. */
  field: string;
  value: unknown;
  reason: string;
}

export class ExperimentError extends Error {
  override readonly name = 'ExperimentError';

  constructor(
    readonly code: ExperimentErrorCode,
    message: string,
    /** The field the error is about (OpenAI's `param`), null when none. */
    readonly param: string | null = null,
    readonly issues: readonly ValidationIssue[] = [],
  ) {
    super(message);
  }
}

export function isExperimentError(err: unknown, code?: ExperimentErrorCode): err is ExperimentError {
  return err instanceof ExperimentError && (code === undefined || err.code === code);
}
