// The `language` label on metrics. Each label value is its own Prometheus series, so values
// must come from a fixed set whatever requests send (a request may name any language, and the
// detector knows ~60): the configured languages, 'other' for any other language, and 'unknown'
// when none was detected.

export const OTHER = 'other';
export const UNKNOWN = 'unknown';
// What a configured language may look like: a language code, optionally with subtags
// ('zh-Hant', 'pt-BR'); never one of the two reserved values.
const LANGUAGE_CODE = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

export class LanguageLabels {
  readonly #languages: ReadonlySet<string>;

  /** `languages`: those kept as their own label, typically the pack's routing.json languages. */
  constructor(languages: Iterable<string>) {
    const set = new Set<string>();
    for (const language of languages) {
      if (typeof language !== 'string' || !LANGUAGE_CODE.test(language) || language === OTHER || language === UNKNOWN) {
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
