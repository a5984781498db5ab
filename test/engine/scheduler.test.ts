import t from 'tap';
import { CausalLM } from '../../src/engine/causal-lm.js';
import { ModelDrafter } from '../../src/engine/drafter.js';
import { loadEngine } from '../../src/engine/engine.js';
import { createRandom } from '../../src/engine/random.js';
import { TokenSampler } from '../../src/engine/sampling.js';
import { Scheduler, type StepReport } from '../../src/engine/scheduler.js';
import type { SequenceSpec } from '../../src/engine/sequence.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import type { GenerateOptions, GenerateResult } from '../../src/engine/types.js';
import { GPT2_DRAFTER, GPT2_DRAFTER_NOPOS, GPT2_PACK, GPT2_VERIFIER, GREEDY, MODEL_OPTIONS, PROMPTS } from '../fixtures/engine-models.js';
import { injectFault } from '../fixtures/faulty-model.js';
import { chiSquare, secondTokenMarginal } from '../fixtures/statistics.js';

t.setTimeout(180_000);

const verifier = await CausalLM.load(GPT2_VERIFIER, MODEL_OPTIONS);
const drafterModel = await CausalLM.load(GPT2_DRAFTER, MODEL_OPTIONS);
// Without position_ids: it cannot take rows of different lengths, so it drafts each sequence alone.
const noposModel = await CausalLM.load(GPT2_DRAFTER_NOPOS, MODEL_OPTIONS);
const tokenizer = await TextTokenizer.load(GPT2_VERIFIER);
t.teardown(async () => {
  await verifier.release();
  await drafterModel.release();
  await noposModel.release();
});

const greedy = () => new TokenSampler({ temperature: 0, topK: 0, topP: 1 }, createRandom(0));

function spec(prompt: string, options: Partial<SequenceSpec> = {}): SequenceSpec {
  return {
    group: {},
    drafter: null,
    draftLength: 0,
    promptIds: tokenizer.encode(prompt),
    sampler: greedy(),
    maxTokens: 24,
    stop: [],
    eosTokenIds: [],
    contextLength: verifier.config.contextLength,
    decode: (ids) => tokenizer.decode(ids),
    ...options,
  };
}

/** Each spec decoded alone, one after another. */
async function alone(specs: SequenceSpec[]): Promise<GenerateResult[]> {
  const out: GenerateResult[] = [];
  for (const s of specs) out.push(await new Scheduler(verifier, { maxRows: 1 }).submit(s));
  return out;
}

t.test('greedy output in a batch equals each request alone and plain decoding', async (t) => {
  const drafter = new ModelDrafter('small', drafterModel);
  const nopos = new ModelDrafter('nopos', noposModel);
  t.notOk(noposModel.batchable);
  // Mixed drafters, drafts and lengths, more sequences than rows: rows join, leave and are preempted.
  const make = () =>
    PROMPTS.flatMap((prompt, i) => [
      spec(prompt, { maxTokens: 8 + 5 * (i % 4) }),
      spec(prompt, { drafter: i % 3 === 2 ? nopos : drafter, draftLength: 1 + (i % 5), maxTokens: 30 - 3 * (i % 4), group: i % 3 }),
    ]);
  const steps: StepReport[] = [];
  const batched = new Scheduler(verifier, { maxRows: 5, onStep: (s) => steps.push(s) });
  const together = await Promise.all(make().map((s) => batched.submit(s)));
  const single = await alone(make().map((s) => ({ ...s, drafter: null, draftLength: 0 })));
  let same = 0;
  together.forEach((r, i) => {
    if (r.tokenIds.join() === single[i]!.tokenIds.join() && r.text === single[i]!.text && r.finishReason === single[i]!.finishReason) same++;
    else t.fail(`sequence ${i}: ${r.tokenIds} vs ${single[i]!.tokenIds}`);
  });
  t.equal(same, together.length, `${same} batched sequences identical to plain decoding alone`);
  t.ok(Math.max(...steps.map((s) => s.rows)) === 5, 'passes ran with the full 5 rows');
  t.ok(steps.some((s) => s.waiting > 0), 'sequences waited for rows');
  t.ok(together.some((r) => r.stats.acceptedTokens > 0) && together.some((r) => r.stats.draftedTokens > r.stats.acceptedTokens), 'drafts accepted and rejected');
  t.equal(drafter.size + nopos.size, 0, 'the drafters hold no state once every sequence ended');
});

