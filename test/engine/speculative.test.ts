import t from 'tap';
import { CausalLM } from '../../src/engine/causal-lm.js';
import { ModelDrafter, type DraftRequest } from '../../src/engine/drafter.js';
import { loadEngine, type Engine } from '../../src/engine/engine.js';
import { createRandom } from '../../src/engine/random.js';
import { TokenSampler, argmax, softmax } from '../../src/engine/sampling.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import type { SequenceSpec } from '../../src/engine/sequence.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import type { GenerateOptions, GenerateResult, SamplingOptions } from '../../src/engine/types.js';
import {
  GPT2_DRAFTER,
  GPT2_PACK,
  GPT2_VERIFIER,
  GREEDY,
  LLAMA,
  LLAMA_F16,
  MODEL_OPTIONS,
  PROMPTS,
} from '../fixtures/engine-models.js';
import { chiSquare, secondTokenMarginal } from '../fixtures/statistics.js';

// Well under 30 s on an idle machine; the margin is for two cores shared with a training job.
t.setTimeout(120_000);

const gpt2 = await loadEngine(GPT2_PACK, MODEL_OPTIONS);
const llama = await loadEngine({ verifier: LLAMA, drafters: { gpt2: GPT2_DRAFTER, f16: LLAMA_F16 } }, MODEL_OPTIONS);
t.teardown(async () => {
  await gpt2.close();
  await llama.close();
});

/** One sequence decoded alone by the scheduler, straight from its parts. */
function generateSpeculative(req: Omit<SequenceSpec, 'group' | 'contextLength'> & { verifier: CausalLM }): Promise<GenerateResult> {
  const { verifier, ...spec } = req;
  return new Scheduler(verifier, { maxRows: 1 }).submit({ ...spec, group: {}, contextLength: verifier.config.contextLength });
}

/** generate() that also checks the streamed deltas add up to the text. */
async function generate(engine: Engine, prompt: string, options: Partial<GenerateOptions>): Promise<GenerateResult & { deltas: string[] }> {
  const deltas: string[] = [];
  const result = await engine.generate(prompt, { ...GREEDY, ...options, onText: (d) => void deltas.push(d) });
  if (deltas.join('') !== result.text) throw new Error(`streamed ${JSON.stringify(deltas.join(''))} but returned ${JSON.stringify(result.text)}`);
  if (deltas.some((d) => d.length === 0 || /\p{Cs}/u.test(d))) throw new Error('an empty delta or a lone surrogate');
  return { ...result, deltas };
}

t.test('greedy speculative output equals plain greedy output token for token', async (t) => {
  for (const [engine, drafters] of [
    [gpt2, ['small', 'nopos']],
    [llama, ['gpt2', 'f16']],
  ] as const) {
    let drafted = 0;
    let accepted = 0;
    let compared = 0;
    for (const prompt of PROMPTS) {
      const plain = await generate(engine, prompt, {});
      t.equal(plain.stats.verifierSteps, plain.completionTokens, 'γ = 0: one verifier pass per token');
      for (const drafter of drafters) {
        for (const draftLength of [1, 2, 4, 7]) {
          const spec = await generate(engine, prompt, { drafter, draftLength });
          if (spec.tokenIds.join() !== plain.tokenIds.join() || spec.text !== plain.text || spec.finishReason !== plain.finishReason) {
            t.fail(`${engine.verifierId} ${drafter} γ=${draftLength} ${JSON.stringify(prompt)}: ${spec.tokenIds} vs ${plain.tokenIds}`);
          }
          compared++;
          drafted += spec.stats.draftedTokens;
          accepted += spec.stats.acceptedTokens;
        }
      }
    }
    t.pass(`${engine.verifierId}: ${compared} speculative runs identical to γ = 0`);
    t.ok(accepted > 0.05 * drafted && accepted < 0.95 * drafted, `${engine.verifierId}: drafts both accepted and rejected (${accepted} of ${drafted})`);
  }
});

