// The language vocabulary, in one place: what a language code looks like, the value for "no
// language detected", and the bounded set of values metrics carry.
//
// A language is a code (ISO 639-1, else 639-3, optionally with subtags: 'en', 'yue', 'zh-Hant',
// 'pt-BR') or null when the detector found none. Outside the domain (responses, /v1/routing,
// metric labels) null is spelled UNKNOWN. A metric label must come from a fixed set whatever
// requests send (a request may pin any code, and the detector knows ~60; each label value is its
// own Prometheus series): the configured languages, OTHER for any other language, UNKNOWN for none.

/** A language code, as a JSON Schema pattern (request `language`, routing.json keys, config lists). */
export const LANGUAGE_CODE_PATTERN = '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$';
const LANGUAGE_CODE = new RegExp(LANGUAGE_CODE_PATTERN);
/**
 * A language code as the detector returns it (ISO 639-1, else 639-3, plus a script subtag where
 * it matters: 'zh-Hant'), the keys of routing.json. Regions are not used: 'pt' covers pt-BR and
 * pt-PT, and a 'pt-BR' route would never meet a detected language.
 */
export const CANONICAL_LANGUAGE_PATTERN = '^[a-z]{2,3}(-[A-Z][a-z]{3})?$';

/** No language was detected (a detector's null), as responses, routing state and labels spell it. */
export const UNKNOWN = 'unknown';
/** Every language outside a bounded set, pooled: a metric label, and a routing entry. */
export const OTHER = 'other';

/** A language code that is not one of the two reserved values. */
export function isLanguageCode(value: unknown): value is string {
  return typeof value === 'string' && LANGUAGE_CODE.test(value) && value !== OTHER && value !== UNKNOWN;
}

/** Bounds languages to metric label values: the configured ones, OTHER, UNKNOWN. */
export class LanguageLabels {
  readonly #languages: ReadonlySet<string>;

  /** `languages`: those kept as their own label, typically the pack's routing.json languages. */
  constructor(languages: Iterable<string>) {
    const set = new Set<string>();
    for (const language of languages) {
      if (!isLanguageCode(language)) {
        throw new TypeError(`metric languages: ${JSON.stringify(language)} is not a language code (e.g. en, zh-Hant)`);
      }
      set.add(language);
    }
    this.#languages = set;
  }

  /** The label for a detected or requested language; null/undefined: not detected. */
  label(language: string | null | undefined): string {
    if (language === null || language === undefined) return UNKNOWN;
    return this.#languages.has(language) ? language : OTHER;
  }

  /** Every value label() can return, sorted: the bound on series per metric and label set. */
  get values(): string[] {
    return [...[...this.#languages].sort(), OTHER, UNKNOWN];
  }
}
