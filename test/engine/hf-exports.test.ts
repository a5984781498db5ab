// The Hugging Face export variants of make-fixtures.py hf-exports: a Qwen2-shaped pack (byte-level
// BPE with merges, num_logits_to_keep, fp32 / fp16 / q8 / q4 / q4f16 files) and a Llama-shaped one
// (Metaspace BPE with byte fallback, a merged decoder with external data, fp32 / fp16). Each file
// matches torch through the engine's cache, each pack decodes greedily the same with and without
// speculation, and the tokenizers give the ids of an independent Python implementation.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CausalLM } from '../../src/engine/causal-lm.js';
import { loadEngine } from '../../src/engine/engine.js';
import type { ModelDtype } from '../../src/engine/model-dtype.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import { GREEDY, LLAMA_SP_PACK, MODEL_OPTIONS, PROMPTS, QWEN2_PACK, maxAbsDiff, readReference } from '../fixtures/engine-models.js';

const PACKS = [
  { dir: QWEN2_PACK, dtypes: ['fp32', 'fp16', 'q8', 'q4', 'q4f16'] as ModelDtype[] },
  { dir: LLAMA_SP_PACK, dtypes: ['fp32', 'fp16'] as ModelDtype[] },
];

/** The pack with its drafter pinned to fp16 by fairspec.json, for verifier dtypes the drafter has no file of. */
function withDrafterAtFp16(pack: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'fairspec-pack-'));
  cpSync(pack, copy, { recursive: true });
  writeFileSync(join(copy, 'drafter-tiny', 'fairspec.json'), JSON.stringify({ dtype: 'fp16' }));
  t.teardown(() => rmSync(copy, { recursive: true, force: true }));
  return copy;
}

t.test('every dtype file matches torch through a cache with rejected drafts', async (t) => {
  for (const { dir } of PACKS) {
    for (const folder of ['verifier', 'drafter-tiny']) {
      const modelDir = join(dir, folder);
      const ref = readReference(modelDir);
      for (const [dtype, built] of Object.entries(ref.dtypes!)) {
        const lm = await CausalLM.load(modelDir, { ...MODEL_OPTIONS, dtype: dtype as ModelDtype });
        t.teardown(() => lm.release());
        t.equal(lm.dtype, dtype);
        t.ok(lm.modelPath.endsWith(join('onnx', built.file)), `${dtype} loads onnx/${built.file}`);
        const ids = ref.tokenIds;
        const cache = lm.newCache();
        const cut = ids.length - ref.lastPositions;
        for (const [from, to] of [[0, 7], [7, 8], [8, 13], [13, cut]] as const) {
          await lm.forward(cache, ids.slice(from, to));
          await lm.forward(cache, [7, 8, 9]);
          cache.truncate(to);
        }
        const rows = await lm.forward(cache, ids.slice(cut));
        const fresh = await lm.forward(lm.newCache(), ids);
        const vsFresh = Math.max(...rows.map((row, i) => maxAbsDiff(row, fresh[cut + i]!)));
        t.ok(vsFresh < 1e-4, `${lm.id} ${dtype}: cache with holes vs one full pass ${vsFresh.toExponential(2)}`);
        // Quantized weights move logits away from torch's; the build measured by how much.
        const tol = dtype === 'fp32' ? 2e-4 : 2 * built.maxAbsDiff + 2e-4;
        const vsTorch = Math.max(...rows.map((row, i) => maxAbsDiff(row, ref.logits[i]!)));
        t.ok(vsTorch < tol, `${lm.id} ${dtype}: max |engine - torch| = ${vsTorch.toExponential(2)} < ${tol.toExponential(2)}`);
      }
    }
  }
});