t.test('sampled rows in a batch keep the verifier distribution (first two tokens)', async (t) => {
  const sampling = { temperature: 1, topK: 0, topP: 1 };
  const promptIds = tokenizer.encode('The quick brown fox');
  const distribution = async (ids: number[]) => {
    const rows = await verifier.forward(verifier.newCache(), ids);
    return new TokenSampler(sampling, createRandom(0)).distribution(rows[rows.length - 1]!);
  };
  const p1 = await distribution(promptIds);
  const p2 = await secondTokenMarginal(p1, (x) => distribution([...promptIds, x]), 1e-4);
  const drafter = new ModelDrafter('small', drafterModel);
  const scheduler = new Scheduler(verifier, { maxRows: 8 });
  const first = new Array<number>(p1.length).fill(0);
  const second = new Array<number>(p1.length).fill(0);
  const n = 1600;
  for (let start = 0; start < n; start += 40) {
    // 40 sequences at a time, beside rows of other prompts, so every pass is a full batch.
    const others = PROMPTS.slice(0, 3).map((p) => scheduler.submit(spec(p, { drafter, draftLength: 4, maxTokens: 12 })));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        scheduler.submit({ ...spec('', { drafter, draftLength: 3, maxTokens: 4 }), promptIds, sampler: new TokenSampler(sampling, createRandom(start + i)) }),
      ),
    );
    await Promise.all(others);
    for (const r of results) {
      first[r.tokenIds[0]!]!++;
      second[r.tokenIds[1]!]!++;
    }
  }
  const c1 = chiSquare(first, p1);
  const c2 = chiSquare(second, p2);
  t.ok(c1.statistic < c1.critical, `first token: chi2 ${c1.statistic.toFixed(1)} < ${c1.critical.toFixed(1)} (df ${c1.df}), TV ${c1.tv.toFixed(3)}`);
  t.ok(c2.statistic < c2.critical, `second token: chi2 ${c2.statistic.toFixed(1)} < ${c2.critical.toFixed(1)} (df ${c2.df}), TV ${c2.tv.toFixed(3)}`);
});

t.test('a request cannot starve another: a later one gets a row within a step', async (t) => {
  const steps: StepReport[] = [];
  const scheduler = new Scheduler(verifier, { maxRows: 4, onStep: (s) => steps.push(s) });
  const big = {};
  const bigOnes = Array.from({ length: 16 }, (_, i) => scheduler.submit(spec(PROMPTS[i % PROMPTS.length]!, { group: big, maxTokens: 60 })));
  while (steps.length < 3) await new Promise((r) => setImmediate(r));
  const submittedAt = steps.length;
  let firstTextAt = -1;
  const small = await scheduler.submit(
    spec('Short one', {
      maxTokens: 6,
      onText: () => {
        if (firstTextAt === -1) firstTextAt = steps.length;
      },
    }),
  );
  t.ok(firstTextAt - submittedAt <= 2, `first text ${firstTextAt - submittedAt} steps after submission`);
  t.equal(small.finishReason, 'length');
  const all = await Promise.all(bigOnes);
  const reference = await alone(Array.from({ length: 16 }, (_, i) => spec(PROMPTS[i % PROMPTS.length]!, { maxTokens: 60 })));
  t.same(
    all.map((r) => r.tokenIds),
    reference.map((r) => r.tokenIds),
    'preempted sequences (prefilled again) still give plain decoding output',
  );
  t.ok(steps.every((s) => s.rows <= 4), 'never more than maxRows rows');
});

