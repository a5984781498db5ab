// Issue 14: the zero-cost drafters (prompt lookup and per-language n-gram tables) on the GPT-2
// fixture pack. Lossless twice, as for the neural drafters: greedy output equals plain decoding
// token for token, and the first two tokens of sampled runs follow the verifier's distribution
// (chi-square at significance 0.001). Bad folders fail the load naming the file; swaps between
// kinds work and a bad one leaves the old drafter serving.

import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import t from 'tap';
import { loadEngine, type Engine } from '../../src/engine/index.js';
import { loadNgramTables, tableFor } from '../../src/engine/ngram-drafter.js';
import { NgramTable } from '../../src/engine/ngram-table.js';
import { lookupContinuation } from '../../src/engine/prompt-lookup-drafter.js';
import { countNgrams } from '../../models/training/ngram/count-ngrams.js';
import { createRandom } from '../../src/engine/random.js';
import { TokenSampler } from '../../src/engine/sampling.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import type { GenerateOptions } from '../../src/engine/types.js';
import { GPT2_DRAFTER, GPT2_VERIFIER, GREEDY, MODEL_OPTIONS, PROMPTS } from '../fixtures/engine-models.js';
import { chiSquare, secondTokenMarginal } from '../fixtures/statistics.js';
import { FALLBACK, writeLookupDrafter, writeNgramDrafter } from '../fixtures/zero-cost-drafters.js';

t.setTimeout(240_000);

const work = mkdtempSync(join(tmpdir(), 'fairspec-zero-cost-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const tokenizer = await TextTokenizer.load(GPT2_VERIFIER);
const VOCAB = 257;

// The tiny verifier's own greedy outputs (token ids: its bytes are seldom valid UTF-8) make a
// table that agrees with it often; other text, seldom.
const plainEngine = await loadEngine({ verifier: GPT2_VERIFIER }, MODEL_OPTIONS);
const continuations: number[][] = [];
for (const prompt of PROMPTS) continuations.push([...tokenizer.encode(prompt), ...(await plainEngine.generate(prompt, { ...GREEDY, maxTokens: 40 })).tokenIds]);
await plainEngine.close();
const NGRAM = join(work, 'drafter-ngram');
await writeNgramDrafter(NGRAM, tokenizer, VOCAB, { texts: { en: continuations.slice(0, 8), [FALLBACK]: ['The quick brown fox jumps over the lazy dog. '.repeat(3)] } });
const LOOKUP = join(work, 'drafter-lookup');
await writeLookupDrafter(LOOKUP);

const engine = await loadEngine({ verifier: GPT2_VERIFIER, drafters: { ngram: NGRAM, lookup: LOOKUP, small: GPT2_DRAFTER } }, MODEL_OPTIONS);
t.teardown(() => engine.close());

async function generate(e: Engine, prompt: string, options: Partial<GenerateOptions>) {
  return e.generate(prompt, { ...GREEDY, ...options });
}

t.test('the drafters list their kinds', async (t) => {
  const infos = await engine.drafters();
  t.match(
    infos.map((d) => [d.name, d.kind, d.numLayers]),
    [
      ['ngram', 'ngram', null],
      ['lookup', 'prompt-lookup', null],
      ['small', 'neural', 1],
    ],
  );
  t.ok(infos[0]!.bytes! > 0, 'the tables\' size');
});

t.test('greedy output with either zero-cost drafter equals plain decoding token for token', async (t) => {
  const repetitive = ['abcabcabcabcabc', 'Hello, world. Hello, world. Hello,', ...PROMPTS];
  for (const drafter of ['ngram', 'lookup']) {
    let drafted = 0;
    let accepted = 0;
    for (const prompt of repetitive) {
      for (const language of ['en', 'fr', null]) {
        const plain = await generate(engine, prompt, { maxTokens: 40 });
        for (const draftLength of [1, 3, 7]) {
          const spec = await generate(engine, prompt, { maxTokens: 40, drafter, draftLength, language });
          if (spec.tokenIds.join() !== plain.tokenIds.join() || spec.text !== plain.text || spec.finishReason !== plain.finishReason) {
            t.fail(`${drafter} γ=${draftLength} ${language} ${JSON.stringify(prompt)}: ${spec.tokenIds} vs ${plain.tokenIds}`);
          }
          drafted += spec.stats.draftedTokens;
          accepted += spec.stats.acceptedTokens;
        }
      }
    }
    t.ok(accepted > 0.05 * drafted && accepted < drafted, `${drafter}: drafts both accepted and rejected (${accepted} of ${drafted})`);
  }
});

t.test('the n-gram drafter drafts with the request\'s language table, else the fallback', async (t) => {
  // The English table holds the verifier's own continuations: it agrees far more than the fallback.
  const rate = async (language: string | null) => {
    let drafted = 0;
    let accepted = 0;
    for (const prompt of PROMPTS.slice(0, 8)) {
      const r = await generate(engine, prompt, { maxTokens: 40, drafter: 'ngram', draftLength: 4, language });
      // The first token comes from the prefill; the second is the first drafted position.
      drafted += r.stats.drafts;
      accepted += r.stats.acceptedPerPosition[0]!;
    }
    return accepted / drafted;
  };
  const [en, enUs, other] = [await rate('en'), await rate('en-Latn'), await rate('sw')];
  t.ok(en > other + 0.2, `en table ${en.toFixed(2)} vs fallback ${other.toFixed(2)}`);
  t.equal(enUs, en, "'en-Latn' uses the 'en' table");
});

t.test('languages that share a table file (one per script) load it once', async (t) => {
  const dir = join(work, 'drafter-shared');
  cpSync(NGRAM, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'ngram.json'), 'utf8'));
  manifest.tables = { en: 'tables/en.bin', am: 'tables/all.bin', ti: 'tables/all.bin' };
  writeFileSync(join(dir, 'ngram.json'), JSON.stringify(manifest));
  const tables = await loadNgramTables('shared', dir, { vocabSize: VOCAB, vocabularyDigest: tokenizer.vocabularyDigest });
  t.equal(tableFor(tables, 'am'), tableFor(tables, 'ti'));
  t.equal(tableFor(tables, 'am'), tables.fallback, 'the fallback names the same file: the same table');
  t.equal(tables.bytes, statSync(join(dir, 'tables/en.bin')).size + statSync(join(dir, 'tables/all.bin')).size, 'each file counted once');
});

