// Issue 17: every logits processor keeps speculative decoding lossless with respect to the
// processed target, on the shipped pack (models/default). Per processor, twice:
//   greedy   speculative output (γ = 4) equals plain decoding's with the same processor, token
//            for token, on prompts where the processor changes the output;
//   sampled  the first two tokens of seeded speculative runs (γ = 2, so the second token comes
//            from a draft verified against the verifier's row with draft 0 in its history, or
//            from the residual there) follow the processed verifier distribution: chi-square at
//            significance 0.001 per position; and the unprocessed distribution is rejected by the
//            same test at one position at least, so the check would catch a processor the
//            verifier ignored or applied with the wrong history.

import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadEngine } from '../../src/engine/engine.js';
import { createRandom } from '../../src/engine/random.js';
import { TokenSampler } from '../../src/engine/sampling.js';
import type { GenerateOptions, LogitsOptions } from '../../src/engine/types.js';
import { chiSquare, secondTokenMarginal } from '../fixtures/statistics.js';

t.setTimeout(240_000);

const PACK = fileURLToPath(new URL('../../models/default', import.meta.url));
const engine = await loadEngine(PACK, { intraOpNumThreads: 1 });
t.teardown(() => engine.close());
const EOS = engine.eosTokenIds[0]!;
const DRAFTER = 'scdf';
const SAMPLES = 200;

const base: GenerateOptions = { temperature: 0, topP: 1, topK: 0, maxTokens: 32, stop: [], drafter: null, draftLength: 0 };
const GREEDY_PROMPTS = ['The configuration file contains', 'Click Save to keep your changes. Click Save to'];

// The sampled prompt's verifier rows: after the prompt, and after the prompt and each token x. Its
// likely continuation repeats a token ("e", then "e" again), which the penalties act on.
const promptIds = engine.tokenizer.encode('Tennessee, Tenness');
const rows = await engine.verifier.forward(engine.verifier.newCache(), promptIds);
const first = rows[rows.length - 1]!;
const afterFirst: Float32Array[] = [];
for (let x = 0; x < first.length; x++) {
  const next = await engine.verifier.forward(engine.verifier.newCache(), [...promptIds, x]);
  afterFirst.push(next[next.length - 1]!);
}
const rawFirst = new TokenSampler({ temperature: 1, topK: 0, topP: 1 }, createRandom(0)).distribution(first);
const ranked = Array.from(rawFirst.keys()).sort((a, b) => rawFirst[b]! - rawFirst[a]!);

/** The processed distributions of the first token and (its marginal) of the second. */
async function expected(options: Omit<GenerateOptions, 'maxTokens' | 'stop' | 'drafter' | 'draftLength'>): Promise<[Float64Array, Float64Array]> {
  const sampler = new TokenSampler(options, createRandom(0), { promptLength: promptIds.length, eosTokenIds: engine.eosTokenIds });
  const p1 = sampler.distribution(first, promptIds);
  return [p1, await secondTokenMarginal(p1, (x) => sampler.distribution(afterFirst[x]!, [...promptIds, x]), 1e-6)];
}

interface Case {
  name: string;
  /** Processors of the greedy check (temperature 0). */
  greedy: LogitsOptions & { ignoreEos?: boolean };
  /** Whether they change greedy output (min-p never does: it keeps the argmax). */
  changesGreedy: boolean;
  /** Sampling settings and processors of the sampled check. */
  sampled: LogitsOptions & { temperature?: number };
  /** The sampled check's settings without the processor under test, which the samples must not fit; default: none. */
  without?: LogitsOptions;
}

const cases: Case[] = [
  {
    name: 'logit_bias',
    greedy: { logitBias: { [engine.tokenizer.encode(' ')[0]!]: -100, [engine.tokenizer.encode('e')[0]!]: 2 } },
    changesGreedy: true,
    sampled: { logitBias: { [ranked[0]!]: -100, [ranked[2]!]: 2 } },
  },
  {
    name: 'min_tokens',
    greedy: { logitBias: { [EOS]: 100 }, minTokens: 6 },
    changesGreedy: true,
    // eos has a probability near 1e-9 here: biased, it would take most of the mass without min_tokens.
    sampled: { logitBias: { [EOS]: 22 }, minTokens: 2 },
    without: { logitBias: { [EOS]: 22 } },
  },
  { name: 'repetition_penalty', greedy: { repetitionPenalty: 1.8 }, changesGreedy: true, sampled: { repetitionPenalty: 1.8 } },
  { name: 'presence_penalty', greedy: { presencePenalty: 2 }, changesGreedy: true, sampled: { presencePenalty: 2 } },
  { name: 'frequency_penalty', greedy: { frequencyPenalty: 1.5 }, changesGreedy: true, sampled: { frequencyPenalty: 2 } },
  { name: 'min_p', greedy: { minP: 0.3 }, changesGreedy: false, sampled: { minP: 0.1, temperature: 2 } },
  { name: 'ignore_eos', greedy: { logitBias: { [EOS]: 100 }, ignoreEos: true }, changesGreedy: true, sampled: {} },
];

