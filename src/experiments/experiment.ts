// An A/B experiment: a salt and weighted arms, each arm a drafting setup (drafter and
// draft-length policy) that a sticky share of users gets. The first arm is the control every
// other arm is compared with (src/experiments/analysis.ts).
//
// One TypeBox schema serves the admin route (body validation, OpenAPI) and parseExperiment(),
// which runs the same schema through TypeBox's Value checker plus the checks a schema cannot
// express (unique arm names, weights summing to > 0, drafters that exist in the pack).

import { Kind, Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { ExperimentError, type ValidationIssue } from './errors.js';

// Safe in a URL path segment and as a metric label value.
const NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** The `arm` label of requests outside experiments, and of arms past the label cap (src/metrics-recorder.ts). */
export const RESERVED_ARM_NAMES: readonly string[] = ['none', 'other'];
/**
 * Bounds of the weights: each finite and at most MAX_WEIGHT, so that no sum of 16 overflows,
 * and the largest at most MAX_WEIGHT_RATIO times the smallest non-zero one (a 0.01% arm).
 */
export const MAX_WEIGHT = 1e6;
export const MAX_WEIGHT_RATIO = 1e4;
/** Problems one error lists; it says when there were more. */
export const MAX_LISTED_ISSUES = 10;
/** Characters of a bad value quoted in an error. */
const MAX_QUOTED_CHARS = 80;

export const ArmSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME, description: 'Arm name, unique within the experiment.' }),
    drafter: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], {
        description: "Drafter from the model pack; null: plain decoding (γ = 0); absent: the routing policy's drafter.",
      }),
    ),
    policy: Type.Optional(
      Type.Union([Type.Literal('static'), Type.Literal('adaptive')], {
        description:
          "Routing policy mode for the arm's requests; absent: the server's (FAIRSPEC_ROUTING_MODE). With a drafter, 'static' " +
          "drafts at routing.json's length; 'adaptive' at the estimated best one, or not at all where that drafter does not pay. " +
          "Both go by the request's sampling regime: greedy requests by routing.json's greedy section and the argmax agreement.",
      }),
    ),
    weight: Type.Number({
      minimum: 0,
      maximum: MAX_WEIGHT,
      description: `Relative share of traffic; the shares are weight / Σ weights. The largest non-zero weight may be at most ${MAX_WEIGHT_RATIO} times the smallest.`,
    }),
  },
  { additionalProperties: false },
);

export const ExperimentSchema = Type.Object(
  {
    id: Type.String({ pattern: NAME, description: 'Experiment id.' }),
    salt: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'Hash salt of the assignment; default: the id. A new salt reshuffles every user.',
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    arms: Type.Array(ArmSchema, { minItems: 2, maxItems: 16, description: 'The first arm is the control.' }),
    enabled: Type.Optional(Type.Boolean({ description: 'Default true.' })),
  },
  { additionalProperties: false },
);

/** An experiment as written in config or an admin request body. */
export type ExperimentInput = Static<typeof ExperimentSchema>;

export interface Arm {
  name: string;
  /** undefined: the routing policy's drafter; null: plain decoding. */
  drafter?: string | null;
  policy?: 'static' | 'adaptive';
  weight: number;
}

/** A validated experiment with defaults filled in. */
export interface Experiment {
  id: string;
  salt: string;
  description?: string;
  arms: readonly Arm[];
  enabled: boolean;
}

export interface ParseOptions {
  /** Drafter names of the pack; given, an arm naming any other drafter is an error. */
  knownDrafters?: readonly string[];
  /** Prefix of every field path in errors, e.g. `experiments[2]` at boot. */
  path?: string;
}

/** `/arms/1/weight` -> `arms[1].weight` */
function fieldPath(pointer: string, prefix = ''): string {
  let out = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(segment) ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  }
  return out;
}

function describe(schema: TSchema): string {
  switch (schema[Kind]) {
    case 'Literal':
      return JSON.stringify(schema.const);
    case 'Null':
      return 'null';
    case 'String':
      return 'a non-empty string';
    default:
      return String(schema[Kind]).toLowerCase();
  }
}

function reason(error: ValueError): string {
  const schema = error.schema;
  if (schema[Kind] === 'Union') return `must be ${(schema.anyOf as TSchema[]).map(describe).join(' or ')}`;
  if (schema[Kind] === 'String' && schema.pattern !== undefined && typeof error.value === 'string') {
    return 'must be 1-64 letters, digits, _ . or -, starting with a letter or digit';
  }
  return error.message.replace(/^Expected /, 'expected ').replace(/^Unexpected property$/, 'is not a known field');
}

