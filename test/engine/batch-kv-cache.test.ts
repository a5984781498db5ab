import t from 'tap';
import { CausalLM } from '../../src/engine/causal-lm.js';
import { GPT2_VERIFIER, LLAMA, maxAbsDiff, MODEL_OPTIONS } from '../fixtures/engine-models.js';

t.setTimeout(120_000);

/** Logits after each of `ids` from one pass over them alone: the reference. */
async function reference(model: CausalLM, ids: number[]): Promise<Float32Array[]> {
  return model.forward(model.newCache(), ids);
}

for (const dir of [GPT2_VERIFIER, LLAMA]) {
  t.test(`${dir.split('/').pop()}: rows of different lengths, pads, truncation, joins and leaves give each row's own logits`, async (t) => {
    // Dead slots never trigger a compaction here, so the only rebuilds are joins without a free row.
    const model = await CausalLM.load(dir, { ...MODEL_OPTIONS, compactDeadFraction: 1 });
    t.teardown(() => model.release());
    const cache = model.newBatchCache();
    const prompts = [[5, 6, 7, 8, 9, 10, 11], [20, 21], [30, 31, 32, 33]];
    // Two rows adopt one prefilled row, as choices of one prompt do.
    const shared = await model.prefill(prompts[0]!);
    const rows = [cache.adopt(shared.row), cache.adopt(shared.row), cache.adopt((await model.prefill(prompts[1]!)).row)];
    const seqs = [[...prompts[0]!], [...prompts[0]!], [...prompts[1]!]];
    let worst = 0;
    const step = async (feeds: number[][], keep: number[]) => {
      cache.prepare(Math.max(1, ...feeds.map((f) => f.length)));
      const tokens = cache.rows.map((r) => {
        const i = rows.indexOf(r);
        return i === -1 ? [] : feeds[i]!;
      });
      const out = await model.forwardBatch(cache, tokens);
      for (const [i, row] of rows.entries()) {
        if (feeds[i]!.length === 0) continue;
        const ref = await reference(model, [...seqs[i]!, ...feeds[i]!]);
        out[row.index]!.forEach((logits, k) => (worst = Math.max(worst, maxAbsDiff(logits, ref[seqs[i]!.length + k]!))));
        seqs[i]!.push(...feeds[i]!.slice(0, keep[i]!));
        cache.truncate(row, seqs[i]!.length);
      }
    };
    await step([[1, 2, 3], [4], [40, 41, 42, 43, 44]], [2, 1, 1]);
    t.equal(rows[0]!.length, seqs[0]!.length, 'truncating one row of a shared prefill leaves the other alone');
    t.equal(rows[1]!.length, seqs[1]!.length);
    await step([[12], [], [45, 46]], [1, 0, 2]);
    // The second row leaves, a new one joins into its place.
    cache.remove(rows[1]!);
    rows[1] = cache.adopt((await model.prefill(prompts[2]!)).row);
    seqs[1] = [...prompts[2]!];
    const rebuildsBefore = cache.rebuilds;
    await step([[13, 14], [50, 51, 52], [47]], [1, 3, 0]);
    t.equal(cache.rebuilds, rebuildsBefore, 'the joining row took the slots of the one that left: no rebuild');
    for (let k = 0; k < 6; k++) await step([[60 + k, 61], [70 + k], [80, 81, 82]], [1, 1, 1]);
    t.ok(cache.slots > Math.max(...rows.map((r) => r.length)), 'rows with holes');
    t.ok(worst < 1e-4, `largest logit difference from each sequence alone: ${worst.toExponential(2)}`);
    t.same(
      rows.map((r) => r.length),
      seqs.map((s) => s.length),
    );
  });
}