/** The verifier's distribution after `ids` at temperature 1. */
async function verifierDistribution(ids: number[]): Promise<Float64Array> {
  const rows = await engine.verifier.forward(engine.verifier.newCache(), ids);
  return new TokenSampler({ temperature: 1, topK: 0, topP: 1 }, createRandom(0)).distribution(rows[rows.length - 1]!);
}

/**
 * A prompt whose likely first token (drawn from the prefill) leads to a lookup proposal the
 * verifier finds likely but not certain: a prefix of the verifier's own greedy output, once that
 * output has started to repeat itself.
 */
async function lookupPrompt(): Promise<number[]> {
  for (const ids of continuations) {
    for (let k = 12; k < ids.length - 3; k++) {
      const prompt = ids.slice(0, k);
      if ((await verifierDistribution(prompt))[ids[k]!]! < 0.8) continue;
      const proposed = lookupContinuation(ids.slice(0, k + 1), { minNgram: 2, maxNgram: 6 }, 1);
      if (proposed.length === 0) continue;
      const p = (await verifierDistribution(ids.slice(0, k + 1)))[proposed[0]!]!;
      if (p > 0.25 && p < 0.75) return prompt;
    }
  }
  throw new Error('no prompt on which lookup proposes a likely token');
}

for (const [drafter, prompt] of [
  ['ngram', async () => tokenizer.encode('The quick brown fox')],
  ['lookup', lookupPrompt],
] as const) {
  t.test(`${drafter}: sampled output follows the verifier's distribution (first two tokens)`, async (t) => {
    const promptIds = await prompt();
    const p1 = await verifierDistribution(promptIds);
    const p2 = await secondTokenMarginal(p1, (x) => verifierDistribution([...promptIds, x]), 1e-4);
    const counts = [new Array<number>(VOCAB).fill(0), new Array<number>(VOCAB).fill(0)];
    let drafted = 0;
    let accepted = 0;
    for (let seed = 0; seed < 1500; seed++) {
      const r = await generate(engine, '', {
        promptIds,
        temperature: 1,
        seed,
        maxTokens: 3,
        ignoreEos: true,
        drafter,
        draftLength: 2,
        language: 'en',
      });
      counts[0]![r.tokenIds[0]!]!++;
      counts[1]![r.tokenIds[1]!]!++;
      // The first token comes from the prefill; the second is the first drafted position.
      drafted += r.stats.drafts;
      accepted += r.stats.acceptedPerPosition[0]!;
    }
    for (const [i, p] of [p1, p2].entries()) {
      const fit = chiSquare(counts[i]!, p);
      t.ok(fit.statistic < fit.critical, `token ${i + 1}: chi2 ${fit.statistic.toFixed(1)} < ${fit.critical.toFixed(1)} (df ${fit.df}), TV ${fit.tv.toFixed(3)}`);
    }
    t.ok(drafted > 1000 && accepted > 0.05 * drafted && accepted < 0.95 * drafted, `second tokens drafted, some accepted, some rejected (${accepted} of ${drafted})`);
  });
}

