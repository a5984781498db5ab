// Where an error code becomes an HTTP status: every code of the one union (src/error-codes.ts)
// with its status and OpenAI's error `type` and `code`. A Record over the union, so a new code
// without a row here does not compile.

import type { ErrorCode } from '../src/error-codes.js';

export interface HttpMapping {
  status: number;
  type: string;
  /** OpenAI's `code` on the wire. */
  code: string | null;
  /** Replaces the error's own message (server errors, whose messages are not for clients). */
  message?: string;
  /** Request field to name when the error itself does not say. */
  param?: string;
}

export const INVALID = 'invalid_request_error';

/** The body of every 500: what went wrong is logged, not sent. */
export const INTERNAL: HttpMapping = {
  status: 500,
  type: 'server_error',
  code: 'internal_error',
  message: 'The server had an error while processing your request.',
};

export const ERROR_STATUS: Record<ErrorCode, HttpMapping> = {
  FS_MODEL_NOT_FOUND: { status: 404, type: INVALID, code: 'model_not_found' },
  FS_EMPTY_PROMPT: { status: 400, type: INVALID, code: 'empty_prompt', param: 'prompt' },
  FS_PROMPT_TOO_LONG: { status: 400, type: INVALID, code: 'context_length_exceeded', param: 'prompt' },
  FS_INVALID_PARAM: { status: 400, type: INVALID, code: 'invalid_value' },
  FS_INVALID_OPTION: { status: 400, type: INVALID, code: 'invalid_value' },
  FS_UNKNOWN_DRAFTER: { status: 400, type: INVALID, code: 'unknown_drafter', param: 'speculative.drafter' },
  FS_INVALID_UTF8: { status: 400, type: INVALID, code: 'invalid_utf8' },
  FS_UNKNOWN_PARAMETER: { status: 400, type: INVALID, code: 'unknown_parameter' },
  FS_TOKEN_OUT_OF_VOCAB: { status: 400, type: INVALID, code: 'invalid_token' },
  FS_NO_CHAT_TEMPLATE: { status: 400, type: INVALID, code: 'chat_template_missing', param: 'messages' },
  FS_CHAT_TEMPLATE_FAILED: { status: 400, type: INVALID, code: 'chat_template_error', param: 'messages' },
  FS_JSON_TOO_DEEP: { status: 400, type: INVALID, code: 'json_too_deep' },
  FS_HOST_NOT_ALLOWED: { status: 403, type: INVALID, code: 'host_not_allowed' },
  FS_QUEUE_FULL: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  FS_SHUTTING_DOWN: { status: 503, type: 'server_error', code: 'server_shutting_down' },
  FS_ENGINE_CLOSED: { status: 503, type: 'server_error', code: 'server_shutting_down' },
  FS_NOT_READY: { status: 503, type: 'server_error', code: 'model_not_ready' },
  // The client went away; nobody reads this, but logs and metrics say 499 (nginx's "client closed request").
  FS_ABORTED: { status: 499, type: INVALID, code: 'client_closed_request' },
  // The request's own size (tokens, choices) made it outlast the limit: 408, not a server fault.
  FS_REQUEST_TIMEOUT: { status: 408, type: INVALID, code: 'request_timeout' },
  // A verifier fault fails its own request (a drafter's never reaches a client); the details are logged.
  FS_MODEL_FAULT: INTERNAL,
  FS_UNAUTHORIZED: { status: 401, type: INVALID, code: 'invalid_api_key' },
  FS_ADMIN_DISABLED: { status: 403, type: INVALID, code: 'admin_api_disabled' },
  FS_INVALID_EXPERIMENT: { status: 400, type: INVALID, code: 'invalid_experiment' },
  FS_EXPERIMENT_NOT_FOUND: { status: 404, type: INVALID, code: 'experiment_not_found', param: 'id' },
  FS_EXPERIMENT_EXISTS: { status: 409, type: INVALID, code: 'experiment_exists', param: 'id' },
  FS_EXPERIMENT_CONFLICT: { status: 409, type: INVALID, code: 'experiment_conflict', param: 'enabled' },
  FS_TOO_MANY_EXPERIMENTS: { status: 409, type: INVALID, code: 'too_many_experiments' },
  // The folder's path and the OS error are logged, not sent.
  FS_STATE_WRITE_FAILED: {
    status: 500,
    type: 'server_error',
    code: 'state_write_failed',
    message: 'The experiment could not be saved to the state folder; nothing was changed.',
  },
  FS_CLUSTER_READOUT_DISABLED: { status: 501, type: 'server_error', code: 'cluster_readout_disabled', param: 'scope' },
  FS_PROMETHEUS_UNAVAILABLE: { status: 502, type: 'server_error', code: 'prometheus_unavailable' },
  FS_DRAFTER_NOT_FOUND: { status: 404, type: INVALID, code: 'drafter_not_found', param: 'name' },
  FS_PATH_NOT_FOUND: { status: 404, type: INVALID, code: 'path_not_found', param: 'path' },
  FS_PATH_NOT_ALLOWED: { status: 400, type: INVALID, code: 'path_not_allowed', param: 'path' },
  FS_NOT_A_DIRECTORY: { status: 400, type: INVALID, code: 'not_a_directory', param: 'path' },
  FS_INVALID_DRAFTER_MODEL: { status: 400, type: INVALID, code: 'invalid_model', param: 'path' },
  FS_VOCAB_MISMATCH: { status: 400, type: INVALID, code: 'vocab_mismatch', param: 'path' },
  // Boot errors: they stop the server before it listens (server.ts); one reaching a request is a bug.
  FS_INVALID_CONFIG: INTERNAL,
  FS_INVALID_ROUTING: INTERNAL,
  FS_MODEL_CONFIG: INTERNAL,
  FS_MODEL_IO: INTERNAL,
  FS_MODEL_LOAD: INTERNAL,
};
