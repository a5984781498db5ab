// The shipped pack is a standard Hugging Face model: transformers.js loads the verifier from
// the local folder (remote access disabled) and its greedy generation matches fairspec's own
// plain decoding token for token. Skipped while the pack is absent.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { loadEngine } from '../../src/engine/engine.js';

const packDir = process.env['FAIRSPEC_TEST_PACK']
  ? resolve(process.env['FAIRSPEC_TEST_PACK'])
  : fileURLToPath(new URL('../../models/default', import.meta.url));
const present = existsSync(join(packDir, 'verifier', 'onnx', 'model.onnx'));

const PROMPTS = ['The configuration file ', 'Die Datei ', 'Файл конфигурации ', '設定ファイル'];
const NEW_TOKENS = 12;

t.test('transformers.js loads the shipped verifier and generates like fairspec', { skip: !present && 'models/default is absent' }, async (t) => {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = packDir + '/';
  const tokenizer = await AutoTokenizer.from_pretrained('verifier');
  const model = await AutoModelForCausalLM.from_pretrained('verifier', { dtype: 'fp32', device: 'cpu' });
  const engine = await loadEngine(packDir, { intraOpNumThreads: 1 });
  t.teardown(() => engine.close());

  for (const prompt of PROMPTS) {
    const inputs = tokenizer(prompt);
    const promptIds: bigint[] = (inputs.input_ids.tolist() as bigint[][])[0]!;
    t.same(promptIds.map(Number), [...Buffer.from(prompt, 'utf8')], `byte-level ids for ${prompt}`);
    const output = await model.generate({ ...inputs, max_new_tokens: NEW_TOKENS, do_sample: false });
    const generated = ((output as { tolist(): bigint[][] }).tolist()[0] ?? []).slice(promptIds.length).map(Number);
    const ours = await engine.generate(prompt, {
      maxTokens: NEW_TOKENS, temperature: 0, topP: 1, topK: 0, stop: [], drafter: null, draftLength: 0,
    });
    t.same(generated.slice(0, ours.tokenIds.length), ours.tokenIds, `greedy continuation of ${JSON.stringify(prompt)}`);
    t.ok(ours.tokenIds.length > 0, 'fairspec generated tokens');
  }
  await model.dispose();
});