t.test('a bad n-gram folder stops the load, naming the file', async (t) => {
  /** A copy of the good folder with one edit. */
  const broken = (name: string, edit: (dir: string) => void): string => {
    const dir = join(work, name);
    cpSync(NGRAM, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const otherVocabularyTable = NgramTable.encode(VOCAB + 1, 4, countNgrams([[1, 2, 3]], { order: 4, minCount: 1, minContextCount: 1 }));
  const cases: Array<[string, (dir: string) => void, RegExp, string]> = [
    ['truncated', (d) => writeFileSync(join(d, 'tables/en.bin'), readFileSync(join(d, 'tables/en.bin')).subarray(0, 100)), /tables\/en\.bin: .*truncated/, 'FS_MODEL_LOAD'],
    [
      'corrupt',
      (d) => {
        const data = readFileSync(join(d, 'tables/all.bin'));
        data[60]! ^= 1;
        writeFileSync(join(d, 'tables/all.bin'), data);
      },
      /tables\/all\.bin: checksum/,
      'FS_MODEL_LOAD',
    ],
    ['missing', (d) => rmSync(join(d, 'tables/en.bin')), /tables\/en\.bin: cannot be read/, 'FS_MODEL_LOAD'],
    ['truncated-gzip', (d) => writeFileSync(join(d, 'tables/en.bin'), gzipSync(readFileSync(join(d, 'tables/en.bin'))).subarray(0, 60)), /tables\/en\.bin: not a whole gzip stream/, 'FS_MODEL_LOAD'],
    [
      'other-vocabulary',
      (d) => writeFileSync(join(d, 'ngram.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(d, 'ngram.json'), 'utf8')), vocabulary_sha256: '0'.repeat(64) })),
      /ngram\.json was built for another vocabulary/,
      'FS_VOCAB_MISMATCH',
    ],
    [
      'outside',
      (d) => writeFileSync(join(d, 'ngram.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(d, 'ngram.json'), 'utf8')), fallback: '../drafter-ngram/tables/all.bin' })),
      /ngram\.json: fallback table .* is not a file in the folder's tables/,
      'FS_MODEL_LOAD',
    ],
    ['not-json', (d) => writeFileSync(join(d, 'ngram.json'), '{"format":'), /ngram\.json: cannot be read as JSON/, 'FS_MODEL_LOAD'],
    ['table-vocabulary', (d) => writeFileSync(join(d, 'tables/en.bin'), otherVocabularyTable), /tables\/en\.bin: has vocab size 258, the verifier 257/, 'FS_MODEL_LOAD'],
  ];
  for (const [name, edit, message, code] of cases) {
    const dir = broken(`bad-${name}`, edit);
    await t.rejects(loadEngine({ verifier: GPT2_VERIFIER, drafters: { ngram: dir } }, MODEL_OPTIONS), { code, message }, `${name}: the boot stops`);
    await t.rejects(engine.replaceDrafter('ngram', dir), { code, message }, `${name}: the swap is refused`);
  }
  t.equal((await engine.drafters())[0]!.source, NGRAM, 'the old tables still serve');
  t.ok((await generate(engine, 'Hello', { drafter: 'ngram', draftLength: 3 })).stats.draftedTokens > 0);

  const badLookup = join(work, 'bad-lookup');
  await writeLookupDrafter(badLookup, { min_ngram: 5, max_ngram: 2 });
  await t.rejects(engine.replaceDrafter('lookup', badLookup), { code: 'FS_MODEL_LOAD', message: /prompt-lookup\.json: "min_ngram" 5 exceeds "max_ngram" 2/ });
});

t.test('a drafter name can be swapped to another kind and back', async (t) => {
  const before = await generate(engine, 'Hello, world', { drafter: 'small', draftLength: 3 });
  const swap = await engine.replaceDrafter('small', NGRAM);
  t.equal(swap.current.kind, 'ngram');
  t.equal(swap.replaced.kind, 'neural');
  const during = await generate(engine, 'Hello, world', { drafter: 'small', draftLength: 3 });
  t.same(during.tokenIds, before.tokenIds, 'the same output with the other kind');
  t.equal(during.stats.drafter, 'small');
  await engine.replaceDrafter('small', GPT2_DRAFTER);
  t.equal((await engine.drafters())[2]!.kind, 'neural');
});
