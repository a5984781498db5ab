// What CausalLM feeds and loads beyond the plain decoder-with-past graph: external data beside the
// graph, num_logits_to_keep, and a merged decoder's use_cache_branch. Each check shows first that
// the fixture graph does depend on the thing (through onnxruntime directly), then that the engine
// gets it right.

import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { CausalLM, checkModelIo } from '../../src/engine/causal-lm.js';
import { LLAMA_SP_PACK, MODEL_OPTIONS, QWEN2_PACK, maxAbsDiff, readReference } from '../fixtures/engine-models.js';

const MERGED = join(LLAMA_SP_PACK, 'verifier');
const TRIMMING = join(QWEN2_PACK, 'verifier');

function scratchCopy(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fairspec-lm-'));
  cpSync(source, dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Feeds for one step of `n` tokens over an empty past (or a zero past of `past` slots). */
function feedsFor(session: InferenceSession, n: number, past = 0): Record<string, Tensor> {
  const meta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
  const [, heads, , headDim] = (meta?.isTensor ? meta.shape : []) as readonly number[];
  const feeds: Record<string, Tensor> = {
    input_ids: new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(10 + i)), [1, n]),
    attention_mask: new Tensor('int64', new BigInt64Array(past + n).fill(1n), [1, past + n]),
    position_ids: new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(past + i)), [1, n]),
  };
  for (const name of session.inputNames.filter((x) => x.startsWith('past_key_values.'))) {
    feeds[name] = new Tensor('float32', new Float32Array(heads! * past * headDim!), [1, heads!, past, headDim!]);
  }
  return feeds;
}

t.test('checkModelIo knows num_logits_to_keep and use_cache_branch', async (t) => {
  const inputs = ['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value'];
  const outputs = ['logits', 'present.0.key', 'present.0.value'];
  t.match(checkModelIo([...inputs, 'num_logits_to_keep'], outputs, 1, 'm'), { numLogitsToKeep: true, useCacheBranch: false });
  t.match(checkModelIo([...inputs, 'use_cache_branch'], outputs, 1, 'm'), { numLogitsToKeep: false, useCacheBranch: true });
  t.throws(() => checkModelIo([...inputs, 'logits_to_keep'], outputs, 1, 'm'), { code: 'FS_MODEL_IO', details: { input: 'logits_to_keep' } });
});

t.test('external data: the weights are in model.onnx_data beside the graph, and onnxruntime reads them from there', async (t) => {
  const graph = statSync(join(MERGED, 'onnx', 'model.onnx')).size;
  const data = statSync(join(MERGED, 'onnx', 'model.onnx_data')).size;
  t.ok(data > graph, `model.onnx_data (${data} B) holds more than model.onnx (${graph} B)`);
  const lm = await CausalLM.load(MERGED, MODEL_OPTIONS);
  t.teardown(() => lm.release());
  const ref = readReference(MERGED);
  const rows = await lm.forward(lm.newCache(), ref.tokenIds);
  const worst = Math.max(...ref.logits.map((row, i) => maxAbsDiff(rows[rows.length - ref.lastPositions + i]!, row)));
  t.ok(worst < 2e-4, `logits match torch (${worst.toExponential(2)})`);

  const without = scratchCopy(MERGED);
  unlinkSync(join(without, 'onnx', 'model.onnx_data'));
  await t.rejects(CausalLM.load(without, MODEL_OPTIONS), { code: 'FS_MODEL_LOAD', message: /onnxruntime could not load/ }, 'the data file is needed');

  // The graph names its data file; one that leads out of onnx/ is refused by onnxruntime itself.
  const escaping = scratchCopy(MERGED);
  const path = join(escaping, 'onnx', 'model.onnx');
  const bytes = readFileSync(path);
  const from = Buffer.from('model.onnx_data');
  const to = Buffer.from('../../outside_d'); // same length: the protobuf string lengths stay right
  let patched = 0;
  for (let i = bytes.indexOf(from); i >= 0; i = bytes.indexOf(from, i + 1), patched++) to.copy(bytes, i);
  t.ok(patched > 0, `${patched} tensors name their data file`);
  writeFileSync(path, bytes);
  cpSync(join(MERGED, 'onnx', 'model.onnx_data'), join(escaping, '..', 'outside_d'));
  t.teardown(() => rmSync(join(escaping, '..', 'outside_d'), { force: true }));
  await t.rejects(CausalLM.load(escaping, MODEL_OPTIONS), { code: 'FS_MODEL_LOAD', message: /escapes model directory/ });
});

t.test('num_logits_to_keep: the graph trims logits unless fed 0, and the engine feeds 0', async (t) => {
  const session = await InferenceSession.create(join(TRIMMING, 'onnx', 'model.onnx'));
  t.teardown(() => session.release());
  t.ok(session.inputNames.includes('num_logits_to_keep'));
  const keep = async (k: number) => (await session.run({ ...feedsFor(session, 4), num_logits_to_keep: new Tensor('int64', BigInt64Array.from([BigInt(k)]), []) }))['logits']!.dims;
  t.same(await keep(1), [1, 1, 456], '1: the last position only');
  t.same(await keep(3), [1, 3, 456]);
  t.same(await keep(0), [1, 4, 456], '0: every position');

  const lm = await CausalLM.load(TRIMMING, MODEL_OPTIONS);
  t.teardown(() => lm.release());
  const cache = lm.newCache();
  t.equal((await lm.forward(cache, [1, 2, 3, 4, 5])).length, 5, 'a logits row per prompt token');
  t.equal((await lm.forward(cache, [6, 7, 8])).length, 3, 'and per verified draft token');
});

t.test('use_cache_branch: the merged graph runs its no-past branch only without a past, as the engine feeds it', async (t) => {
  const session = await InferenceSession.create(join(MERGED, 'onnx', 'model.onnx'));
  t.teardown(() => session.release());
  const branch = (v: boolean) => new Tensor('bool', [v], [1]);
  const first = await session.run({ ...feedsFor(session, 3), use_cache_branch: branch(false) });
  t.same(first['present.0.key']!.dims.slice(2, 3), [3]);
  await t.rejects(session.run({ ...feedsFor(session, 2, 3), use_cache_branch: branch(false) }), /If node/, 'the no-past branch cannot take a past');

  const lm = await CausalLM.load(MERGED, MODEL_OPTIONS);
  t.teardown(() => lm.release());
  t.ok(lm.inputNames.includes('use_cache_branch'));
  const ids = readReference(MERGED).tokenIds;
  const cache = lm.newCache();
  const stepwise: Float32Array[] = [];
  for (const [from, to] of [[0, 5], [5, 6], [6, 9], [9, ids.length]] as const) stepwise.push(...(await lm.forward(cache, ids.slice(from, to))));
  cache.truncate(4);
  cache.truncate(0);
  const again = await lm.forward(cache, ids.slice(0, 5));
  const full = await lm.forward(lm.newCache(), ids);
  t.ok(Math.max(...full.map((row, i) => maxAbsDiff(row, stepwise[i]!))) < 1e-4, 'steps over a past equal one full pass');
  t.ok(Math.max(...again.map((row, i) => maxAbsDiff(row, full[i]!))) < 1e-4, 'a cache truncated to nothing starts over with the no-past branch');
});
