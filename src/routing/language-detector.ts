// Detects the language of a prompt, returning fairspec's canonical code (ISO 639-1 where it
// exists, else 639-3; 'zh' Simplified, 'zh-Hant' Traditional) or null.
//
// eld (Nito-ELD, large database) decides: of the libraries measured by
// bench/language-detection.ts it was the most accurate on 20-60 character prompts (results in
// LANGUAGE_DETECTION.md). Its measured gaps in our language set are filled around it, by data,
// never by a hand-made model:
// - Khmer, Myanmar: eld has neither. Each script belongs to one language in our set, so the
//   script decides (SCRIPT_LANGUAGES). The other scripts listed there eld already gets right at
//   20+ characters; the rule is kept because it answers 5-19 character fragments eld finds
//   unreliable (bench, tiny tier: hy 96 -> 100 %, ta 98 -> 100 %, el 99 -> 100 %).
// - Swahili: eld has none and scatters it over tl/tr/hr/yo. For Latin-script text franc-min is
//   asked too, and only its 'swh' answer is taken (SUPPLEMENTS). franc-min, not franc: franc's
//   extra Bantu languages fit UDHR, its training text, so closely that it found 9 of 20
//   hand-written Swahili prompts where franc-min found 18.
// - Indonesian: eld only has 'ms', ISO 639-1 for the Malay macrolanguage, which includes
//   Indonesian. No library told id from ms on short out-of-domain prompts (all about 60/40), so
//   'ms' is reported as 'id', the member in our set (MACROLANGUAGE_MEMBER). Malay prompts are
//   therefore labelled 'id' too.
// - Traditional Chinese: eld says 'zh' for both. OpenCC's conversion tables tell which
//   characters exist only in Traditional or only in Simplified; ties stay 'zh'.
import { eld } from 'eld/large';
import { francAll } from 'franc-min';
import * as OpenCC from 'opencc-js';

export interface Detection {
  /** Canonical language code, or null when undetected. */
  language: string | null;
  /**
   * 0..1, not a calibrated probability; comparable only within one path: the share of characters
   * in the deciding script (script rule), franc's margin over its runner-up (Swahili, usually
   * 0.02-0.3), else eld's top score (correct answers on short prompts score about 0.5-0.85).
   */
  confidence: number;
}

/** Fewer letters (\p{L}) than this is nothing to detect: digits, punctuation, emoji. */
export const MIN_LETTERS = 2;
// Only the start of a long prompt is read (eld itself stops after ~380 UTF-8 bytes), so a call
// costs well under a millisecond however long the prompt (bench: 0.08 ms for 20-60 characters,
// 0.4 ms for 200+ on a busy 2-core machine).
const MAX_CHARS = 1000;
// franc's cost grows with length; 300 characters are plenty to recognise Swahili.
const SUPPLEMENT_CHARS = 300;

/** Unicode scripts that, among the languages fairspec routes, belong to a single language. */
export const SCRIPT_LANGUAGES: Readonly<Record<string, string>> = {
  Hangul: 'ko', Georgian: 'ka', Armenian: 'hy', Thai: 'th', Ethiopic: 'am', Khmer: 'km',
  Myanmar: 'my', Tamil: 'ta', Bengali: 'bn', Greek: 'el', Hebrew: 'he',
};
// A script decides when it holds at least this share of the characters written in a script.
const SCRIPT_SHARE = 0.5;
// Japanese mixes kana with Han; Chinese has no kana. Kana must be this share of Han + kana.
const KANA_SHARE = 0.1;

/** franc (ISO 639-3) codes of Latin-script languages in our set that eld does not know. */
export const SUPPLEMENTS: Readonly<Record<string, string>> = { swh: 'sw' };
const MACROLANGUAGE_MEMBER: Readonly<Record<string, string>> = { ms: 'id' };