t.test('a client that leaves frees its row at the next step; a slow reader holds up only itself', async (t) => {
  const steps: StepReport[] = [];
  const scheduler = new Scheduler(verifier, { maxRows: 4, onStep: (s) => steps.push(s) });
  const controller = new AbortController();
  let slowRelease!: () => void;
  const slowGate = new Promise<void>((resolve) => (slowRelease = resolve));
  // A prompt whose first greedy token is a whole (ASCII) character, so its first step streams text.
  const firsts = await alone(PROMPTS.map((p) => spec(p, { maxTokens: 1 })));
  const ascii = PROMPTS[firsts.findIndex((r) => r.tokenIds[0]! < 128)]!;
  const leaving = scheduler.submit(spec(ascii, { maxTokens: 200, signal: controller.signal, onText: () => controller.abort() }));
  const slow = scheduler.submit(spec(PROMPTS[1]!, { maxTokens: 10, onText: () => slowGate }));
  const others = [2, 3, 4].map((i) => scheduler.submit(spec(PROMPTS[i]!, { maxTokens: 20 })));
  const r = await leaving;
  t.equal(r.finishReason, 'abort');
  t.ok(r.stats.verifierSteps <= 1, 'no step after the one that produced its first text');
  const done = await Promise.all(others);
  t.ok(done.every((x) => x.finishReason === 'length'), 'the others finished while the slow reader had not read');
  slowRelease();
  const s = await slow;
  t.equal(s.finishReason, 'length');
  t.same(
    [s, ...done].map((x) => x.tokenIds),
    (await alone([spec(PROMPTS[1]!, { maxTokens: 10 }), ...[2, 3, 4].map((i) => spec(PROMPTS[i]!, { maxTokens: 20 }))])).map((x) => x.tokenIds),
  );
});

t.test('a drafter fault drops that drafter for its rows only; the batch goes on', async (t) => {
  const drafter = new ModelDrafter('small', drafterModel);
  const errors: string[] = [];
  const fault = injectFault((m) => m === drafterModel, { fault: 'throw', after: 6 });
  t.teardown(() => fault.restore());
  const scheduler = new Scheduler(verifier, { maxRows: 6 });
  const specs = PROMPTS.slice(0, 6).map((p, i) => spec(p, i % 2 ? { drafter, draftLength: 3, onDrafterError: (name) => void errors.push(name) } : {}));
  const results = await Promise.all(specs.map((s) => scheduler.submit(s)));
  fault.restore();
  const reference = await alone(PROMPTS.slice(0, 6).map((p) => spec(p)));
  t.same(
    results.map((r) => r.tokenIds),
    reference.map((r) => r.tokenIds),
    'every sequence still gives plain decoding output',
  );
  t.equal(errors.length, 3, 'each drafted sequence was told once');
  t.ok(fault.faults > 0);
});

t.test('a verifier fault fails the sequences of that pass; later ones run', async (t) => {
  const fault = injectFault((m) => m === verifier, { fault: 'nan', after: 4, times: 1 });
  t.teardown(() => fault.restore());
  const scheduler = new Scheduler(verifier, { maxRows: 4 });
  const settled = await Promise.allSettled(PROMPTS.slice(0, 3).map((p) => scheduler.submit(spec(p))));
  t.ok(settled.some((s) => s.status === 'rejected' && (s.reason as { code?: string }).code === 'FS_MODEL_FAULT'), 'an FS_MODEL_FAULT');
  const after = await scheduler.submit(spec(PROMPTS[0]!));
  t.equal(after.finishReason, 'length', 'the scheduler goes on');
});

t.test('Engine.generate runs requests together', async (t) => {
  const engine = await loadEngine(GPT2_PACK, { ...MODEL_OPTIONS, maxBatchRows: 4 });
  t.teardown(() => engine.close());
  const steps: StepReport[] = [];
  engine.onStep((s) => steps.push(s));
  const options = (o: Partial<GenerateOptions>): GenerateOptions => ({ ...GREEDY, maxTokens: 16, ...o });
  const runs = await Promise.all(PROMPTS.slice(0, 4).map((p, i) => engine.generate(p, options(i % 2 ? { drafter: 'small', draftLength: 3 } : {}))));
  const serial: GenerateResult[] = [];
  for (const p of PROMPTS.slice(0, 4)) serial.push(await engine.generate(p, options({})));
  t.same(
    runs.map((r) => r.tokenIds),
    serial.map((r) => r.tokenIds),
  );
  t.ok(steps.some((s) => s.rows === 4), 'four rows in one pass');
  t.same(engine.sequences, { running: 0, waiting: 0 });

  // A seeded sampled request keeps its γ under load, so it repeats what it gives alone.
  const seeded = (p: string, i: number) => engine.generate(p, options({ drafter: 'small', draftLength: 4, temperature: 1, seed: 40 + i, maxTokens: 24 }));
  const loaded = await Promise.all(PROMPTS.slice(0, 6).map((p, i) => (i < 3 ? seeded(p, i) : engine.generate(p, options({ maxTokens: 30 })))));
  for (let i = 0; i < 3; i++) t.same(loaded[i]!.tokenIds, (await seeded(PROMPTS[i]!, i)).tokenIds, `seeded request ${i}: the same tokens in a batch as alone`);
});
