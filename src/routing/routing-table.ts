// Which drafter and draft length (gamma) a request gets, by language and sampling regime.
//
// Three layers, later wins, each field on its own:
//   1. the pack's routing.json: a `default` route and one per evaluated language; an optional
//      `greedy` section of the same shape routes greedy requests (sampling-regime.ts), whose
//      drafts are accepted far less often where the models' argmaxes disagree. A greedy request
//      takes its language's greedy entry, else the greedy default, else the ordinary route;
//   2. operator overrides from config, keyed by language (a language absent from routing.json
//      may be added this way);
//   3. the request's own `speculative` override.
// Layers merge before the plain-decoding rule applies: a route with drafter null or draft length
// 0 is plain decoding, and resolve() returns it as both ({drafter: null, draftLength: 0}) so
// callers test one thing. So an override {draftLength: 3} on a routing.json entry
// {drafter: 'd', draft_length: 0} speculates with 'd', while on {drafter: null, draft_length: 0}
// it stays plain: it has no drafter to use.
//
// Everything but the request override is checked once, at boot: a bad value stops the server
// with a RoutingTableError naming the field and the value, instead of surfacing as a slow or
// failing request later.
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ErrorCode } from '../error-codes.js';
import { FairspecError } from '../errors.js';
import { CANONICAL_LANGUAGE_PATTERN } from '../language.js';
import type { SamplingRegime } from './sampling-regime.js';

/** Largest draft length accepted anywhere (the request schema and config use the same bound). */
export const MAX_DRAFT_LENGTH = 32;

const RouteSchema = Type.Object(
  {
    drafter: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    draft_length: Type.Integer({ minimum: 0, maximum: MAX_DRAFT_LENGTH }),
  },
  { additionalProperties: false },
);
const LanguagesSchema = Type.Record(Type.String({ pattern: CANONICAL_LANGUAGE_PATTERN }), RouteSchema, { additionalProperties: false });
const GreedySchema = Type.Object(
  { default: Type.Optional(RouteSchema), languages: Type.Optional(LanguagesSchema) },
  { additionalProperties: false },
);
export const RoutingFileSchema = Type.Object(
  {
    default: RouteSchema,
    languages: Type.Optional(LanguagesSchema),
    greedy: Type.Optional(GreedySchema),
  },
  { additionalProperties: false },
);
/** routing.json as written in a model pack. */
export type RoutingFile = Static<typeof RoutingFileSchema>;

const OverrideSchema = Type.Object(
  {
    drafter: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    draftLength: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DRAFT_LENGTH })),
  },
  { additionalProperties: false },
);
const OverridesSchema = Type.Record(Type.String({ pattern: CANONICAL_LANGUAGE_PATTERN }), OverrideSchema, {
  additionalProperties: false,
});

export interface Route {
  drafter: string | null;
  draftLength: number;
}
export interface ResolvedRoute extends Route {
  /** 'language' when the language has its own entry (routing.json or config), else 'default'. */
  source: 'language' | 'default';
}
/** A partial route: config overrides per language, and a request's `speculative` field. */
export interface RouteOverride {
  drafter?: string | null;
  draftLength?: number;
}

export interface RoutingTableOptions {
  /** Drafter names the pack contains; every drafter named anywhere must be one of them. */
  drafters: readonly string[];
  /** Config overrides by language, applied over routing.json field by field. */
  overrides?: Readonly<Record<string, RouteOverride>>;
  /** Where `file` came from, for error messages. */
  source?: string;
}

export class RoutingTableError extends Error {
  readonly code: ErrorCode = 'FS_INVALID_ROUTING';
  constructor(
    /** Path of the bad field, e.g. 'languages.am.draft_length' or 'overrides.am.drafter'. */
    readonly field: string,
    readonly value: unknown,
    reason: string,
    source: string,
  ) {
    super(`${source}: ${field || '(root)'} = ${show(value)}: ${reason}`);
    this.name = 'RoutingTableError';
  }
}

/** One regime's routes: a fallback and the languages with their own. */
interface Layer {
  fallback: Route;
  routes: Map<string, Route>;
}

export class RoutingTable {
  readonly #layers: Record<SamplingRegime, Layer>;
  readonly #drafters: ReadonlySet<string>;

  /** Reads and checks `path` (a pack's routing.json). */
  static async load(path: string, options: RoutingTableOptions): Promise<RoutingTable> {
    const text = await readFile(path, 'utf8');
    let file: unknown;
    try {
      file = JSON.parse(text);
    } catch (err) {
      throw new RoutingTableError('', text.slice(0, 40), `not JSON (${(err as Error).message})`, path);
    }
    return new RoutingTable(file, { source: path, ...options });
  }

