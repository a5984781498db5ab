// Which onnx/model*.onnx a model folder loads: transformers.js' file names, the folder's
// fairspec.json over the engine default (FAIRSPEC_DTYPE), and errors that name what is there.

import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadEngine } from '../../src/engine/engine.js';
import { packModelPaths } from '../../src/engine/model-pack.js';
import { MODEL_DTYPES, dtypeOfFile, modelFileName, readFolderDtype, resolveModelFile } from '../../src/engine/model-dtype.js';
import { LLAMA_SP_PACK, MODEL_OPTIONS, QWEN2_PACK } from '../fixtures/engine-models.js';

const QWEN2_VERIFIER = join(QWEN2_PACK, 'verifier');

function scratchCopy(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fairspec-dtype-'));
  cpSync(source, dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('file names are transformers.js\' DEFAULT_DTYPE_SUFFIX_MAPPING', async (t) => {
  // Read from its source: the package's exports do not reach src/utils/dtypes.js.
  const source = readFileSync(fileURLToPath(new URL('../../node_modules/@huggingface/transformers/src/utils/dtypes.js', import.meta.url)), 'utf8');
  const block = /DEFAULT_DTYPE_SUFFIX_MAPPING = Object\.freeze\(\{([\s\S]*?)\}\)/.exec(source)?.[1] ?? '';
  const theirs = Object.fromEntries([...block.matchAll(/\[DATA_TYPES\.(\w+)\]:\s*'(\w*)'/g)].map((m) => [m[1]!, `model${m[2]}.onnx`]));
  t.ok(Object.keys(theirs).length >= 8, `${Object.keys(theirs).length} dtypes in transformers.js`);
  t.same(Object.fromEntries(MODEL_DTYPES.map((d) => [d, modelFileName(d)])), theirs);
  t.match(
    { fp32: modelFileName('fp32'), fp16: modelFileName('fp16'), q8: modelFileName('q8'), int8: modelFileName('int8'), q4f16: modelFileName('q4f16') },
    { fp32: 'model.onnx', fp16: 'model_fp16.onnx', q8: 'model_quantized.onnx', int8: 'model_int8.onnx', q4f16: 'model_q4f16.onnx' },
  );
  t.equal(dtypeOfFile('model_q4.onnx'), 'q4');
  t.equal(dtypeOfFile('decoder_model_merged.onnx'), undefined);
});

t.test('the folder\'s fairspec.json wins over the default, which wins over fp32', async (t) => {
  t.match(await resolveModelFile(QWEN2_VERIFIER), { dtype: 'fp32', source: 'default', path: join(QWEN2_VERIFIER, 'onnx', 'model.onnx') });
  t.match(await resolveModelFile(QWEN2_VERIFIER, 'q4'), { dtype: 'q4', source: 'default', path: join(QWEN2_VERIFIER, 'onnx', 'model_q4.onnx') });
  const dir = scratchCopy(QWEN2_VERIFIER);
  writeFileSync(join(dir, 'fairspec.json'), JSON.stringify({ dtype: 'q4f16' }));
  t.equal(await readFolderDtype(dir), 'q4f16');
  t.match(await resolveModelFile(dir, 'fp16'), { dtype: 'q4f16', source: 'fairspec.json', path: join(dir, 'onnx', 'model_q4f16.onnx') });
  writeFileSync(join(dir, 'fairspec.json'), '{}');
  t.match(await resolveModelFile(dir, 'fp16'), { dtype: 'fp16', source: 'default' }, 'a fairspec.json without dtype leaves the default');
});

t.test('a missing file or a bad fairspec.json fails naming it', async (t) => {
  const dir = scratchCopy(join(QWEN2_PACK, 'drafter-tiny'));
  await t.rejects(resolveModelFile(dir, 'q4', 'qwen2/drafter-tiny'), {
    code: 'FS_MODEL_LOAD',
    message: 'qwen2/drafter-tiny: dtype q4, from the default dtype (FAIRSPEC_DTYPE), needs onnx/model_q4.onnx; onnx/ has model.onnx (fp32), model_fp16.onnx (fp16)',
    details: { dtype: 'q4', available: ['fp32', 'fp16'] },
  });
  writeFileSync(join(dir, 'fairspec.json'), JSON.stringify({ dtype: 'q8' }));
  await t.rejects(resolveModelFile(dir), { code: 'FS_MODEL_LOAD', message: /dtype q8, from its fairspec\.json, needs onnx\/model_quantized\.onnx/ });
  for (const [text, field] of [
    ['{"dtype": "fp8"}', 'dtype'],
    ['{"dtype": 16}', 'dtype'],
    ['{"dtypes": "fp16"}', 'dtypes'],
    ['["fp16"]', ''],
  ] as const) {
    writeFileSync(join(dir, 'fairspec.json'), text);
    await t.rejects(readFolderDtype(dir), { code: 'FS_MODEL_CONFIG', details: { field } }, text);
  }
  writeFileSync(join(dir, 'fairspec.json'), '{"dtype": ');
  await t.rejects(readFolderDtype(dir), { code: 'FS_MODEL_CONFIG', message: /not valid JSON/ });
  await t.rejects(resolveModelFile('/nonexistent/model'), { code: 'FS_MODEL_LOAD', message: /onnx\/ has no model\*\.onnx file at all/ });
});

t.test('a pack counts drafters of any dtype, and a drafter without the file of its dtype stops the load', async (t) => {
  const pack = scratchCopy(QWEN2_PACK);
  unlinkSync(join(pack, 'drafter-tiny', 'onnx', 'model.onnx'));
  const paths = await packModelPaths(pack);
  t.same(Object.keys(paths.drafters ?? {}), ['tiny'], 'a drafter with only model_fp16.onnx is still a drafter');
  await t.rejects(loadEngine(pack, MODEL_OPTIONS), { code: 'FS_MODEL_LOAD', message: /drafter-tiny: dtype fp32, from the default dtype \(FAIRSPEC_DTYPE\), needs onnx\/model\.onnx; onnx\/ has model_fp16\.onnx \(fp16\)/ });
  const engine = await loadEngine(pack, { ...MODEL_OPTIONS, dtype: 'fp16' });
  t.teardown(() => engine.close());
  t.equal(engine.verifier.dtype, 'fp16');
  const [drafter] = await engine.drafters();
  t.equal(drafter?.bytes, statSync(join(pack, 'drafter-tiny', 'onnx', 'model_fp16.onnx')).size, 'onnx_bytes: the loaded file only');

  unlinkSync(join(pack, 'drafter-tiny', 'onnx', 'model_fp16.onnx'));
  t.same(Object.keys((await packModelPaths(pack)).drafters ?? {}), [], 'a folder without any model*.onnx is no drafter');
});

t.test('onnx_bytes counts the loaded graph and its external data', async (t) => {
  const verifier = join(LLAMA_SP_PACK, 'verifier');
  const engine = await loadEngine({ verifier, drafters: { merged: verifier } }, MODEL_OPTIONS);
  t.teardown(() => engine.close());
  const [drafter] = await engine.drafters();
  const size = (name: string) => statSync(join(verifier, 'onnx', name)).size;
  t.equal(drafter?.bytes, size('model.onnx') + size('model.onnx_data'), 'not model_fp16.onnx beside them');
});
