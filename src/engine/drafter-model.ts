// What stands behind a drafter name: a neural model (an ONNX causal LM, drafter.ts' ModelDrafter),
// per-language n-gram tables (ngram-drafter.ts) or prompt lookup (prompt-lookup-drafter.ts). The
// kind is read from the folder: ngram.json makes it statistical, prompt-lookup.json prompt
// lookup, anything else is loaded as an ONNX model. All kinds load, swap, route and report alike;
// every check runs before the model is handed out, so a bad folder fails the boot or the swap
// whole, naming the file.

import { access, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CausalLM, type CausalLMOptions } from './causal-lm.js';
import { ModelDrafter, type Drafter } from './drafter.js';
import { readModelConfig, type ModelConfig } from './model-config.js';
import { EngineError } from './errors.js';
import { TextTokenizer } from './tokenizer.js';
import { availableDtypes } from './model-dtype.js';
import { loadNgramTables, NGRAM_MANIFEST, NgramDrafter } from './ngram-drafter.js';
import { loadPromptLookupSettings, PROMPT_LOOKUP_MANIFEST, PromptLookupDrafter } from './prompt-lookup-drafter.js';

export type DrafterKind = 'neural' | 'ngram' | 'prompt-lookup';

export type ModelLoadOptions = Pick<CausalLMOptions, 'intraOpNumThreads' | 'compactDeadFraction' | 'dtype'>;

export interface DrafterModel {
  readonly kind: DrafterKind;
  /** Model id, for logs and results. */
  readonly id: string;
  /** The folder it was loaded from. */
  readonly dir: string;
  /** The neural model; null for the other kinds. */
  readonly lm: CausalLM | null;
  /** Bytes of the files it loaded (ONNX graph and weights, tables, settings); null if unreadable. */
  bytes(): Promise<number | null>;
  /** A drafter over this model for the scheduler (one is shared by every generation using the model). */
  newDrafter(name: string): Drafter;
  /** Frees native memory (an onnxruntime session); a no-op for the other kinds. */
  release(): Promise<void>;
}

/** What a folder holds: its kind, or null when it is no drafter (no manifest, no ONNX file). */
export async function drafterKindOf(dir: string): Promise<DrafterKind | null> {
  if (await exists(join(dir, NGRAM_MANIFEST))) return 'ngram';
  if (await exists(join(dir, PROMPT_LOOKUP_MANIFEST))) return 'prompt-lookup';
  return (await availableDtypes(dir)).length > 0 ? 'neural' : null;
}

export interface DrafterLoadContext {
  verifierConfig: ModelConfig;
  tokenizer: TextTokenizer;
  modelOptions: ModelLoadOptions;
}

/**
 * Checks a drafter folder without loading anything heavy (no onnxruntime session): the
 * vocabulary of a neural model, the whole of an n-gram or lookup drafter (they are cheap).
 */
export async function checkDrafterFolder(name: string, dir: string, context: Omit<DrafterLoadContext, 'modelOptions'>): Promise<void> {
  const kind = await drafterKindOf(dir);
  if (kind === 'neural' || kind === null) await checkDrafterVocabulary(name, dir, context.verifierConfig, context.tokenizer);
  else if (kind === 'ngram') await loadNgramTables(name, dir, ngramVocabulary(context));
  else await loadPromptLookupSettings(name, dir);
}

/** Loads the drafter in `dir` after checking it against the verifier. */
export async function loadDrafterModel(name: string, dir: string, id: string, context: DrafterLoadContext): Promise<DrafterModel> {
  const kind = await drafterKindOf(dir);
  if (kind === 'ngram') {
    const tables = await loadNgramTables(name, dir, ngramVocabulary(context));
    return new ZeroCostModel(kind, id, dir, tables.bytes, (n) => new NgramDrafter(n, tables));
  }
  if (kind === 'prompt-lookup') {
    const settings = await loadPromptLookupSettings(name, dir);
    return new ZeroCostModel(kind, id, dir, 0, (n) => new PromptLookupDrafter(n, settings, context.verifierConfig.vocabSize));
  }
  await checkDrafterVocabulary(name, dir, context.verifierConfig, context.tokenizer);
  return new NeuralModel(await CausalLM.load(dir, { ...context.modelOptions, id }));
}