t.test('seeded sampling is reproducible', async (t) => {
  for (const options of [{}, { drafter: 'small', draftLength: 3 }]) {
    const sampled = { ...options, temperature: 1, maxTokens: 20 };
    const a = await generate(gpt2, 'Hello', { ...sampled, seed: 11 });
    const b = await generate(gpt2, 'Hello', { ...sampled, seed: 11 });
    t.same(b.tokenIds, a.tokenIds, `same seed, same tokens ${JSON.stringify(options)}`);
    const others = await Promise.all([12, 13, 14].map((seed) => generate(gpt2, 'Hello', { ...sampled, seed })));
    t.ok(
      others.some((o) => o.tokenIds.join() !== a.tokenIds.join()),
      'another seed, other tokens',
    );
  }
});

/** The verifier's processed next-token distribution after `prompt`. */
async function verifierDistribution(verifier: CausalLM, ids: number[], sampling: SamplingOptions): Promise<Float64Array> {
  const rows = await verifier.forward(verifier.newCache(), ids);
  return new TokenSampler(sampling, createRandom(0)).distribution(rows[rows.length - 1]!);
}

t.test('speculative sampling follows the verifier distribution (first two tokens)', async (t) => {
  const verifier = await CausalLM.load(GPT2_VERIFIER, MODEL_OPTIONS);
  const drafterModel = await CausalLM.load(GPT2_DRAFTER, MODEL_OPTIONS);
  const tokenizer = await TextTokenizer.load(GPT2_VERIFIER);
  t.teardown(async () => {
    await verifier.release();
    await drafterModel.release();
  });
  const promptIds = tokenizer.encode('The quick brown fox');
  const n = 2000;
  for (const sampling of [
    { temperature: 1, topK: 0, topP: 1 },
    { temperature: 0.8, topK: 30, topP: 0.9 },
  ]) {
    const p1 = await verifierDistribution(verifier, promptIds, sampling);
    const p2 = await secondTokenMarginal(p1, (x) => verifierDistribution(verifier, [...promptIds, x], sampling), 1e-4);
    const first = new Array<number>(p1.length).fill(0);
    const second = new Array<number>(p1.length).fill(0);
    let drafted = 0;
    let accepted = 0;
    for (let seed = 0; seed < n; seed++) {
      const result = await generateSpeculative({
        verifier,
        drafter: new ModelDrafter('small', drafterModel),
        draftLength: 3,
        promptIds,
        sampler: new TokenSampler(sampling, createRandom(seed)),
        maxTokens: 4, // room for all 3 drafts and the bonus token in the first step
        stop: [],
        eosTokenIds: [],
        decode: () => '',
      });
      first[result.tokenIds[0]!]!++;
      second[result.tokenIds[1]!]!++;
      drafted += result.stats.draftedTokens;
      accepted += result.stats.acceptedTokens;
    }
    const c1 = chiSquare(first, p1);
    const c2 = chiSquare(second, p2);
    const label = `T=${sampling.temperature} k=${sampling.topK} p=${sampling.topP}`;
    // Significance 0.001 per check; the TV distance is reported for scale.
    t.ok(c1.statistic < c1.critical, `${label} first token: chi2 ${c1.statistic.toFixed(1)} < ${c1.critical.toFixed(1)} (df ${c1.df}), TV ${c1.tv.toFixed(3)}`);
    t.ok(c2.statistic < c2.critical, `${label} second token: chi2 ${c2.statistic.toFixed(1)} < ${c2.critical.toFixed(1)} (df ${c2.df}), TV ${c2.tv.toFixed(3)}`);
    t.ok(accepted > 200 && drafted - accepted > 200, `${label}: both paths exercised, ${accepted} of ${drafted} drafts accepted`);
  }
});

/** Verifier logits at every generated position, from one full forward pass. */
async function logitsAlong(engine: Engine, prompt: string, tokenIds: number[]): Promise<Float32Array[]> {
  const promptIds = engine.tokenizer.encode(prompt);
  const rows = await engine.verifier.forward(engine.verifier.newCache(), [...promptIds, ...tokenIds]);
  return tokenIds.map((_, i) => rows[promptIds.length - 1 + i]!);
}