const plainGreedy = new Map<string, number[]>();
for (const prompt of GREEDY_PROMPTS) plainGreedy.set(prompt, (await engine.generate(prompt, base)).tokenIds);

for (const c of cases) {
  t.test(`${c.name}: greedy speculative output equals plain decoding's`, async (t) => {
    let changed = false;
    for (const prompt of GREEDY_PROMPTS) {
      const plain = await engine.generate(prompt, { ...base, ...c.greedy });
      const spec = await engine.generate(prompt, { ...base, ...c.greedy, drafter: DRAFTER, draftLength: 4 });
      t.same(spec.tokenIds, plain.tokenIds, `${JSON.stringify(prompt)}: ${plain.tokenIds.length} tokens`);
      t.equal(spec.finishReason, plain.finishReason);
      t.ok(spec.stats.draftedTokens > 0, 'drafts were checked');
      changed ||= plain.tokenIds.join() !== plainGreedy.get(prompt)!.join();
      if (c.greedy.minTokens !== undefined) t.same([plain.tokenIds.length, plain.finishReason], [c.greedy.minTokens, 'stop'], 'eos right after min_tokens');
      if (c.greedy.ignoreEos) t.ok(plain.tokenIds.includes(EOS) && plain.tokenIds.length === base.maxTokens, 'eos emitted, and the output went on');
    }
    t.equal(changed, c.changesGreedy, c.changesGreedy ? 'the processor changes greedy output' : 'greedy output is unchanged');
  });

  if (c.name === 'ignore_eos') continue; // not a processor: nothing to sample differently
  t.test(`${c.name}: sampled speculative output has the processed verifier's distribution`, async (t) => {
    const { temperature = 1, ...processors } = c.sampled;
    const sampling = { temperature, topK: 0, topP: 1 };
    const [p1, p2] = await expected({ ...sampling, ...processors });
    const [r1, r2] = await expected({ ...sampling, ...c.without });
    const counts = [new Array<number>(p1.length).fill(0), new Array<number>(p1.length).fill(0)];
    let drafted = 0;
    let accepted = 0;
    for (let seed = 0; seed < SAMPLES; seed++) {
      const result = await engine.generate('', {
        ...base,
        ...sampling,
        ...processors,
        seed,
        promptIds,
        maxTokens: 3, // room for both drafts and the bonus token in the first step
        ignoreEos: true, // every run has its first two tokens, eos included
        drafter: DRAFTER,
        draftLength: 2,
      });
      counts[0]![result.tokenIds[0]!]!++;
      counts[1]![result.tokenIds[1]!]!++;
      drafted += result.stats.draftedTokens;
      accepted += result.stats.acceptedTokens;
    }
    const rejected: string[] = [];
    for (const [i, [p, raw]] of [[p1, r1], [p2, r2]].entries()) {
      const fit = chiSquare(counts[i]!, p!);
      t.ok(fit.statistic < fit.critical, `token ${i + 1}: chi2 ${fit.statistic.toFixed(1)} < ${fit.critical.toFixed(1)} (df ${fit.df}), TV ${fit.tv.toFixed(3)}`);
      const unprocessed = chiSquare(counts[i]!, raw!);
      if (unprocessed.statistic > unprocessed.critical) rejected.push(`token ${i + 1}: chi2 ${unprocessed.statistic.toFixed(1)} > ${unprocessed.critical.toFixed(1)}`);
    }
    t.ok(rejected.length > 0, `the distribution without the processor is rejected (${rejected.join('; ')}): the check can see the processor`);
    t.ok(accepted > 0 && accepted < drafted, `drafts accepted and rejected (${accepted} of ${drafted})`);
    if (c.name === 'min_tokens') t.equal(counts[0]![EOS]! + counts[1]![EOS]!, 0, 'eos never among the first two tokens');
  });
}
