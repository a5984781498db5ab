// Engine.replaceDrafter: a drafter's model replaced while the engine runs, on the swap fixture
// pack (test/fixtures/swap-pack: verifier, drafter-fast, drafter-slow). The new folder is checked
// as at boot and a bad one changes nothing; a generation keeps the model it started with, and a
// replaced model's session is released once no generation holds it.

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { CausalLM } from '../../src/engine/causal-lm.js';
import { loadEngine, type Engine } from '../../src/engine/index.js';
import { GREEDY, MODEL_OPTIONS } from '../fixtures/engine-models.js';

const SWAP_PACK = fileURLToPath(new URL('../fixtures/swap-pack', import.meta.url));
const FAST = join(SWAP_PACK, 'drafter-fast');
const SLOW = join(SWAP_PACK, 'drafter-slow');

async function swapEngine(t: Test): Promise<Engine> {
  const engine = await loadEngine(SWAP_PACK, MODEL_OPTIONS);
  t.teardown(() => engine.close());
  return engine;
}

/** Holds the first forward pass of the model in `dir` until `release()`; `entered` resolves when it is held. */
function holdFirstForward(t: Test, dir: string): { entered: Promise<void>; release: () => void } {
  const original = CausalLM.prototype.forwardBatch;
  let enter!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  CausalLM.prototype.forwardBatch = async function (this: CausalLM, ...args: Parameters<CausalLM['forwardBatch']>) {
    if (this.dir === dir && !held) {
      held = true;
      enter();
      await gate;
    }
    return original.apply(this, args);
  };
  t.teardown(() => {
    CausalLM.prototype.forwardBatch = original;
  });
  return { entered, release };
}

t.test('replaceDrafter swaps the model behind a name: new revision, id and source; generations use it', async (t) => {
  const engine = await swapEngine(t);
  t.same(engine.drafterNames, ['fast', 'slow']);
  const [fast0, slow0] = await engine.drafters();
  t.match(slow0, { name: 'slow', id: 'swap-pack/drafter-slow', source: SLOW, numLayers: 36, hiddenSize: 32, vocabSize: 257, contextLength: 128, inUse: 0 });
  t.ok(slow0!.bytes! > 100_000);
  t.not(fast0!.revision, slow0!.revision);
  const options = { ...GREEDY, drafter: 'slow', draftLength: 3, maxTokens: 30 };
  const before = await engine.generate('Hello', options);
  t.equal(before.drafterRevision, slow0!.revision);
  t.equal((await engine.generate('Hello', { ...options, draftLength: 0 })).drafterRevision, undefined, 'plain decoding names no drafter model');

  const told: [string, number][] = [];
  engine.onDrafterReplaced((name, revision) => told.push([name, revision]));
  const swap = await engine.replaceDrafter('slow', FAST);
  t.match(swap.current, { name: 'slow', id: 'swap-pack/drafter-fast', source: FAST, numLayers: 1, inUse: 0 });
  t.ok(swap.current.revision > Math.max(fast0!.revision, slow0!.revision));
  t.same(swap.replaced, { ...slow0, inUse: 0 });
  t.same(told, [['slow', swap.current.revision]], 'listeners are told once, with the new revision');
  t.same(engine.drafterIds, { fast: 'swap-pack/drafter-fast', slow: 'swap-pack/drafter-fast' });
  t.equal(engine.drafterRevision('slow'), swap.current.revision);
  t.equal(engine.retiringDrafters, 0, 'nothing held the old model: released at once');

  const after = await engine.generate('Hello', options);
  t.equal(after.drafterRevision, swap.current.revision);
  t.same(after.tokenIds, before.tokenIds, 'greedy decoding is the verifier\'s with either drafter');
  t.equal(after.stats.drafter, 'slow', 'the name is what routing and metrics see');
  t.ok(after.stats.draftMs < before.stats.draftMs, `the 1-layer model drafts faster: ${after.stats.draftMs} vs ${before.stats.draftMs} ms`);

  const named = await engine.replaceDrafter('slow', SLOW, { id: 'slow-again' });
  t.equal(named.current.id, 'slow-again');
  t.equal(named.replaced.source, FAST);
});