t.test('each sampling option changes the output observably', async (t) => {
  const prompt = 'Sampling options';
  const greedy = await generate(gpt2, prompt, {});
  for (const speculative of [{}, { drafter: 'small', draftLength: 3 }]) {
    const label = speculative.drafter ? 'γ=3' : 'γ=0';
    const sample = (o: Partial<GenerateOptions>) => generate(gpt2, prompt, { ...speculative, temperature: 1, seed: 5, ...o });
    const base = await sample({});
    t.not(base.tokenIds.join(), greedy.tokenIds.join(), `${label}: temperature 1 is not greedy`);

    // Lower temperatures pick likelier tokens: compare the verifier's own (temperature 1) mean
    // log-probability of the sampled tokens over a few seeds.
    const meanLogProb = async (temperature: number) => {
      let sum = 0;
      let count = 0;
      for (const seed of [1, 2, 3, 4]) {
        const r = await sample({ temperature, seed });
        const rows = await logitsAlong(gpt2, prompt, r.tokenIds);
        r.tokenIds.forEach((x, i) => {
          sum += Math.log(softmax(rows[i]!)[x]!);
          count++;
        });
      }
      return sum / count;
    };
    const [cold, warm, hot] = [await meanLogProb(0.3), await meanLogProb(1), await meanLogProb(2.5)];
    t.ok(cold > warm && warm > hot, `${label}: mean log p at T = 0.3, 1, 2.5: ${[cold, warm, hot].map((x) => x.toFixed(2))}`);

    t.same((await sample({ topK: 1 })).tokenIds, greedy.tokenIds, `${label}: top_k 1 is greedy`);
    const topK = await sample({ topK: 3 });
    t.not(topK.tokenIds.join(), base.tokenIds.join(), `${label}: top_k 3 changes the output`);
    const rowsK = await logitsAlong(gpt2, prompt, topK.tokenIds);
    t.ok(
      topK.tokenIds.every((x, i) => Array.from(rowsK[i]!).filter((v) => v > rowsK[i]![x]!).length < 3),
      `${label}: every token is among the verifier's top 3`,
    );

    t.same((await sample({ topP: 1e-6 })).tokenIds, greedy.tokenIds, `${label}: a tiny top_p is greedy`);
    const topP = await sample({ topP: 0.5 });
    t.not(topP.tokenIds.join(), base.tokenIds.join(), `${label}: top_p 0.5 changes the output`);
    const rowsP = await logitsAlong(gpt2, prompt, topP.tokenIds);
    const inNucleus = topP.tokenIds.every((x, i) => {
      const p = softmax(rowsP[i]!);
      const above = Array.from(p).filter((v) => v > p[x]!).reduce((a, b) => a + b, 0);
      return above < 0.5; // the nucleus holds x only if the mass strictly above it is below top_p
    });
    t.ok(inNucleus, `${label}: every token is inside the verifier's 0.5 nucleus`);
  }
});

t.test('stop strings end the output before the stop string, even across tokens and drafts', async (t) => {
  for (const prompt of ['Stop here', 'Another prompt', 'Быстрая лиса']) {
    const full = await generate(gpt2, prompt, { maxTokens: 30 });
    let at = 3;
    while (at < full.text.length - 3 && /\uFFFD/.test(full.text.slice(at, at + 3))) at++;
    const stop = full.text.slice(at, at + 3);
    t.ok(Buffer.byteLength(stop) >= 3, `stop string ${JSON.stringify(stop)} spans tokens`);
    const expected = full.text.slice(0, full.text.indexOf(stop));
    for (const options of [{}, { drafter: 'small', draftLength: 4 }, { drafter: 'nopos', draftLength: 2 }]) {
      const r = await generate(gpt2, prompt, { ...options, maxTokens: 30, stop: ['never-there', stop] });
      t.equal(r.text, expected, `${JSON.stringify(prompt)} ${JSON.stringify(options)}`);
      t.equal(r.finishReason, 'stop');
      t.ok(r.deltas.every((d) => !d.includes(stop)), 'no delta carries the stop string');
      t.ok(r.tokenIds.length < full.tokenIds.length);
    }
  }
  const none = await generate(gpt2, 'Stop here', { maxTokens: 30, stop: ['\u0000never'] });
  t.equal(none.finishReason, 'length');
});

