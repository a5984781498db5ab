// Request fields the API does not have (issue 17). Clients and harnesses send extras of other
// servers (vLLM's best_of, skip_special_tokens, ...): by default they are ignored and logged, as
// vLLM and llama.cpp's server do; FAIRSPEC_STRICT_REQUESTS=1 refuses them (400 unknown_parameter),
// which catches a typo such as `temperatur`. Only top-level fields are lenient: the nested
// objects (speculative, stream_options) are the schema's to check.

import { FairspecError } from './errors.js';

/** The top-level fields of `body` that `schema` does not declare, in the body's order. */
export function unknownFields(schema: { properties: Readonly<Record<string, unknown>> }, body: unknown): string[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  return Object.keys(body).filter((key) => !Object.hasOwn(schema.properties, key));
}

/** Throws FS_UNKNOWN_PARAMETER naming the first unknown field when strict; else returns them all (to log). */
export function checkUnknownFields(schema: { properties: Readonly<Record<string, unknown>> }, body: unknown, strict: boolean): string[] {
  const fields = unknownFields(schema, body);
  if (strict && fields.length > 0) {
    throw new FairspecError('FS_UNKNOWN_PARAMETER', `Unrecognized request argument supplied: '${fields[0]}'.`, fields[0]!);
  }
  return fields;
}
