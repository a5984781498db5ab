// Domain errors of the engine. Each carries a fixed code that the HTTP layer maps to a status
// and to OpenAI's error shape (client errors: FS_PROMPT_TOO_LONG, FS_EMPTY_PROMPT,
// FS_UNKNOWN_DRAFTER, FS_INVALID_OPTION; the rest are server or boot errors).

export type EngineErrorCode =
  /** The prompt leaves no room for a single new token in the verifier's context. */
  | 'FS_PROMPT_TOO_LONG'
  /** The prompt encodes to no tokens and the model has no BOS/EOS token to start from. */
  | 'FS_EMPTY_PROMPT'
  /** GenerateOptions.drafter names no drafter of this engine. */
  | 'FS_UNKNOWN_DRAFTER'
  /** A GenerateOptions field is out of range; `details.field` names it. */
  | 'FS_INVALID_OPTION'
  /** config.json / generation_config.json is missing, unreadable or has a bad field. */
  | 'FS_MODEL_CONFIG'
  /** The ONNX graph declares an input or output the engine cannot feed or does not find. */
  | 'FS_MODEL_IO'
  /** A model file is missing or onnxruntime refused to load it. */
  | 'FS_MODEL_LOAD'
  /** A drafter does not share the verifier's vocabulary. */
  | 'FS_VOCAB_MISMATCH'
  /** The engine was closed. */
  | 'FS_ENGINE_CLOSED';

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