t.test('max_tokens and the context limit', async (t) => {
  for (const options of [{}, { drafter: 'small', draftLength: 7 }]) {
    const r = await generate(gpt2, 'Count', { ...options, maxTokens: 5 });
    t.equal(r.completionTokens, 5);
    t.equal(r.finishReason, 'length');

    const ctx = gpt2.contextLength;
    const longPrompt = 'x'.repeat(ctx - 4);
    const near = await generate(gpt2, longPrompt, { ...options, maxTokens: 24 });
    t.equal(near.promptTokens + near.completionTokens, ctx, 'stops when the context is full');
    t.equal(near.finishReason, 'length');
    const last = await generate(gpt2, 'x'.repeat(ctx - 1), { ...options, maxTokens: 24 });
    t.equal(last.completionTokens, 1);
  }
  const plain = await generate(gpt2, 'x'.repeat(60), { maxTokens: 24 });
  const spec = await generate(gpt2, 'x'.repeat(60), { maxTokens: 24, drafter: 'small', draftLength: 7 });
  t.same(spec.tokenIds, plain.tokenIds);
  await t.rejects(gpt2.generate('x'.repeat(gpt2.contextLength), GREEDY), { code: 'FS_PROMPT_TOO_LONG' });
});

t.test('an eos token ends the output without being part of it', async (t) => {
  const verifier = gpt2.verifier;
  const promptIds = gpt2.tokenizer.encode('End of text');
  const reference = await generate(gpt2, 'End of text', { maxTokens: 20 });
  const eosToken = reference.tokenIds[6]!;
  const expected = reference.tokenIds.slice(0, reference.tokenIds.indexOf(eosToken));
  const drafterModel = await CausalLM.load(GPT2_DRAFTER, MODEL_OPTIONS);
  t.teardown(() => drafterModel.release());
  for (const draftLength of [0, 4]) {
    const r = await generateSpeculative({
      verifier,
      drafter: draftLength ? new ModelDrafter('small', drafterModel) : null,
      draftLength,
      promptIds,
      sampler: new TokenSampler({ temperature: 0, topK: 0, topP: 1 }, createRandom(0)),
      maxTokens: 20,
      stop: [],
      eosTokenIds: [eosToken],
      decode: (ids) => gpt2.tokenizer.decode(ids),
    });
    t.same(r.tokenIds, expected, `γ=${draftLength}`);
    t.equal(r.finishReason, 'stop');
    t.equal(r.completionTokens, expected.length + 1, 'the eos token is counted');
  }
});

t.test('abort stops generation within one step', async (t) => {
  const pre = new AbortController();
  pre.abort();
  const none = await generate(gpt2, 'Abort', { signal: pre.signal, maxTokens: 20 });
  t.same({ finishReason: none.finishReason, tokens: none.completionTokens, steps: none.stats.verifierSteps }, { finishReason: 'abort', tokens: 0, steps: 0 });

  // A prompt whose first greedy token is a whole (ASCII) character, so the first step streams text.
  let prompt = '';
  let plain: GenerateResult | undefined;
  for (const candidate of PROMPTS) {
    plain = await generate(gpt2, candidate, { maxTokens: 20 });
    if (plain.tokenIds[0]! < 128) {
      prompt = candidate;
      break;
    }
  }
  if (!plain || prompt === '') throw new Error('no prompt starts with an ASCII token');
  for (const draftLength of [0, 4]) {
    const controller = new AbortController();
    const r = await gpt2.generate(prompt, {
      ...GREEDY,
      maxTokens: 20,
      drafter: draftLength ? 'small' : null,
      draftLength,
      signal: controller.signal,
      onText: () => controller.abort(),
    });
    t.equal(r.finishReason, 'abort');
    t.equal(r.stats.verifierSteps, 1, `γ=${draftLength}: no step after the one that produced the first text`);
    t.ok(r.completionTokens >= 1 && r.completionTokens <= draftLength + 1);
    t.same(r.tokenIds, plain.tokenIds.slice(0, r.completionTokens), JSON.stringify(prompt));
  }
});

