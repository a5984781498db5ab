// ONNX parity against PyTorch (export_onnx.py's parity.json) and decode-step timing,
// run with onnxruntime-node: the runtime the server uses (Debian has no Python onnxruntime).
// usage: node check_onnx.mjs <model-dir> [--parity parity.json] [--time out.json] [--threads N]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const args = process.argv.slice(2);
const modelDir = args[0];
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const threads = Number(opt('--threads') ?? 2);

const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'));
const layers = config.n_layer, heads = config.n_head, headDim = config.n_embd / config.n_head, vocab = config.vocab_size;
const session = await ort.InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'), {
  intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
});

const i64 = (xs) => new ort.Tensor('int64', BigInt64Array.from(xs.map(BigInt)), [1, xs.length]);
function emptyPast() {
  const past = [];
  for (let i = 0; i < layers; i++) for (let j = 0; j < 2; j++) past.push(new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]));
  return past;
}
async function step(ids, positions, mask, past) {
  const feeds = { input_ids: i64(ids), position_ids: i64(positions), attention_mask: i64(mask) };
  for (let i = 0; i < layers; i++) {
    feeds[`past_key_values.${i}.key`] = past[2 * i];
    feeds[`past_key_values.${i}.value`] = past[2 * i + 1];
  }
  const out = await session.run(feeds);
  const present = [];
  for (let i = 0; i < layers; i++) present.push(out[`present.${i}.key`], out[`present.${i}.value`]);
  return { logits: out.logits.data, present };
}
const range = (a, b) => Array.from({ length: b - a }, (_, k) => a + k);

function maxDiff(onnxLogits, ref, fromRow) {
  let worst = 0;
  for (let r = 0; r < onnxLogits.length / vocab; r++)
    for (let v = 0; v < vocab; v++) worst = Math.max(worst, Math.abs(onnxLogits[r * vocab + v] - ref[fromRow + r][v]));
  return worst;
}

let failed = false;
const parityPath = opt('--parity');
if (parityPath) {
  const { input_ids: ids, logits: ref, tolerance } = JSON.parse(readFileSync(parityPath, 'utf8'));
  const n = ids.length;
  const results = [];
  const full = await step(ids, range(0, n), ids.map(() => 1), emptyPast());
  results.push(['no cache', maxDiff(full.logits, ref, 0)]);
  for (const k of [1, 17, 40].filter((k) => k < n)) {
    const prefix = await step(ids.slice(0, k), range(0, k), Array(k).fill(1), emptyPast());
    const rest = await step(ids.slice(k), range(k, n), Array(n).fill(1), prefix.present);
    results.push([`cache, past ${k}`, maxDiff(rest.logits, ref, k)]);
    // Rejected-draft holes: three slots masked out, positions continue logically.
    const junk = await step([7, 7, 7], [k, k + 1, k + 2], Array(k + 3).fill(1), prefix.present);
    const mask = [...Array(k).fill(1), 0, 0, 0, ...Array(n - k).fill(1)];
    const afterHoles = await step(ids.slice(k), range(k, n), mask, junk.present);
    results.push([`cache with 3 masked slots, past ${k}`, maxDiff(afterHoles.logits, ref, k)]);
  }
  for (const [name, diff] of results) {
    const ok = diff <= tolerance;
    failed ||= !ok;
    console.log(`${ok ? 'ok' : 'FAIL'} parity ${name}: max |logit diff| ${diff.toExponential(2)} (tolerance ${tolerance})`);
  }
}

const timePath = opt('--time');
if (timePath) {
  const ctxLen = Math.min(256, config.n_positions - 16), reps = Number(opt('--reps') ?? 60);
  const ids = range(0, ctxLen).map((i) => 32 + (i % 90));
  const prefix = await step(ids, range(0, ctxLen), Array(ctxLen).fill(1), emptyPast());
  const timings = {};
  for (const k of [1, 2, 3, 4, 5, 6, 8]) {
    const samples = [];
    for (let r = 0; r < reps + 5; r++) {
      const t0 = process.hrtime.bigint();
      await step(ids.slice(0, k), range(ctxLen, ctxLen + k), Array(ctxLen + k).fill(1), prefix.present);
      if (r >= 5) samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    samples.sort((a, b) => a - b);
    timings[k] = samples[samples.length >> 1];
  }
  const result = { model: modelDir, threads, past_length: ctxLen, median_ms_by_tokens: timings, ratio_5_to_1: timings[5] / timings[1] };
  writeFileSync(timePath, JSON.stringify(result, null, 1));
  console.log(JSON.stringify(result));
}
process.exit(failed ? 1 : 0);
