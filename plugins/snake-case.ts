// camelCase domain objects to the API's snake_case JSON (generatedTokens -> generated_tokens),
// deeply. Every object key is converted, so it is only for values whose keys are all field
// names, never data (a record keyed by language would turn 'zh-Hant' into 'zh-_hant'). Non-finite
// numbers become null: JSON has no NaN or Infinity (an exactly known t-test difference has t = ±∞).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function toSnakeCase(value: unknown): Json {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value === null || typeof value !== 'object') return value as Json;
  if (Array.isArray(value)) return value.map(toSnakeCase);
  const out: { [key: string]: Json } = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== undefined) out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = toSnakeCase(v);
  }
  return out;
}
