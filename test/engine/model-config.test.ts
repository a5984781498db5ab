import t from 'tap';
import { checkModelIo, CausalLM } from '../../src/engine/causal-lm.js';
import { EngineError } from '../../src/engine/errors.js';
import { parseModelConfig, readModelConfig } from '../../src/engine/model-config.js';
import { GPT2_DRAFTER, GPT2_VERIFIER, LLAMA, LLAMA_F16, MODEL_OPTIONS } from '../fixtures/engine-models.js';

t.test('reads layers, heads and head size from each fixture config', async (t) => {
  const gpt2 = await readModelConfig(GPT2_VERIFIER);
  t.match(gpt2, { modelType: 'gpt2', numLayers: 2, numHeads: 2, numKvHeads: 2, headDim: 16, hiddenSize: 32, contextLength: 64, vocabSize: 257 });
  t.same(gpt2.eosTokenIds, [256], 'eos from generation_config.json (a list)');
  t.equal(gpt2.bosTokenId, 256);
  t.match(await readModelConfig(GPT2_DRAFTER), { numLayers: 1, numHeads: 2, headDim: 16 });

  const llama = await readModelConfig(LLAMA);
  t.match(llama, { modelType: 'llama', numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, hiddenSize: 32, contextLength: 128, vocabSize: 257 });
  t.equal(llama.kvDtype, 'float32');
  t.equal((await readModelConfig(LLAMA_F16)).kvDtype, 'float16', 'from torch_dtype');
});

t.test('the KV dtype comes from the ONNX input metadata', async (t) => {
  for (const [dir, dtype] of [
    [LLAMA, 'float32'],
    [LLAMA_F16, 'float16'],
  ] as const) {
    const lm = await CausalLM.load(dir, MODEL_OPTIONS);
    t.equal(lm.kvDtype, dtype);
    await lm.release();
  }
});

t.test('config field variants', async (t) => {
  const base = { num_hidden_layers: 4, num_attention_heads: 8, hidden_size: 64, max_position_embeddings: 100, vocab_size: 50 };
  t.match(parseModelConfig(base), { numKvHeads: 8, headDim: 8, eosTokenIds: [], bosTokenId: null, kvDtype: 'float32' });
  t.match(parseModelConfig({ ...base, eos_token_id: [3, 4, 3] }), { eosTokenIds: [3, 4] });
  t.match(parseModelConfig({ ...base, eos_token_id: 3 }, { eos_token_id: 9 }), { eosTokenIds: [9] }, 'generation_config wins');
  t.match(parseModelConfig({ ...base, num_key_value_heads: 2, head_dim: 32 }), { numKvHeads: 2, headDim: 32 });
  t.match(parseModelConfig({ n_layer: 2, n_head: 2, n_embd: 8, n_ctx: 16, vocab_size: 5 }), { contextLength: 16, headDim: 4 });
});

t.test('errors name the missing or bad field', async (t) => {
  const base = { n_layer: 2, n_head: 2, n_embd: 8, n_positions: 16, vocab_size: 5 };
  const without = (field: string) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== field));
  for (const field of Object.keys(base)) {
    t.throws(() => parseModelConfig(without(field)), { code: 'FS_MODEL_CONFIG', message: new RegExp(`"${field}"`) }, `missing ${field}`);
  }
  t.throws(() => parseModelConfig({ ...base, n_head: 0 }), { code: 'FS_MODEL_CONFIG', details: { field: 'n_head', value: 0 } });
  t.throws(() => parseModelConfig({ ...base, n_embd: 9 }), { message: /head_dim/ });
  t.throws(() => parseModelConfig({ ...base, num_key_value_heads: 3, n_head: 4 }), { code: 'FS_MODEL_CONFIG', details: { field: 'num_key_value_heads' } });
  t.throws(() => parseModelConfig({ ...base, eos_token_id: 'x' }), { code: 'FS_MODEL_CONFIG', details: { field: 'eos_token_id' } });
  t.throws(() => parseModelConfig({ ...base, eos_token_id: 7 }), { message: /outside the vocabulary/ });
  t.throws(() => parseModelConfig([]), { code: 'FS_MODEL_CONFIG' });
  await t.rejects(readModelConfig('/nonexistent'), { code: 'FS_MODEL_CONFIG', message: /config\.json/ });
});

t.test('model inputs and outputs are checked by name', async (t) => {
  const inputs = ['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value'];
  const outputs = ['logits', 'present.0.key', 'present.0.value'];
  t.same(checkModelIo(inputs, outputs, 1, 'm'), { positionIds: false, attentionMask: true, useCacheBranch: false, numLogitsToKeep: false });
  t.throws(() => checkModelIo([...inputs, 'token_type_ids'], outputs, 1, 'm'), { code: 'FS_MODEL_IO', details: { input: 'token_type_ids' } });
  t.throws(() => checkModelIo(inputs, outputs, 2, 'm'), { code: 'FS_MODEL_IO', details: { input: 'past_key_values.1.key' } });
  t.throws(() => checkModelIo(inputs.slice(1), outputs, 1, 'm'), { code: 'FS_MODEL_IO', details: { input: 'input_ids' } });
  t.throws(() => checkModelIo(inputs, outputs.slice(0, 2), 1, 'm'), { code: 'FS_MODEL_IO', details: { output: 'present.0.value' } });
  t.ok(new EngineError('FS_MODEL_IO', 'x') instanceof Error);
});

t.test('a model folder without an ONNX file fails to load with its path', async (t) => {
  const dir = t.testdir({ 'config.json': JSON.stringify({ n_layer: 1, n_head: 1, n_embd: 4, n_positions: 8, vocab_size: 4 }) });
  await t.rejects(CausalLM.load(dir), { code: 'FS_MODEL_LOAD', message: /onnx\/model\.onnx/ });
});