t.test('a bad folder is refused with the boot-time checks and leaves the old model serving', async (t) => {
  const engine = await swapEngine(t);
  const dir = t.testdir({});
  const copy = (name: string) => {
    cpSync(FAST, join(dir, name), { recursive: true });
    return join(dir, name);
  };
  const vocab = copy('vocab');
  writeFileSync(join(vocab, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(vocab, 'config.json'), 'utf8')), vocab_size: 300 }));
  const tokens = copy('tokens');
  const tokenizer = JSON.parse(readFileSync(join(tokens, 'tokenizer.json'), 'utf8'));
  const [a, b] = ['a', 'b'].map((c) => tokenizer.model.vocab[c]);
  tokenizer.model.vocab['a'] = b;
  tokenizer.model.vocab['b'] = a;
  writeFileSync(join(tokens, 'tokenizer.json'), JSON.stringify(tokenizer));
  const layers = copy('layers');
  writeFileSync(join(layers, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(layers, 'config.json'), 'utf8')), n_layer: 2 }));
  const corrupt = copy('corrupt');
  writeFileSync(join(corrupt, 'onnx', 'model.onnx'), 'not onnx');

  const before = await engine.drafters();
  await t.rejects(engine.replaceDrafter('slow', vocab), { code: 'FS_VOCAB_MISMATCH', details: { drafter: 'slow', drafterVocab: 300, verifierVocab: 257 } });
  await t.rejects(engine.replaceDrafter('slow', tokens), { code: 'FS_VOCAB_MISMATCH', message: /tokenizer.json whose vocabulary differs/ });
  await t.rejects(engine.replaceDrafter('slow', layers), { code: 'FS_MODEL_IO', message: /lacks the required input "past_key_values.1.key"/ });
  await t.rejects(engine.replaceDrafter('slow', corrupt), { code: 'FS_MODEL_LOAD' });
  await t.rejects(engine.replaceDrafter('slow', join(dir, 'missing')), { code: 'FS_MODEL_CONFIG' });
  await t.rejects(engine.replaceDrafter('nope', FAST), { code: 'FS_UNKNOWN_DRAFTER', details: { drafter: 'nope', available: ['fast', 'slow'] } });
  t.same(await engine.drafters(), before, 'unchanged');
  const r = await engine.generate('Hello', { ...GREEDY, drafter: 'slow', draftLength: 2, maxTokens: 8 });
  t.equal(r.drafterRevision, before[1]!.revision);
});

t.test('a running generation keeps its model through a swap; one started after it takes the new model', async (t) => {
  const engine = await swapEngine(t);
  const { entered, release } = holdFirstForward(t, SLOW);
  const options = { ...GREEDY, drafter: 'slow', draftLength: 4, maxTokens: 40 };
  const running = engine.generate('Hello', options);
  await entered;
  const swap = await engine.replaceDrafter('slow', FAST);
  t.equal(swap.replaced.inUse, 1);
  t.equal(engine.retiringDrafters, 1, 'the replaced session waits for the generation holding it');
  t.equal((await engine.drafters())[1]!.inUse, 0, 'the new model is not in use yet');
  const later = engine.generate('Hello', options); // joins the batch beside the running one
  t.equal((await engine.drafters())[1]!.inUse, 1, 'the generation started after the swap holds the new model');

  release();
  const [first, second] = await Promise.all([running, later]);
  t.equal(first.drafterRevision, swap.replaced.revision, 'the running generation finished with the old model');
  t.equal(first.completionTokens, 40);
  t.equal(second.drafterRevision, swap.current.revision, 'the later one drafted with the new model');
  t.same(second.tokenIds, first.tokenIds);
  t.equal(engine.retiringDrafters, 0, 'released after the last generation holding it');
});

t.test('concurrent swaps run in call order; close() waits for them and refuses later ones', async (t) => {
  const engine = await loadEngine(SWAP_PACK, MODEL_OPTIONS);
  const swaps = await Promise.all([engine.replaceDrafter('slow', FAST), engine.replaceDrafter('slow', SLOW), engine.replaceDrafter('fast', SLOW)]);
  t.same(swaps.map((s) => s.current.source), [FAST, SLOW, SLOW]);
  t.same(swaps.map((s) => s.replaced.source), [SLOW, FAST, FAST]);
  t.ok(swaps[0]!.current.revision < swaps[1]!.current.revision && swaps[1]!.current.revision < swaps[2]!.current.revision);
  t.equal(swaps[1]!.replaced.revision, swaps[0]!.current.revision);
  const pending = engine.replaceDrafter('fast', FAST);
  await engine.close();
  await t.rejects(pending, { code: 'FS_ENGINE_CLOSED' }, 'a swap still loading when the engine closes is dropped');
  await t.rejects(engine.replaceDrafter('fast', FAST), { code: 'FS_ENGINE_CLOSED' });
});