  constructor(file: unknown, options: RoutingTableOptions) {
    const source = options.source ?? 'routing.json';
    this.#drafters = new Set(options.drafters);
    check(RoutingFileSchema, file, '', source);
    const overrides = options.overrides ?? {};
    check(OverridesSchema, overrides, 'overrides', source);

    const { default: fallback, languages = {}, greedy } = file as RoutingFile;
    const sampled: Layer = { fallback: this.#route(fromFile(fallback), 'default', source), routes: new Map() };
    for (const [language, route] of Object.entries(languages)) {
      sampled.routes.set(language, this.#route(fromFile(route), `languages.${language}`, source));
    }
    // Without a greedy default, a language without a greedy entry keeps its ordinary route.
    const greedyLayer: Layer = greedy?.default
      ? { fallback: this.#route(fromFile(greedy.default), 'greedy.default', source), routes: new Map() }
      : { fallback: sampled.fallback, routes: new Map(sampled.routes) };
    for (const [language, route] of Object.entries(greedy?.languages ?? {})) {
      greedyLayer.routes.set(language, this.#route(fromFile(route), `greedy.languages.${language}`, source));
    }
    // Operator overrides win over both regimes' routes.
    for (const layer of [sampled, greedyLayer]) {
      for (const [language, override] of Object.entries(overrides)) {
        const base = layer.routes.get(language) ?? layer.fallback;
        layer.routes.set(language, this.#route({ ...base, ...definedFields(override) }, `overrides.${language}`, source));
      }
    }
    this.#layers = { sampled, greedy: greedyLayer };
  }

  /** Languages with a route of their own in either regime, sorted. */
  get languages(): string[] {
    return [...new Set([...this.#layers.sampled.routes.keys(), ...this.#layers.greedy.routes.keys()])].sort();
  }

  /**
   * The route for `language` (null: undetected) in `regime`, with a request's override applied on
   * top. Throws FairspecError FS_UNKNOWN_DRAFTER / FS_INVALID_PARAM for a bad override.
   */
  resolve(language: string | null, regime: SamplingRegime, override?: RouteOverride): ResolvedRoute {
    const layer = this.#layers[regime];
    const own = language === null ? undefined : layer.routes.get(language);
    const source = own ? 'language' : 'default';
    let route = own ?? layer.fallback;
    if (override) {
      checkRequestOverride(override, this.#drafters);
      route = { ...route, ...definedFields(override) };
    }
    return { ...plain(route), source };
  }

  #route(route: Route, field: string, source: string): Route {
    if (route.drafter !== null && !this.#drafters.has(route.drafter)) {
      const known = [...this.#drafters].join(', ') || 'none';
      throw new RoutingTableError(`${field}.drafter`, route.drafter, `unknown drafter (the pack has: ${known})`, source);
    }
    return route;
  }
}

function check(schema: typeof RoutingFileSchema | typeof OverridesSchema, value: unknown, root: string, source: string): void {
  const error = Value.Errors(schema, value).First();
  if (!error) return;
  const path = [root, ...error.path.split('/').slice(1)].filter((p) => p !== '').join('.');
  // TypeBox reports a key outside the record's pattern as an unexpected property
  const badKey = /^(overrides|(greedy\.)?languages)\.[^.]+$/.test(path) && error.message === 'Unexpected property';
  const reason = badKey
    ? "not a canonical language code (ISO 639-1, else 639-3; 'zh-Hant'; 'pt' covers pt-BR and pt-PT)"
    : error.message.charAt(0).toLowerCase() + error.message.slice(1);
  throw new RoutingTableError(path, badKey ? path.split('.').pop() : error.value, reason, source);
}

function checkRequestOverride(override: RouteOverride, drafters: ReadonlySet<string>): void {
  const { drafter, draftLength } = override;
  if (typeof drafter === 'string' && !drafters.has(drafter)) {
    const known = [...drafters].join(', ') || 'none';
    throw new FairspecError('FS_UNKNOWN_DRAFTER', `Unknown drafter '${drafter}'; this pack has: ${known}.`, 'speculative.drafter');
  }
  if (draftLength !== undefined && !(Number.isInteger(draftLength) && draftLength >= 0 && draftLength <= MAX_DRAFT_LENGTH)) {
    throw new FairspecError(
      'FS_INVALID_PARAM',
      `speculative.draft_length must be an integer in [0, ${MAX_DRAFT_LENGTH}], got ${draftLength}.`,
      'speculative.draft_length',
    );
  }
}

const fromFile = (r: Static<typeof RouteSchema>): Route => ({ drafter: r.drafter, draftLength: r.draft_length });
// `{drafter: undefined}` must not erase a drafter when spread
const definedFields = (o: RouteOverride): RouteOverride =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as RouteOverride;
const plain = (r: Route): Route =>
  r.drafter === null || r.draftLength === 0 ? { drafter: null, draftLength: 0 } : { drafter: r.drafter, draftLength: r.draftLength };
const show = (v: unknown): string => (v === undefined ? 'missing' : JSON.stringify(v));
