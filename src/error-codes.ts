// Every code a fairspec error carries, in one union. Each error class takes its codes from here
// (FairspecError, AbortedError: src/errors.ts; EngineError: src/engine/errors.ts; ExperimentError:
// src/experiments/errors.ts; ConfigError: src/config.ts; RoutingTableError:
// src/routing/routing-table.ts), and the HTTP layer maps the union to statuses with a
// Record<ErrorCode, ...> (plugins/error-status.ts), so a code added here without a status does
// not compile.

export const ERROR_CODES = [
  // A request the server cannot serve as asked.
  'FS_MODEL_NOT_FOUND',
  'FS_EMPTY_PROMPT',
  /** The prompt plus max_tokens do not fit the verifier's context. */
  'FS_PROMPT_TOO_LONG',
  /** A request field is out of range; `param` names it. */
  'FS_INVALID_PARAM',
  /** An engine option (GenerateOptions) is out of range; `details.field` names it. */
  'FS_INVALID_OPTION',
  'FS_UNKNOWN_DRAFTER',
  'FS_INVALID_UTF8',
  /** A request field the API does not have, with FAIRSPEC_STRICT_REQUESTS=1 (else it is ignored and logged). */
  'FS_UNKNOWN_PARAMETER',
  /** A token id (in a prompt, logit_bias or /detokenize) outside the model's vocabulary. */
  'FS_TOKEN_OUT_OF_VOCAB',
  /** A chat request to a model without a chat template (tokenizer_config.json, FAIRSPEC_CHAT_TEMPLATE). */
  'FS_NO_CHAT_TEMPLATE',
  /** The chat template refused the messages (raise_exception) or failed on them. */
  'FS_CHAT_TEMPLATE_FAILED',
  /** The JSON body nests objects and arrays deeper than any request needs (plugins/json-body.ts). */
  'FS_JSON_TOO_DEEP',
  /** FAIRSPEC_ALLOWED_HOSTS is set and the request's Host header is not in it. */
  'FS_HOST_NOT_ALLOWED',
  // Admission and lifecycle.
  'FS_QUEUE_FULL',
  'FS_SHUTTING_DOWN',
  'FS_ENGINE_CLOSED',
  'FS_NOT_READY',
  /** The client went away, or the drain deadline passed, while the generation ran. */
  'FS_ABORTED',
  /** The request ran past FAIRSPEC_REQUEST_TIMEOUT_MS (queueing and generation included). */
  'FS_REQUEST_TIMEOUT',
  /** A model's forward pass threw or gave non-finite logits (a drafter's is caught: plain decoding takes over). */
  'FS_MODEL_FAULT',
  // The admin API.
  'FS_UNAUTHORIZED',
  'FS_ADMIN_DISABLED',
  'FS_INVALID_EXPERIMENT',
  'FS_EXPERIMENT_NOT_FOUND',
  'FS_EXPERIMENT_EXISTS',
  /** Enabling it would run two experiments on the same traffic at once. */
  'FS_EXPERIMENT_CONFLICT',
  'FS_TOO_MANY_EXPERIMENTS',
  /** An experiment could not be written to (or removed from) FAIRSPEC_STATE_DIR; nothing changed. */
  'FS_STATE_WRITE_FAILED',
  /** A cluster read-out was asked for and FAIRSPEC_PROMETHEUS_URL is not set. */
  'FS_CLUSTER_READOUT_DISABLED',
  /** The Prometheus of the cluster read-out did not answer, or refused a query. */
  'FS_PROMETHEUS_UNAVAILABLE',
  'FS_DRAFTER_NOT_FOUND',
  'FS_PATH_NOT_FOUND',
  'FS_PATH_NOT_ALLOWED',
  'FS_NOT_A_DIRECTORY',
  'FS_INVALID_DRAFTER_MODEL',
  /** A drafter does not share the verifier's vocabulary. */
  'FS_VOCAB_MISMATCH',
  // Boot: a bad setting, pack or routing.json stops the server naming the field.
  'FS_INVALID_CONFIG',
  'FS_INVALID_ROUTING',
  /** config.json / generation_config.json is missing, unreadable or has a bad field. */
  'FS_MODEL_CONFIG',
  /** The ONNX graph declares an input or output the engine cannot feed or does not find. */
  'FS_MODEL_IO',
  /** A model file or routing.json is missing, or onnxruntime refused to load a model. */
  'FS_MODEL_LOAD',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

/** The code of an error that carries one of fairspec's, whatever its class; null otherwise. */
export function errorCode(err: unknown): ErrorCode | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && KNOWN.has(code) ? (code as ErrorCode) : null;
}
