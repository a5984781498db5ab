// The statistical drafter: per-language n-gram tables (ngram-table.ts) built by the pipeline from
// the training corpus (models/training/build_ngram_drafter.ts). Drafting a token is a few table
// lookups and one pass over the vocabulary, so its cost ratio c is close to 0: it pays even where
// its acceptance rate is lower than a neural drafter's.
//
// Its folder holds ngram.json and the tables:
//   { "format": "fairspec-ngram", "version": 1, "vocab_size": 257, "order": 6,
//     "vocabulary_sha256": "<TextTokenizer.vocabularyDigest of the verifier it was built for>",
//     "tables": { "en": "tables/en.bin", "am": "tables/script-Ethiopic.bin", ... }, "fallback": "tables/all.bin" }
// Languages with little text share their script's table. A request drafts with its language's table ('zh-Hant' falls back to 'zh'), else the fallback
// table. Every table is read and checked at load: one bad file fails the whole load, naming the
// file, so a pack or a swap never serves with some languages' tables missing.
//
// q is the table's full smoothed distribution after the request's logits processors, exactly as
// a neural drafter's, and drafts are drawn from it: speculative sampling stays exact (rejection.ts).

import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import type { Draft, DraftRequest, Drafter } from './drafter.js';
import { EngineError } from './errors.js';
import { NgramTable, NgramTableError } from './ngram-table.js';

export const NGRAM_MANIFEST = 'ngram.json';
const FORMAT = 'fairspec-ngram';

export interface NgramTables {
  /** Language code -> table. */
  byLanguage: ReadonlyMap<string, NgramTable>;
  fallback: NgramTable;
  order: number;
  /** Bytes of the table files. */
  bytes: number;
}

/** The table a request of `language` drafts with. */
export function tableFor(tables: NgramTables, language: string | null | undefined): NgramTable {
  if (language) {
    const own = tables.byLanguage.get(language) ?? tables.byLanguage.get(language.split('-')[0]!);
    if (own) return own;
  }
  return tables.fallback;
}

/**
 * Reads and checks the folder's manifest and every table, against the verifier's vocabulary
 * (size and digest). Throws EngineError FS_VOCAB_MISMATCH or FS_MODEL_LOAD naming the file.
 */
export async function loadNgramTables(name: string, dir: string, verifier: { vocabSize: number; vocabularyDigest: string }): Promise<NgramTables> {
  const fail = (file: string, what: string, cause?: unknown): never => {
    throw new EngineError('FS_MODEL_LOAD', `drafter "${name}": ${file}: ${what}`, { drafter: name, file }, { cause });
  };
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(await readFile(join(dir, NGRAM_MANIFEST), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return fail(NGRAM_MANIFEST, `cannot be read as JSON (${(err as Error).message})`, err);
  }
  if (manifest === null || typeof manifest !== 'object' || manifest.format !== FORMAT || manifest.version !== 1) {
    fail(NGRAM_MANIFEST, `is not a version 1 "${FORMAT}" manifest`);
  }
  if (manifest.vocab_size !== verifier.vocabSize || manifest.vocabulary_sha256 !== verifier.vocabularyDigest) {
    throw new EngineError(
      'FS_VOCAB_MISMATCH',
      `drafter "${name}": ${NGRAM_MANIFEST} was built for another vocabulary (vocab_size ${JSON.stringify(manifest.vocab_size)}, ` +
        `the verifier has ${verifier.vocabSize}${manifest.vocab_size === verifier.vocabSize ? ', but the token digests differ' : ''}); a drafter must share the verifier's vocabulary`,
      { drafter: name, file: NGRAM_MANIFEST },
    );
  }
  const order = manifest.order;
  if (!(Number.isInteger(order) && (order as number) >= 1)) fail(NGRAM_MANIFEST, `order ${JSON.stringify(order)} is not a positive integer`);
  const files = manifest.tables;
  if (files === null || typeof files !== 'object' || Array.isArray(files)) fail(NGRAM_MANIFEST, '"tables" is not an object of language -> file');
  if (typeof manifest.fallback !== 'string') fail(NGRAM_MANIFEST, '"fallback" names no table file');

  let bytes = 0;
  const load = async (file: unknown, what: string): Promise<NgramTable> => {
    // Only tables/ is confined file by file before a swap (src/drafter-files.ts).
    if (typeof file !== 'string' || isAbsolute(file) || !normalize(file).startsWith(`tables${sep}`) || normalize(file).split(sep).includes('..')) {
      return fail(NGRAM_MANIFEST, `${what} ${JSON.stringify(file)} is not a file in the folder's tables/`);
    }
    let data: Buffer;
    try {
      data = await readFile(join(dir, file));
    } catch (err) {
      return fail(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
    }
    let table: NgramTable;
    try {
      table = NgramTable.read(data);
    } catch (err) {
      if (err instanceof NgramTableError) return fail(file, err.message, err);
      throw err;
    }
    if (table.vocabSize !== verifier.vocabSize) fail(file, `has vocab size ${table.vocabSize}, the verifier ${verifier.vocabSize}`);
    if (table.order !== order) fail(file, `has order ${table.order}, ${NGRAM_MANIFEST} says ${order}`);
    bytes += data.length;
    return table;
  };
  // Languages may share a table (one per script): each file is read once.
  const loaded = new Map<string, NgramTable>();
  const loadOnce = async (file: unknown, what: string): Promise<NgramTable> => {
    const known = typeof file === 'string' ? loaded.get(normalize(file)) : undefined;
    if (known) return known;
    const table = await load(file, what);
    loaded.set(normalize(file as string), table);
    return table;
  };
  const byLanguage = new Map<string, NgramTable>();
  for (const [language, file] of Object.entries(files as Record<string, unknown>)) byLanguage.set(language, await loadOnce(file, `table of ${language}`));
  const fallback = await loadOnce(manifest.fallback, 'fallback table');
  return { byLanguage, fallback, order: order as number, bytes };
}

/** Drafts from the n-gram tables; it keeps no state per sequence. */
export class NgramDrafter implements Drafter {
  readonly size = 0;

  constructor(
    readonly name: string,
    readonly tables: NgramTables,
  ) {}

  maxDraftLength(): number {
    return Infinity; // it reads only the last order-1 tokens
  }

  release(): void {}

  async propose(requests: readonly DraftRequest[]): Promise<Draft[]> {
    return requests.map((r) => {
      const table = tableFor(this.tables, r.language);
      const history = [...r.committed];
      const draft: Draft = { tokenIds: [], probs: [], logits: [] };
      for (let i = 0; i < r.gamma; i++) {
        const logits = table.logits(history); // [vocab]
        const probs = r.sampler.distribution(logits, history); // [vocab]
        const token = r.sampler.sample(probs);
        draft.tokenIds.push(token);
        draft.probs.push(probs);
        draft.logits.push(logits);
        history.push(token);
      }
      return draft;
    });
  }
}
