// Errors of the experiment registry. Each has a fixed code for the error plugin to map
// (suggested: FS_INVALID_EXPERIMENT 400, FS_EXPERIMENT_NOT_FOUND 404, FS_EXPERIMENT_EXISTS and
// FS_EXPERIMENT_CONFLICT and FS_TOO_MANY_EXPERIMENTS 409). Validation errors list every problem, each naming the field
// (as a path, `arms[1].weight`) and the value that was given.

export type ExperimentErrorCode =
  /** The experiment definition is malformed; `issues` lists each bad field. */
  | 'FS_INVALID_EXPERIMENT'
  /** No experiment has that id. */
  | 'FS_EXPERIMENT_NOT_FOUND'
  /** An experiment with that id already exists. */
  | 'FS_EXPERIMENT_EXISTS'
  /** Enabling it would run two experiments on the same traffic at once. */
  | 'FS_EXPERIMENT_CONFLICT'
  /** The registry holds its maximum number of experiments; delete one first. */
  | 'FS_TOO_MANY_EXPERIMENTS';

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
