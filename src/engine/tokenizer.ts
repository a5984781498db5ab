// The model pack's tokenizer (tokenizer.json + optional tokenizer_config.json), through
// @huggingface/tokenizers: no hand-written tokenization.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError } from './errors.js';

function specialTokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

export class TextTokenizer {
  readonly #tokenizer: Tokenizer;
  readonly #vocab: Map<string, number>;
  /** From tokenizer_config.json, when it names tokens that are in the vocabulary. */
  readonly eosTokenId: number | null;
  readonly bosTokenId: number | null;
  /** The files it was built from, for a copy in a worker thread (tokenizer-worker.ts). */
  readonly source: { json: object; config: Record<string, unknown> };
  /**
   * At most how many characters (UTF-16 code units) of input one token stands for, so that a text
   * of more than maxTokenChars * n characters has more than n tokens and is too long without
   * being tokenised. A vocabulary entry of k characters covers at most k of them (byte-level
   * entries map one character to one byte; '##', '<0x41>' and the like only add characters). A
   * normalizer can fold several characters into one (NFC folds up to 3 into a Hangul syllable),
   * hence the factor 4 then; one that deletes characters would defeat the bound.
   */
  readonly maxTokenChars: number;

  constructor(tokenizerJson: object, tokenizerConfig: Record<string, unknown> = {}) {
    this.#tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.source = { json: tokenizerJson, config: tokenizerConfig };
    this.#vocab = this.#tokenizer.get_vocab(true);
    let longest = 1;
    for (const token of this.#vocab.keys()) longest = Math.max(longest, token.length);
    const normalizer = (tokenizerJson as { normalizer?: unknown }).normalizer;
    this.maxTokenChars = normalizer === null || normalizer === undefined ? longest : 4 * longest;
    const idOf = (field: string) => {
      const content = specialTokenContent(tokenizerConfig[field]);
      return content === undefined ? null : (this.#tokenizer.token_to_id(content) ?? null);
    };
    this.eosTokenId = idOf('eos_token');
    this.bosTokenId = idOf('bos_token');
  }

  static async load(dir: string): Promise<TextTokenizer> {
    const read = async (name: string, required: boolean): Promise<unknown> => {
      const path = join(dir, name);
      try {
        return JSON.parse(await readFile(path, 'utf8'));
      } catch (err) {
        if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new EngineError('FS_MODEL_LOAD', `cannot read tokenizer file ${path}: ${(err as Error).message}`, { path }, { cause: err });
      }
    };
    const json = await read('tokenizer.json', true);
    const config = await read('tokenizer_config.json', false);
    try {
      return new TextTokenizer(json as object, (config ?? {}) as Record<string, unknown>);
    } catch (err) {
      throw new EngineError('FS_MODEL_LOAD', `${dir}: unusable tokenizer.json: ${(err as Error).message}`, { path: dir }, { cause: err });
    }
  }

  /**
   * Token ids of `text`, with the special tokens the tokenizer's post-processor adds (e.g. a BOS)
   * unless `addSpecialTokens` is false (a rendered chat template carries its own).
   */
  encode(text: string, addSpecialTokens = true): number[] {
    return this.#tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /**
   * Text of `ids`. Clean-up of tokenization spaces is off: the incremental detokenizer decodes
   * overlapping windows, and a clean-up that looks across a window edge would make the streamed
   * text differ from the whole.
   */
  decode(ids: readonly number[], skipSpecialTokens = true): string {
    if (ids.length === 0) return ''; // the library rejects an empty list
    return this.#tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: false });
  }

  tokenToId(token: string): number | undefined {
    return this.#tokenizer.token_to_id(token);
  }

  /** Number of entries, added tokens included. */
  get vocabSize(): number {
    return this.#vocab.size;
  }

  /**
   * SHA-256 of the vocabulary (token and id, in id order): what a drafter's file that holds no
   * tokenizer.json (an n-gram table) records to show which vocabulary its token ids belong to.
   */
  get vocabularyDigest(): string {
    const entries = [...this.#vocab].sort((a, b) => a[1] - b[1]);
    return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
  }

  /** Same tokens with the same ids (drafters must share the verifier's vocabulary). */
  sameVocabulary(other: TextTokenizer): boolean {
    if (this.#vocab.size !== other.#vocab.size) return false;
    for (const [token, id] of this.#vocab) if (other.#vocab.get(token) !== id) return false;
    return true;
  }
}
