// The single error handler: validation errors, FS_* domain codes and Fastify's own errors
// all leave the server in OpenAI's shape `{error: {message, type, param, code}}`, with a 4xx
// that names the problem. Anything unexpected is a logged 500 with a generic message.

import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from './error-schema.js';

interface Mapped {
  status: number;
  type: string;
  code: string | null;
  message?: string;
  /** Request field to name when the error itself does not say. */
  param?: string;
}

const INVALID = 'invalid_request_error';

/** FS_* domain codes (src/errors.ts, src/experiments/errors.ts, the engine/routing modules) -> HTTP. */
const DOMAIN: Record<string, Mapped> = {
  FS_MODEL_NOT_FOUND: { status: 404, type: INVALID, code: 'model_not_found' },
  FS_EMPTY_PROMPT: { status: 400, type: INVALID, code: 'empty_prompt', param: 'prompt' },
  FS_PROMPT_TOO_LONG: { status: 400, type: INVALID, code: 'context_length_exceeded', param: 'prompt' },
  FS_INVALID_PARAM: { status: 400, type: INVALID, code: 'invalid_value' },
  FS_INVALID_OPTION: { status: 400, type: INVALID, code: 'invalid_value' },
  FS_UNKNOWN_DRAFTER: { status: 400, type: INVALID, code: 'unknown_drafter', param: 'speculative.drafter' },
  FS_INVALID_UTF8: { status: 400, type: INVALID, code: 'invalid_utf8' },
  FS_QUEUE_FULL: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  FS_SHUTTING_DOWN: { status: 503, type: 'server_error', code: 'server_shutting_down' },
  FS_ENGINE_CLOSED: { status: 503, type: 'server_error', code: 'server_shutting_down' },
  FS_NOT_READY: { status: 503, type: 'server_error', code: 'model_not_ready' },
  FS_UNAUTHORIZED: { status: 401, type: INVALID, code: 'invalid_api_key' },
  FS_ADMIN_DISABLED: { status: 403, type: INVALID, code: 'admin_api_disabled' },
  FS_INVALID_EXPERIMENT: { status: 400, type: INVALID, code: 'invalid_experiment' },
  FS_EXPERIMENT_NOT_FOUND: { status: 404, type: INVALID, code: 'experiment_not_found', param: 'id' },
  FS_EXPERIMENT_EXISTS: { status: 409, type: INVALID, code: 'experiment_exists', param: 'id' },
  FS_EXPERIMENT_CONFLICT: { status: 409, type: INVALID, code: 'experiment_conflict', param: 'enabled' },
  FS_TOO_MANY_EXPERIMENTS: { status: 409, type: INVALID, code: 'too_many_experiments' },
  FS_DRAFTER_NOT_FOUND: { status: 404, type: INVALID, code: 'drafter_not_found', param: 'name' },
  FS_PATH_NOT_FOUND: { status: 404, type: INVALID, code: 'path_not_found', param: 'path' },
  FS_PATH_NOT_ALLOWED: { status: 400, type: INVALID, code: 'path_not_allowed', param: 'path' },
  FS_NOT_A_DIRECTORY: { status: 400, type: INVALID, code: 'not_a_directory', param: 'path' },
  FS_INVALID_DRAFTER_MODEL: { status: 400, type: INVALID, code: 'invalid_model', param: 'path' },
  FS_VOCAB_MISMATCH: { status: 400, type: INVALID, code: 'vocab_mismatch', param: 'path' },
  // The client went away; nobody reads this, but logs and metrics say 499 (nginx's "client closed request").
  FS_ABORTED: { status: 499, type: INVALID, code: 'client_closed_request' },
};

/** Engine option names (GenerateOptions) -> request fields, for EngineError details.field. */
const OPTION_PARAM: Record<string, string> = {
  maxTokens: 'max_tokens',
  temperature: 'temperature',
  topP: 'top_p',
  topK: 'top_k',
  seed: 'seed',
  stop: 'stop',
  drafter: 'speculative.drafter',
  draftLength: 'speculative.draft_length',
};

type AnyError = FastifyError & { param?: string | null; details?: Readonly<Record<string, unknown>> };

function paramOfDomain(err: AnyError, fallback: string | undefined): string | null {
  if (typeof err.param === 'string') return err.param;
  const field = err.details?.field;
  if (typeof field === 'string') return OPTION_PARAM[field] ?? field;
  return fallback ?? null;
}

