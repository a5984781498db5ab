// OpenAI's error body, shared by every route's 4xx/5xx responses.
import { Type, type Static } from 'typebox';

const errorProperties = {
  error: Type.Object({
    message: Type.String(),
    type: Type.String({ description: 'invalid_request_error, rate_limit_error or server_error' }),
    param: Type.Union([Type.String(), Type.Null()], { description: 'The request field at fault, if any.' }),
    code: Type.Union([Type.String(), Type.Null()], { description: 'Stable machine-readable code, e.g. model_not_found.' }),
  }),
};

export const errorResponse = (description: string) => Type.Object(errorProperties, { title: 'ErrorResponse', description });

export const ErrorResponse = errorResponse("An error in OpenAI's shape.");

export type ErrorBody = Static<typeof ErrorResponse>;

/** Response schemas for the errors every JSON route can return. */
export const errorResponses = {
  400: errorResponse(
    'Invalid request: malformed JSON or UTF-8, JSON nested more than 32 levels (json_too_deep), wrong types, out-of-range values, empty or too long prompt, ' +
      'a token id outside the vocabulary (invalid_token), no chat template (chat_template_missing) or one that refused the messages (chat_template_error), ' +
      'and with FAIRSPEC_STRICT_REQUESTS=1 a field the API does not have (unknown_parameter).',
  ),
  404: errorResponse('Unknown model (code model_not_found).'),
  413: errorResponse('Request body larger than FAIRSPEC_MAX_BODY_BYTES.'),
  415: errorResponse("Content-Type is not 'application/json'."),
  429: errorResponse('Queue full (code rate_limit_exceeded); the Retry-After header says when to retry, in seconds.'),
  500: errorResponse('Unexpected server error.'),
  503: errorResponse('Draining for shutdown (code server_shutting_down) or model not loaded (code model_not_ready).'),
} as const;