function clip(text: string, max = MAX_QUOTED_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A value as an error quotes it: JSON, cut short; Infinity and NaN by name (JSON would say null). */
function quote(value: unknown): string {
  if (typeof value === 'number') return String(value);
  try {
    return clip(JSON.stringify(value) ?? String(value));
  } catch {
    return typeof value; // a cycle or a BigInt in a JavaScript config
  }
}

/** The message of an FS_INVALID_EXPERIMENT: the first MAX_LISTED_ISSUES problems, then whether there were more. */
function render(id: unknown, issues: readonly ValidationIssue[], more = false): string {
  const name = typeof id === 'string' ? `experiment ${quote(id)}` : 'experiment';
  const list = issues.slice(0, MAX_LISTED_ISSUES).map((i) => `${clip(i.field) || '(value)'}: ${i.reason} (got ${quote(i.value)})`);
  const rest = more || issues.length > MAX_LISTED_ISSUES ? '; and more' : '';
  return `invalid ${name}: ${list.join('; ')}${rest}`;
}

/**
 * Checks `input` against ExperimentSchema alone (the admin route's body validation); throws
 * FS_INVALID_EXPERIMENT listing every problem with its full path, e.g. `arms[1].weight`.
 */
export function checkExperimentInput(input: unknown, path = ''): ExperimentInput {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  let more = false;
  for (const error of Value.Errors(ExperimentSchema, input)) {
    const field = fieldPath(error.path, path);
    if (seen.has(field)) continue; // TypeBox may report one field twice (e.g. each union member)
    // A body of thousands of bad arms stops here: its error and the work on it stay small.
    if (issues.length === MAX_LISTED_ISSUES) {
      more = true;
      break;
    }
    seen.add(field);
    issues.push({ field, value: error.value, reason: reason(error) });
  }
  const id = (input as { id?: unknown } | null)?.id;
  if (issues.length > 0) throw new ExperimentError('FS_INVALID_EXPERIMENT', render(id, issues, more), issues[0]!.field, issues);
  return input as ExperimentInput;
}

/** Validates an experiment definition and fills in defaults; throws FS_INVALID_EXPERIMENT listing every problem. */
export function parseExperiment(input: unknown, options: ParseOptions = {}): Experiment {
  const prefix = options.path ?? '';
  const config = checkExperimentInput(input, prefix);
  const id = config.id;
  const issues: ValidationIssue[] = [];
  const at = (suffix: string) => (prefix === '' ? suffix : `${prefix}.${suffix}`);
  const names = new Set<string>();
  let total = 0;
  config.arms.forEach((arm, i) => {
    if (names.has(arm.name)) issues.push({ field: at(`arms[${i}].name`), value: arm.name, reason: 'is already the name of an earlier arm' });
    if (RESERVED_ARM_NAMES.includes(arm.name)) {
      issues.push({ field: at(`arms[${i}].name`), value: arm.name, reason: `is reserved (metric label values ${RESERVED_ARM_NAMES.join(', ')})` });
    }
    names.add(arm.name);
    if (!Number.isFinite(arm.weight)) issues.push({ field: at(`arms[${i}].weight`), value: arm.weight, reason: 'must be finite' });
    else total += arm.weight;
    if (typeof arm.drafter === 'string' && options.knownDrafters && !options.knownDrafters.includes(arm.drafter)) {
      const known = options.knownDrafters.length > 0 ? options.knownDrafters.join(', ') : 'none in this pack';
      issues.push({ field: at(`arms[${i}].drafter`), value: arm.drafter, reason: `is not a drafter of the model pack (${known})` });
    }
    if (arm.drafter === null && arm.policy !== undefined) {
      issues.push({ field: at(`arms[${i}].policy`), value: arm.policy, reason: 'has no effect with drafter null (plain decoding)' });
    }
  });
  if (issues.length === 0 && !(total > 0)) {
    issues.push({ field: at('arms'), value: config.arms.map((a) => a.weight), reason: 'weights must sum to more than 0' });
  }
  const positive = config.arms.map((a) => a.weight).filter((w) => w > 0);
  if (issues.length === 0 && Math.max(...positive) > MAX_WEIGHT_RATIO * Math.min(...positive)) {
    issues.push({
      field: at('arms'),
      value: config.arms.map((a) => a.weight),
      reason: `the largest weight may be at most ${MAX_WEIGHT_RATIO} times the smallest non-zero one`,
    });
  }
  if (issues.length > 0) throw new ExperimentError('FS_INVALID_EXPERIMENT', render(id, issues), issues[0]!.field, issues);

  // Frozen: an experiment's arms and weights must not change under a running assignment.
  return Object.freeze({
    id: config.id,
    salt: config.salt ?? config.id,
    ...(config.description !== undefined && { description: config.description }),
    arms: Object.freeze(
      config.arms.map((a) =>
        Object.freeze({
          name: a.name,
          ...(a.drafter !== undefined && { drafter: a.drafter }),
          ...(a.policy !== undefined && { policy: a.policy }),
          weight: a.weight,
        }),
      ),
    ),
    enabled: config.enabled ?? true,
  });
}