/** Fastify's own request errors -> HTTP, with messages a client can act on. */
const FASTIFY: Record<string, Mapped> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, type: INVALID, code: 'invalid_json', message: 'We could not parse the JSON body of your request.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, type: INVALID, code: 'invalid_json', message: 'The request body is empty; a JSON object was expected.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, type: INVALID, code: 'request_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    type: INVALID,
    code: 'unsupported_media_type',
    message: "Unsupported Content-Type; send the body as 'application/json'.",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, type: INVALID, code: 'invalid_content_length' },
};

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** '/speculative/draft_length' -> 'speculative.draft_length'; array indices are dropped ('/prompt/0' -> 'prompt'). */
function paramOf(e: AjvError): string | null {
  const parts = e.instancePath.split('/').filter((p) => p !== '' && !/^\d+$/.test(p));
  if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') parts.push(e.params.missingProperty);
  if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') parts.push(e.params.additionalProperty);
  return parts.length > 0 ? parts.join('.') : null;
}

/** '/stop/4' -> 'stop[4]', for messages. */
function pathOf(e: AjvError): string {
  return e.instancePath
    .split('/')
    .filter((p) => p !== '')
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

function fromValidation(errors: AjvError[], context: string | undefined): ErrorBody['error'] {
  // allErrors is off, so ajv stops at the first failing keyword, except that an anyOf (string or
  // array, value or null) lists the failure of every branch before its own. A branch that failed
  // on a constraint (maxItems, minimum...) rather than on its type is the one the client meant.
  const branchErrors = errors.filter((e) => e.keyword !== 'anyOf' && !(e.keyword === 'type' && e.params.type === 'null'));
  const primary = branchErrors.find((e) => e.keyword !== 'type') ?? branchErrors[0] ?? errors[0]!;
  const param = paramOf(primary);
  const where = param ? `'${param}'` : `the ${context ?? 'request'}`;
  if (primary.keyword === 'required') {
    return { message: `Missing required parameter: ${where}.`, type: INVALID, param, code: 'missing_required_parameter' };
  }
  if (primary.keyword === 'additionalProperties') {
    return { message: `Unrecognized request argument supplied: ${where}.`, type: INVALID, param, code: 'unknown_parameter' };
  }
  const isType = primary.keyword === 'type';
  const primaryPath = pathOf(primary);
  const reasons = (isType ? branchErrors.filter((e) => e.keyword === 'type') : [primary]).map((e) => {
    const path = pathOf(e);
    const message = e.message ?? 'is invalid';
    return path === primaryPath ? message : `${path} ${message}`;
  });
  return {
    message: `Invalid ${isType ? 'type' : 'value'} for ${where}: ${[...new Set(reasons)].join(', or ')}.`,
    type: INVALID,
    param,
    code: isType ? 'invalid_type' : 'invalid_value',
  };
}

export function toOpenAIError(err: AnyError): { status: number; body: ErrorBody } {
  if (err.validation) {
    return { status: 400, body: { error: fromValidation(err.validation as AjvError[], err.validationContext) } };
  }
  const known = (err.code && (DOMAIN[err.code] ?? FASTIFY[err.code])) || undefined;
  if (known) {
    return {
      status: known.status,
      body: { error: { message: known.message ?? err.message, type: known.type, param: paramOfDomain(err, known.param), code: known.code } },
    };
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status < 500) {
    return { status, body: { error: { message: err.message, type: INVALID, param: null, code: null } } };
  }
  return {
    status: 500,
    body: { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: 'internal_error' } },
  };
}

async function errorsPlugin(fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler((err: FastifyError & { retryAfterSeconds?: number }, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toOpenAIError(err);
    if (status >= 500 && body.error.code === 'internal_error') request.log.error({ err }, 'unhandled error');
    else request.log.info({ code: err.code, status }, body.error.message);
    if (typeof err.retryAfterSeconds === 'number') reply.header('retry-after', String(err.retryAfterSeconds));
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });

  fastify.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: { message: `Invalid URL (${request.method} ${request.url})`, type: INVALID, param: null, code: 'unknown_url' },
    };
    return reply.code(404).send(body);
  });
}

export default fp(errorsPlugin, { name: 'fairspec-errors', fastify: '5.x' });
