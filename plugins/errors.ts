// The single error handler: validation errors, FS_* domain codes and Fastify's own errors
// all leave the server in OpenAI's shape `{error: {message, type, param, code}}`, with a 4xx
// that names the problem. Anything unexpected is a logged 500 with a generic message. Every body
// is bounded in size (error-bounds.ts), whatever the request held.

import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorCode } from '../src/error-codes.js';
import type { ErrorBody } from '../src/wire/error.js';
import { boundedError } from './error-bounds.js';
import { ERROR_STATUS, INTERNAL, INVALID, type HttpMapping } from './error-status.js';

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
  presencePenalty: 'presence_penalty',
  frequencyPenalty: 'frequency_penalty',
  repetitionPenalty: 'repetition_penalty',
  logitBias: 'logit_bias',
  minTokens: 'min_tokens',
  minP: 'min_p',
  logprobs: 'logprobs',
};

type AnyError = FastifyError & { param?: string | null; details?: Readonly<Record<string, unknown>> };

function paramOfDomain(err: AnyError, fallback: string | undefined): string | null {
  if (typeof err.param === 'string') return err.param;
  const field = err.details?.field;
  if (typeof field === 'string') return OPTION_PARAM[field] ?? field;
  return fallback ?? null;
}

/** Fastify's own request errors -> HTTP, with messages a client can act on. */
const FASTIFY: Record<string, HttpMapping> = {
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
  const { status, body } = classify(err);
  return { status, body: { error: boundedError(body.error) } };
}

function classify(err: AnyError): { status: number; body: ErrorBody } {
  if (err.validation) {
    return { status: 400, body: { error: fromValidation(err.validation as AjvError[], err.validationContext) } };
  }
  const code = errorCode(err);
  const known = code !== null ? ERROR_STATUS[code] : err.code ? FASTIFY[err.code] : undefined;
  if (known && known !== INTERNAL) {
    return {
      status: known.status,
      body: { error: { message: known.message ?? err.message, type: known.type, param: paramOfDomain(err, known.param), code: known.code } },
    };
  }
  const status = !known && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status < 500) {
    return { status, body: { error: { message: err.message, type: INVALID, param: null, code: null } } };
  }
  return { status: 500, body: { error: { message: INTERNAL.message!, type: INTERNAL.type, param: null, code: INTERNAL.code } } };
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
      error: boundedError({ message: `Invalid URL (${request.method} ${request.url})`, type: INVALID, param: null, code: 'unknown_url' }),
    };
    return reply.code(404).send(body);
  });
}

export default fp(errorsPlugin, { name: 'fairspec-errors', fastify: '5.x' });
