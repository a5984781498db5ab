// Error bodies stay small whatever the request held: a message or param built from client input
// (an unknown field's name, a URL, a list of bad fields) is cut to a fixed length, so no body
// passes ERROR_BODY_BYTES even with every character escaped (six bytes, `\u0000`, each).

import type { ErrorBody } from '../src/wire/error.js';

export const MAX_MESSAGE_CHARS = 2000;
export const MAX_PARAM_CHARS = 200;
/** The most an error body can take: both fields at their cap, every character escaped, and the rest of the shape. */
export const ERROR_BODY_BYTES = 16 * 1024;

/** `text` cut to `max` UTF-16 units, ending in '…' when cut, without splitting a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

export function boundedError(error: ErrorBody['error']): ErrorBody['error'] {
  return {
    ...error,
    message: clip(error.message, MAX_MESSAGE_CHARS),
    param: error.param === null ? null : clip(error.param, MAX_PARAM_CHARS),
  };
}
