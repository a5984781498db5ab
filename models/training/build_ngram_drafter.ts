// The pipeline's "zero-cost" stage: builds the statistical drafter (src/engine/ngram-drafter.ts)
// from the training corpus. A language with at least --min-language-bytes of training text gets a
// table of its own (on at most --max-language-bytes of it); the others share one table per script
// (at most --script-cap-bytes of each language, so no one language makes the script's table its
// own); a fallback table over a little of every language (--fallback-cap-bytes each) serves
// languages outside the corpus and undetected text. UDHR is not in train.bin (build_corpus.py),
// so it never reaches a table. The defaults (order 5, pruned below 3 and 5) keep the shipped
// tables near 9 MB gzipped; order 6 and less pruning gave about +0.02 α for 3.5 times the size.
//
//   node --import tsx models/training/build_ngram_drafter.ts --corpus WORK/corpus \
//     --verifier models/default/verifier --out models/default/drafter-ngram
//
// Writes ngram.json, tables/*.bin.gz, training.json (what was counted, how long it took) and the
// model card README.md with each table's held-out next-token accuracy and cross-entropy.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { NgramTable } from '../../src/engine/ngram-table.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import { readModelConfig } from '../../src/engine/model-config.js';
import { countNgrams } from './ngram/count-ngrams.js';

interface CorpusIndex {
  languages: Record<string, { tier: string; script: string; offset: number; length: number }>;
}

const { values: args } = parseArgs({
  options: {
    corpus: { type: 'string' },
    verifier: { type: 'string' },
    out: { type: 'string' },
    order: { type: 'string', default: '5' },
    'min-count': { type: 'string', default: '3' },
    'min-context-count': { type: 'string', default: '5' },
    'min-language-bytes': { type: 'string', default: '300000' },
    'max-language-bytes': { type: 'string', default: '1000000' },
    'script-cap-bytes': { type: 'string', default: '3000' },
    'fallback-cap-bytes': { type: 'string', default: '2000' },
    languages: { type: 'string' },
    'heldout-bytes': { type: 'string', default: '20000' },
  },
});
for (const required of ['corpus', 'verifier', 'out'] as const) {
  if (!args[required]) throw new Error(`--${required} is required`);
}
const int = (name: keyof typeof args): number => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer, got ${args[name]}`);
  return v;
};
const options = { order: int('order'), minCount: int('min-count'), minContextCount: int('min-context-count') };
const started = performance.now();
const corpus = resolve(args.corpus!);
const out = resolve(args.out!);
const tokenizer = await TextTokenizer.load(resolve(args.verifier!));
const { vocabSize } = await readModelConfig(resolve(args.verifier!));

const read = async (split: 'train' | 'heldout') => ({
  data: await readFile(join(corpus, `${split}.bin`)),
  index: (JSON.parse(await readFile(join(corpus, `${split}.json`), 'utf8')) as CorpusIndex).languages,
});
const train = await read('train');
const heldout = await read('heldout');

/** A language's text as token documents: its lines in chunks of about 64 KB (n-grams span lines within a chunk). */
function documents(split: { data: Buffer; index: CorpusIndex['languages'] }, language: string, cap = Infinity): number[][] {
  const e = split.index[language];
  if (!e) return [];
  const text = split.data.subarray(e.offset, e.offset + Math.min(e.length, cap)).toString('utf8');
  const docs: number[][] = [];
  let chunk = '';
  for (const line of text.split('\n')) {
    chunk += `${line}\n`;
    if (chunk.length >= 65536) {
      docs.push(tokenizer.encode(chunk, false));
      chunk = '';
    }
  }
  if (chunk.length > 0) docs.push(tokenizer.encode(chunk, false));
  return docs;
}

/** Next-token accuracy (argmax) and cross-entropy (nats) of a table over held-out documents. */
function heldoutFit(table: NgramTable, docs: number[][], limit: number): { accuracy: number; crossEntropy: number; tokens: number } {
  let hits = 0;
  let nats = 0;
  let n = 0;
  for (const d of docs) {
    for (let i = 1; i < d.length && n < limit; i++, n++) {
      const logits = table.logits(d.slice(Math.max(0, i - table.order + 1), i));
      let best = 0;
      for (let x = 1; x < logits.length; x++) if (logits[x]! > logits[best]!) best = x;
      if (best === d[i]) hits++;
      nats -= logits[d[i]!]!;
    }
  }
  return { accuracy: n > 0 ? hits / n : 0, crossEntropy: n > 0 ? nats / n : 0, tokens: n };
}

const minLanguageBytes = int('min-language-bytes');
const only = args.languages ? new Set(args.languages.split(',')) : null;
const everyLanguage = Object.keys(train.index).filter((l) => only === null || only.has(l)).sort();
const languages = everyLanguage.filter((l) => train.index[l]!.length >= minLanguageBytes);
await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'tables'), { recursive: true });

const tables: Record<string, string> = {};
const fit: Record<string, { bytes: number; contexts: number; entries: number; trainBytes: number; languages: number; heldout: ReturnType<typeof heldoutFit> }> = {};
const build = async (name: string, members: string[], cap: number): Promise<string> => {
  const t0 = performance.now();
  const docs = members.flatMap((l) => documents(train, l, cap));
  const trainBytes = members.reduce((s, l) => s + Math.min(cap, train.index[l]!.length), 0);
  // Held-out: the same share of each member language, so a shared table is judged on all of them.
  const heldoutDocs = members.flatMap((l) => documents(heldout, l, Math.ceil(int('heldout-bytes') / members.length)));
  const encoded = NgramTable.encode(vocabSize, options.order, countNgrams(docs, options));
  const table = NgramTable.decode(encoded);
  const file = `tables/${name}.bin.gz`;
  const compressed = gzipSync(encoded, { level: 9 });
  await writeFile(join(out, file), compressed);
  fit[name] = { bytes: compressed.length, contexts: table.contexts, entries: table.entries, trainBytes, languages: members.length, heldout: heldoutFit(table, heldoutDocs, int('heldout-bytes')) };
  const h = fit[name]!.heldout;
  console.log(
    `${name}: ${members.length} language(s), ${(trainBytes / 1e6).toFixed(2)} MB of text -> ${(encoded.length / 1e6).toFixed(2)} MB table (${(compressed.length / 1e6).toFixed(2)} MB gzipped), ` +
      `held-out accuracy ${h.accuracy.toFixed(3)}, ${h.crossEntropy.toFixed(3)} nats/token (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  return file;
};