t.test('greedy decoding is the same with and without speculation, for every dtype', async (t) => {
  for (const { dir, dtypes } of PACKS) {
    for (const dtype of dtypes) {
      const pack = dtype === 'fp32' || dtype === 'fp16' ? dir : withDrafterAtFp16(dir);
      const engine = await loadEngine(pack, { ...MODEL_OPTIONS, drafterIntraOpNumThreads: 1, dtype });
      t.teardown(() => engine.close());
      const [drafter] = await engine.drafters();
      t.equal(engine.verifier.dtype, dtype, `${dir}: the verifier runs ${dtype}`);
      t.equal(drafter?.name, 'tiny');
      let accepted = 0;
      let drafted = 0;
      for (const prompt of PROMPTS) {
        const plain = await engine.generate(prompt, GREEDY);
        t.equal(plain.completionTokens, GREEDY.maxTokens);
        for (const draftLength of [1, 4]) {
          const spec = await engine.generate(prompt, { ...GREEDY, drafter: 'tiny', draftLength });
          t.same(spec.tokenIds, plain.tokenIds, `${dtype} ${JSON.stringify(prompt)} γ=${draftLength}: same tokens`);
          t.equal(spec.text, plain.text);
          accepted += spec.stats.acceptedTokens;
          drafted += spec.stats.draftedTokens;
        }
      }
      t.ok(accepted > 0 && accepted < drafted, `${dtype}: drafts were both accepted and rejected (${accepted} of ${drafted})`);
    }
  }
});

t.test('the tokenizers give the ids of the Python reference implementation and round-trip', async (t) => {
  for (const { dir } of PACKS) {
    const tokenizer = await TextTokenizer.load(join(dir, 'verifier'));
    const cases = readReference(join(dir, 'verifier')).tokenization!;
    t.ok(cases.length >= 20);
    for (const { text, ids } of cases) {
      t.same(tokenizer.encode(text), ids, `${JSON.stringify(text)}: ids`);
      // The Strip decoder of SentencePiece-style tokenizers drops one leading space, as in transformers.
      const lost = dir === LLAMA_SP_PACK && text.startsWith(' ') ? 1 : 0;
      t.equal(tokenizer.decode(tokenizer.encode(text)), text.slice(lost), `${JSON.stringify(text)}: round trip`);
    }
    const merged = cases.flatMap((c) => c.ids).filter((id) => tokenizer.decode([id]).length > 1);
    t.ok(merged.length > 20, `${dir}: merges make multi-character tokens (${merged.length})`);
    t.ok((await TextTokenizer.load(join(dir, 'drafter-tiny'))).sameVocabulary(tokenizer));
  }
  const byteLevel = await TextTokenizer.load(join(QWEN2_PACK, 'verifier'));
  t.equal(byteLevel.decode(byteLevel.encode('Cafe\u0301')), 'Café', 'the NFC normalizer composes what it reads');
  const metaspace = await TextTokenizer.load(join(LLAMA_SP_PACK, 'verifier'));
  t.equal(metaspace.encode('')[0], metaspace.tokenToId('<s>'), 'the template adds <s>');
  const fallback = metaspace.encode('🙂');
  t.same(fallback.slice(-4), [0xf0, 0x9f, 0x99, 0x82].map((b) => metaspace.tokenToId(`<0x${b.toString(16).toUpperCase()}>`)), 'byte fallback: <0xF0> <0x9F> <0x99> <0x82>');
});

t.test('completion text continues the prompt as decoding prompt and completion together does', async (t) => {
  for (const { dir } of PACKS) {
    const engine = await loadEngine(dir, MODEL_OPTIONS);
    t.teardown(() => engine.close());
    const tokenizer = engine.tokenizer;
    let spaced = 0;
    for (const prompt of PROMPTS) {
      const deltas: string[] = [];
      const r = await engine.generate(prompt, { ...GREEDY, maxTokens: 12, drafter: 'tiny', draftLength: 3, onText: (d) => void deltas.push(d) });
      const promptIds = tokenizer.encode(prompt);
      const whole = tokenizer.decode([...promptIds, ...r.tokenIds]);
      const before = tokenizer.decode(promptIds);
      t.ok(whole.startsWith(before), 'the prompt decodes the same with the completion after it');
      // ... but for a character the completion left unfinished, which the text drops (IncrementalDetokenizer.flush).
      const rest = whole.slice(before.length);
      t.ok(r.text === rest || `${r.text}\uFFFD` === rest, `${dir} ${JSON.stringify(prompt)}: the text is what follows the prompt`, { text: r.text, rest });
      t.equal(deltas.join(''), r.text, 'the streamed deltas add up to it');
      // A word-initial first token decodes without its space on its own: the case that needs the prompt's context.
      const alone = tokenizer.decode(r.tokenIds.slice(0, 1));
      if (alone !== '' && whole.slice(before.length).startsWith(` ${alone}`)) spaced++;
    }
    if (dir === LLAMA_SP_PACK) t.ok(spaced > 0, `${spaced} completions start with a word whose space only the context shows`);
  }
});
