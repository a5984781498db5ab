// Issue 16: a drafter whose forward pass throws or gives NaN logits mid-generation costs speed,
// never the request: the generation goes on as plain decoding, and its output is γ = 0's. A
// verifier fault fails its own generation with FS_MODEL_FAULT and leaves the engine serving.
// The faults are injected into the real fixture models (test/fixtures/faulty-model.ts).

import t from 'tap';
import { loadEngine } from '../../src/engine/engine.js';
import type { GenerateResult } from '../../src/engine/types.js';
import { GPT2_PACK, GREEDY, MODEL_OPTIONS } from '../fixtures/engine-models.js';
import { injectFault, type FaultPlan } from '../fixtures/faulty-model.js';

const engine = await loadEngine(GPT2_PACK, MODEL_OPTIONS);
t.teardown(() => engine.close());

const isDrafter = (m: { id: string }) => m.id === 'gpt2-pack/drafter-small';
const isVerifier = (m: { id: string }) => m.id === 'gpt2-pack/verifier';
const PROMPTS = ['The quick brown fox', 'Le renard brun', 'Быстрая лиса'];

/** A generation with drafter 'small' whose drafter faults as planned; the faults it reported. */
async function withFaultyDrafter(prompt: string, plan: FaultPlan, options: Partial<typeof GREEDY> = {}) {
  const injected = injectFault(isDrafter, plan);
  const reported: Array<{ drafter: string; error: Error; revision: number }> = [];
  try {
    const result = await engine.generate(prompt, {
      ...GREEDY,
      maxTokens: 30,
      drafter: 'small',
      draftLength: 3,
      ...options,
      onDrafterError: (drafter, error, revision) => reported.push({ drafter, error, revision }),
    });
    return { result, reported, faults: injected.faults };
  } finally {
    injected.restore();
  }
}

const same = (a: GenerateResult, b: GenerateResult) => a.tokenIds.join() === b.tokenIds.join() && a.text === b.text && a.finishReason === b.finishReason;

t.test('greedy: a drafter that throws or gives NaN after k passes yields the γ = 0 output', async (t) => {
  for (const prompt of PROMPTS) {
    const plain = await engine.generate(prompt, { ...GREEDY, maxTokens: 30 });
    for (const fault of ['throw', 'nan'] as const) {
      for (const after of [0, 1, 4, 10]) {
        const { result, reported, faults } = await withFaultyDrafter(prompt, { fault, after });
        const what = `${fault} after ${after} passes, ${JSON.stringify(prompt)}`;
        t.ok(same(result, plain), `${what}: output of γ = 0`);
        t.equal(faults, 1, `${what}: the drafter is not asked again once it failed`);
        t.equal(reported.length, 1, `${what}: reported once`);
        t.equal(reported[0]!.drafter, 'small');
        t.equal(reported[0]!.revision, engine.drafterRevision('small'));
        t.match(reported[0]!.error, { code: 'FS_MODEL_FAULT', message: fault === 'nan' ? /drafter small gave a non-finite logit/ : /forward pass failed: injected fault/ });
        t.equal(result.stats.drafter, 'small', 'the stats say what was routed');
        // The first draft takes passes 0-2 (γ = 3): a fault in it discards it whole.
        if (after < 3) t.equal(result.stats.draftedTokens, 0, 'nothing drafted before the fault');
        else t.ok(result.stats.draftedTokens > 0 && Number.isFinite(result.stats.alphaSum), `${what}: the drafts before the fault are counted, finite`);
      }
    }
  }
});

t.test('sampled: a fault before the first draft leaves the seeded output of plain decoding', async (t) => {
  // No random number is drawn for a draft that failed, so the stream is plain decoding's.
  const sampled = { temperature: 0.9, topP: 0.95, seed: 42 };
  for (const prompt of PROMPTS) {
    const plain = await engine.generate(prompt, { ...GREEDY, ...sampled, maxTokens: 30 });
    for (const fault of ['throw', 'nan'] as const) {
      const { result, reported } = await withFaultyDrafter(prompt, { fault, after: 0 }, sampled);
      t.ok(same(result, plain), `${fault}: ${JSON.stringify(prompt)}`);
      t.equal(reported.length, 1);
    }
    // A fault later on: still a complete generation, finite statistics.
    const { result, reported } = await withFaultyDrafter(prompt, { fault: 'nan', after: 5 }, sampled);
    t.not(result.finishReason, 'abort');
    t.ok(result.completionTokens > 0);
    t.equal(reported.length, 1);
    t.ok(Number.isFinite(result.stats.alphaSum) && Number.isFinite(result.stats.crossEntropySum));
  }
});

t.test('a verifier fault fails its own generation; the engine serves the next one', async (t) => {
  const plain = await engine.generate('Hello, world', { ...GREEDY, maxTokens: 10 });
  for (const fault of ['throw', 'nan'] as const) {
    const injected = injectFault(isVerifier, { fault, after: 2, times: 1 });
    try {
      await t.rejects(engine.generate('Hello, world', { ...GREEDY, maxTokens: 10, drafter: 'small', draftLength: 2 }), {
        code: 'FS_MODEL_FAULT',
        message: fault === 'nan' ? /verifier gpt2-pack\/verifier gave a non-finite logit/ : /verifier gpt2-pack\/verifier: forward pass failed/,
      });
    } finally {
      injected.restore();
    }
    const next = await engine.generate('Hello, world', { ...GREEDY, maxTokens: 10 });
    t.ok(same(next, plain), `${fault}: the next generation is unaffected`);
  }
});
