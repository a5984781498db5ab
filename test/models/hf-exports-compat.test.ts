// The hf-exports fixture packs are what transformers.js loads: for each file it picks by dtype
// (model_fp16.onnx, model_quantized.onnx, ...), the merged decoder with external data and the graph
// with num_logits_to_keep, its greedy generation matches fairspec's plain decoding token for token.

import { join } from 'node:path';
import t from 'tap';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { loadEngine } from '../../src/engine/engine.js';
import type { ModelDtype } from '../../src/engine/model-dtype.js';
import { GREEDY, LLAMA_SP_PACK, QWEN2_PACK } from '../fixtures/engine-models.js';

const PACKS = [
  { dir: QWEN2_PACK, dtypes: ['fp32', 'fp16', 'q8', 'q4', 'q4f16'] as ModelDtype[] },
  { dir: LLAMA_SP_PACK, dtypes: ['fp32', 'fp16'] as ModelDtype[] },
];
const PROMPTS = ['Hello, world', 'Быстрая лиса', '素早い茶色の狐'];
const NEW_TOKENS = 12;

env.allowRemoteModels = false;
env.allowLocalModels = true;

for (const { dir, dtypes } of PACKS) {
  t.test(`transformers.js generates like fairspec on ${dir}`, async (t) => {
    env.localModelPath = `${dir}/`;
    const tokenizer = await AutoTokenizer.from_pretrained('verifier');
    for (const dtype of dtypes) {
      const model = await AutoModelForCausalLM.from_pretrained('verifier', { dtype, device: 'cpu' });
      const engine = await loadEngine({ verifier: join(dir, 'verifier') }, { intraOpNumThreads: 1, dtype });
      for (const prompt of PROMPTS) {
        const inputs = tokenizer(prompt);
        const promptIds = (inputs.input_ids.tolist() as bigint[][])[0]!.map(Number);
        t.same(promptIds, engine.tokenizer.encode(prompt), `${dtype} ${JSON.stringify(prompt)}: the same prompt ids`);
        const output = await model.generate({ ...inputs, max_new_tokens: NEW_TOKENS, do_sample: false });
        const generated = ((output as { tolist(): bigint[][] }).tolist()[0] ?? []).slice(promptIds.length).map(Number);
        const ours = await engine.generate(prompt, { ...GREEDY, maxTokens: NEW_TOKENS });
        t.ok(ours.tokenIds.length > 0);
        t.same(generated.slice(0, ours.tokenIds.length), ours.tokenIds, `${dtype} ${JSON.stringify(prompt)}: the same continuation`);
      }
      await model.dispose();
      await engine.close();
    }
  });
}