t.test('speculative stats', async (t) => {
  const r = await generate(gpt2, 'Statistics', { drafter: 'small', draftLength: 4, maxTokens: 40 });
  const s = r.stats;
  t.equal(s.drafter, 'small');
  t.equal(s.draftLength, 4);
  t.equal(s.acceptedPerPosition.length, 4);
  t.equal(
    s.acceptedPerPosition.reduce((a, b) => a + b, 0),
    s.acceptedTokens,
  );
  t.ok(s.acceptedPerPosition.every((x, i) => i === 0 || x <= s.acceptedPerPosition[i - 1]!), 'acceptance per position never increases');
  t.ok(s.drafts <= s.verifierSteps && s.draftedTokens <= 4 * s.drafts);
  const meanAlpha = s.alphaSum / s.draftedTokens;
  t.ok(meanAlpha > 0 && meanAlpha < 1, `mean alpha ${meanAlpha.toFixed(3)}`);
  t.ok(s.crossEntropySum / s.draftedTokens > 0);
  t.ok(s.draftMs > 0 && s.verifyMs > 0);
  t.ok(r.firstTokenMs > 0 && r.firstTokenMs <= r.totalMs);

  // The metrics use temperature-1 distributions: sampling settings that walk the same path
  // (top_k 1 at any temperature is greedy) give the same numbers.
  const hot = await generate(gpt2, 'Statistics', { drafter: 'small', draftLength: 4, maxTokens: 40, temperature: 3, topK: 1, seed: 1 });
  t.same(hot.tokenIds, r.tokenIds);
  t.equal(hot.stats.alphaSum, s.alphaSum);
  t.equal(hot.stats.crossEntropySum, s.crossEntropySum);
  t.equal(hot.stats.greedyMatches, s.greedyMatches, 'argmax matches read the raw logits too');

  const sampled = await generate(gpt2, 'Statistics', { drafter: 'small', draftLength: 4, maxTokens: 40, temperature: 1, seed: 3 });
  const m = sampled.stats.greedyMatches;
  t.ok(Number.isInteger(m) && m >= 0 && m <= sampled.stats.draftedTokens, `a sampled request counts argmax matches too (${m} of ${sampled.stats.draftedTokens})`);

  const plain = await generate(gpt2, 'Statistics', { drafter: 'small', draftLength: 0 });
  t.match(plain.stats, { drafter: null, draftLength: 0, drafts: 0, draftedTokens: 0, greedyMatches: 0, acceptedPerPosition: [] });
});

/** A drafter that keeps what it proposed after which context, to recount matches independently. */
class RecordingDrafter extends ModelDrafter {
  readonly proposals: { context: number[]; draft: number[] }[] = [];

  override async propose(requests: readonly DraftRequest[]) {
    const drafts = await super.propose(requests);
    requests.forEach((r, i) => this.proposals.push({ context: [...r.committed], draft: [...drafts[i]!.tokenIds] }));
    return drafts;
  }
}

t.test('greedyMatches: every drafted position whose draft is the verifier argmax, after a rejection too', async (t) => {
  const drafterModel = await CausalLM.load(GPT2_DRAFTER, MODEL_OPTIONS);
  t.teardown(() => drafterModel.release());
  let matches = 0;
  let accepted = 0;
  let drafted = 0;
  for (const prompt of PROMPTS.slice(0, 6)) {
    for (const draftLength of [2, 5]) {
      const drafter = new RecordingDrafter('small', drafterModel);
      const r = await generateSpeculative({
        verifier: gpt2.verifier,
        drafter,
        draftLength,
        promptIds: gpt2.tokenizer.encode(prompt),
        sampler: new TokenSampler({ temperature: 0, topK: 0, topP: 1 }, createRandom(0)),
        maxTokens: 24,
        stop: [],
        eosTokenIds: [],
        decode: (ids) => gpt2.tokenizer.decode(ids),
      });
      // The verifier's argmax at each drafted position, from one uncached pass over context + draft.
      let expected = 0;
      for (const { context, draft } of drafter.proposals) {
        const rows = await gpt2.verifier.forward(gpt2.verifier.newCache(), [...context, ...draft]);
        draft.forEach((token, i) => {
          if (token === argmax(rows[context.length - 1 + i]!)) expected++;
        });
      }
      const label = `${JSON.stringify(prompt)} γ=${draftLength}`;
      t.equal(r.stats.greedyMatches, expected, `${label}: ${expected} matches`);
      t.ok(r.stats.greedyMatches >= r.stats.acceptedTokens, `${label}: at least the accepted drafts`);
      t.equal(r.stats.draftedTokens, drafter.proposals.reduce((n, p) => n + p.draft.length, 0));
      matches += r.stats.greedyMatches;
      accepted += r.stats.acceptedTokens;
      drafted += r.stats.draftedTokens;
    }
  }
  t.ok(matches > accepted, `positions after a rejection are counted (${matches} matches, ${accepted} accepted)`);
  t.ok(matches < drafted, `and mismatches are not (${matches} of ${drafted})`);
});