/** A neural drafter model already loaded (tests, and the engine's constructor). */
export function neuralDrafterModel(lm: CausalLM): DrafterModel {
  return new NeuralModel(lm);
}

/**
 * Checks that the model folder `dir` can draft for a verifier with `verifierConfig` and
 * `tokenizer`: same vocab_size, and the same vocabulary when the folder has its own
 * tokenizer.json. Runs before any onnxruntime session is created, at boot and on a swap alike.
 */
export async function checkDrafterVocabulary(name: string, dir: string, verifierConfig: ModelConfig, tokenizer: TextTokenizer): Promise<void> {
  const config = await readModelConfig(dir);
  if (config.vocabSize !== verifierConfig.vocabSize) {
    throw new EngineError(
      'FS_VOCAB_MISMATCH',
      `drafter "${name}" has vocab_size ${config.vocabSize} but the verifier has ${verifierConfig.vocabSize}; a drafter must share the verifier's vocabulary`,
      { drafter: name, drafterVocab: config.vocabSize, verifierVocab: verifierConfig.vocabSize },
    );
  }
  let own: TextTokenizer | null = null;
  try {
    await access(join(dir, 'tokenizer.json'));
    own = await TextTokenizer.load(dir);
  } catch (err) {
    if (err instanceof EngineError) throw err;
  }
  if (own && !own.sameVocabulary(tokenizer)) {
    throw new EngineError('FS_VOCAB_MISMATCH', `drafter "${name}" has a tokenizer.json whose vocabulary differs from the verifier's`, {
      drafter: name,
    });
  }
}

function ngramVocabulary(context: Omit<DrafterLoadContext, 'modelOptions'>): { vocabSize: number; vocabularyDigest: string } {
  return { vocabSize: context.verifierConfig.vocabSize, vocabularyDigest: context.tokenizer.vocabularyDigest };
}

class NeuralModel implements DrafterModel {
  readonly kind = 'neural';
  constructor(readonly lm: CausalLM) {}

  get id(): string {
    return this.lm.id;
  }

  get dir(): string {
    return this.lm.dir;
  }

  bytes(): Promise<number | null> {
    return onnxBytes(this.lm.modelPath);
  }

  newDrafter(name: string): Drafter {
    return new ModelDrafter(name, this.lm);
  }

  release(): Promise<void> {
    return this.lm.release();
  }
}

/** A drafter that runs no model: its settings or tables are all it holds, and nothing to free. */
class ZeroCostModel implements DrafterModel {
  readonly lm = null;
  constructor(
    readonly kind: Exclude<DrafterKind, 'neural'>,
    readonly id: string,
    readonly dir: string,
    readonly fileBytes: number,
    readonly newDrafter: (name: string) => Drafter,
  ) {}

  async bytes(): Promise<number | null> {
    return this.fileBytes;
  }

  async release(): Promise<void> {}
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Size of the loaded graph and its external data (model_fp16.onnx: model_fp16.onnx_data,
 * model_fp16.onnx_data_1, ...), not of the other dtypes' files beside it; null if unreadable.
 */
async function onnxBytes(modelPath: string): Promise<number | null> {
  try {
    const onnx = dirname(modelPath);
    const file = basename(modelPath);
    const names = (await readdir(onnx)).filter((n) => n === file || n.startsWith(`${file}_data`));
    const sizes = await Promise.all(names.map(async (n) => {
      const s = await stat(join(onnx, n));
      return s.isFile() ? s.size : 0;
    }));
    return sizes.reduce((a, b) => a + b, 0);
  } catch {
    return null;
  }
}