// A language with enough text gets a table of its own; the others share one table per script
// (each language's text capped, so one language does not make the script's table its own).
for (const language of languages) tables[language] = await build(language, [language], int('max-language-bytes'));
const byScript = new Map<string, string[]>();
for (const l of everyLanguage.filter((l) => !languages.includes(l))) {
  const script = train.index[l]!.script;
  byScript.set(script, [...(byScript.get(script) ?? []), l]);
}
for (const [script, members] of [...byScript].sort()) {
  const file = await build(`script-${script.replace(/[^A-Za-z0-9]+/g, '_')}`, members, int('script-cap-bytes'));
  for (const l of members) tables[l] = file;
}
// The fallback, for languages outside the corpus and undetected text: a little of every language.
const fallback = await build('all', everyLanguage, int('fallback-cap-bytes'));

const manifest = {
  format: 'fairspec-ngram',
  version: 1,
  vocab_size: vocabSize,
  vocabulary_sha256: tokenizer.vocabularyDigest,
  order: options.order,
  tables,
  fallback,
};
await writeFile(join(out, 'ngram.json'), `${JSON.stringify(manifest, null, 1)}\n`);
const seconds = (performance.now() - started) / 1000;
const training = {
  stage: 'zero-cost',
  device: `cpu (${cpus()[0]?.model ?? 'unknown'}, one thread)`,
  wall_seconds: Math.round(seconds),
  hyperparameters: { ...options, minLanguageBytes, maxLanguageBytes: int('max-language-bytes'), scriptCapBytes: int('script-cap-bytes'), fallbackCapBytes: int('fallback-cap-bytes'), corpus: args.corpus },
  tables: fit,
};
await writeFile(join(out, 'training.json'), `${JSON.stringify(training, null, 1)}\n`);

const totalBytes = Object.values(fit).reduce((s, f) => s + f.bytes, 0);
const rows = Object.entries(fit).map(
  ([name, f]) =>
    `| ${name} | ${f.languages} | ${(f.trainBytes / 1e6).toFixed(2)} | ${(f.bytes / 1e6).toFixed(2)} | ${f.contexts} | ${f.heldout.accuracy.toFixed(3)} | ${f.heldout.crossEntropy.toFixed(3)} |`,
);
const card = `# drafter-ngram

A statistical drafter for fairspec's default pack: smoothed token ${options.order}-gram tables. Each language
with at least ${(minLanguageBytes / 1e6).toFixed(2)} MB of training text has its own (${languages.length} languages); the other
${everyLanguage.length - languages.length} languages of the corpus share one table per script (${byScript.size} scripts, at most
${(int('script-cap-bytes') / 1e3).toFixed(0)} KB of each language), and a fallback table over every language (at most
${(int('fallback-cap-bytes') / 1e3).toFixed(0)} KB of each) serves languages outside the corpus and undetected text. Drafting a token costs a few
table lookups, so its cost ratio c is close to 0. The format and the smoothing (Witten-Bell,
interpolated down to the uniform distribution, so every token keeps q > 0) are in
\`src/engine/ngram-table.ts\`; the drafter is \`src/engine/ngram-drafter.ts\`.

## Built by

\`models/training/build_ngram_drafter.ts\` (the pipeline's \`zero-cost\` stage) from the corpus's \`train.bin\`
(UDHR is never in it), tokenised with the verifier's tokenizer; ${seconds.toFixed(0)} s on ${training.device}.
Pruning: next tokens seen fewer than ${options.minCount} times in a context, and contexts seen fewer than
${options.minContextCount} times, are left out. ngram.json records the verifier vocabulary's SHA-256:
a pack whose verifier has another vocabulary refuses to load it.

## Tables

${totalBytes} bytes in all. Held-out: ${int('heldout-bytes')} tokens of \`heldout.bin\` per table, shared evenly among
its languages; accuracy is the table's argmax
against the text's next token, not against the verifier: the pack's \`routing-evidence.json\`
(the route stage) has the acceptance rate α and the measured speed-up per language.

| table | languages | training text (MB) | table (MB) | contexts | held-out accuracy | held-out nats/token |
|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
await writeFile(join(out, 'README.md'), card);
console.log(`drafter-ngram: ${Object.keys(fit).length} tables, ${(totalBytes / 1e6).toFixed(2)} MB, ${seconds.toFixed(0)} s -> ${out}`);