export interface LanguageDetectorOptions {
  /** Script (Unicode Script property value) -> language; default SCRIPT_LANGUAGES. */
  scripts?: Readonly<Record<string, string>>;
}

const LETTER = /\p{L}/gu;
// Characters of a specific script: letters and the vowel signs and other marks of Brahmic
// scripts (which \p{L} leaves out), but not digits, punctuation, emoji or shared diacritics.
const SCRIPTED = /[^\p{Script=Common}\p{Script=Inherited}\p{Script=Unknown}]/gu;
const LATIN = /\p{Script=Latin}/gu;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/gu;
const HAN = /\p{Script=Han}/gu;
const count = (text: string, re: RegExp): number => text.match(re)?.length ?? 0;

export class LanguageDetector {
  // an instance of its own, so no other user of eld can change its language subset
  readonly #eld = eld.newInstance();
  // OpenCC builds its tables in ~150 ms: at boot here, not on the first Chinese request
  readonly #t2s = OpenCC.Converter({ from: 't', to: 'cn' });
  readonly #s2t = OpenCC.Converter({ from: 'cn', to: 't' });
  readonly #scripts: [RegExp, string][];

  constructor(options: LanguageDetectorOptions = {}) {
    this.#scripts = Object.entries(options.scripts ?? SCRIPT_LANGUAGES).map(([script, language]) => [
      new RegExp(`\\p{Script=${script}}`, 'gu'),
      language,
    ]);
  }

  detect(input: string): Detection {
    const text = input.slice(0, MAX_CHARS);
    if (count(text, LETTER) < MIN_LETTERS) return { language: null, confidence: 0 };
    const scripted = count(text, SCRIPTED); // the denominator of every script share

    const kana = count(text, KANA);
    if (kana > 0) {
      const cjk = kana + count(text, HAN);
      if (kana / cjk >= KANA_SHARE && cjk / scripted >= SCRIPT_SHARE) return { language: 'ja', confidence: cjk / scripted };
    }
    const latin = count(text, LATIN);
    if (latin / scripted <= 1 - SCRIPT_SHARE) {
      // (skipped when Latin letters alone leave no other script the share)
      for (const [re, language] of this.#scripts) {
        const share = count(text, re) / scripted;
        if (share >= SCRIPT_SHARE) return { language, confidence: share };
      }
    }

    const result = this.#eld.detect(text);
    const top = Object.values(result.getScores())[0] ?? 0; // scores come best first
    // Not one n-gram eld knows: keyboard mash and the like, which franc would still label.
    if (!result.language) return { language: null, confidence: 0 };
    if (latin / scripted >= SCRIPT_SHARE) {
      const [best, second] = francAll(text.slice(0, SUPPLEMENT_CHARS));
      const language = best && SUPPLEMENTS[best[0]];
      if (language) return { language, confidence: 1 - (second?.[1] ?? 0) };
    }
    // The low-confidence threshold is eld's own reliability test: at least 3 n-grams, a top
    // score of at least 0.75 of that language's average score in correct detections, and a lead
    // of 0.01 over the runner-up.
    if (!result.isReliable()) return { language: null, confidence: top };
    const language = MACROLANGUAGE_MEMBER[result.language] ?? result.language;
    return { language: language === 'zh' ? this.#chineseVariant(text) : language, confidence: top };
  }

  #chineseVariant(text: string): 'zh' | 'zh-Hant' {
    // a conversion changes exactly the characters specific to the variant it converts from
    const traditionalOnly = changed(text, this.#t2s(text));
    const simplifiedOnly = changed(text, this.#s2t(text));
    return traditionalOnly > simplifiedOnly ? 'zh-Hant' : 'zh';
  }
}

function changed(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let n = Math.abs(x.length - y.length);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) n++;
  return n;
}

const shared = new LanguageDetector();

/** Detects the language of `text` with a detector shared by the process. */
export function detectLanguage(text: string): Detection {
  return shared.detect(text);
}
