import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { EngineError, isEngineError, loadEngine, packModelPaths } from '../../src/engine/index.js';
import { GPT2_DRAFTER, GPT2_PACK, GPT2_VERIFIER, GREEDY, LLAMA, MODEL_OPTIONS } from '../fixtures/engine-models.js';

const engine = await loadEngine(GPT2_PACK, MODEL_OPTIONS);
t.teardown(() => engine.close());

t.test('a pack loads its verifier and every drafter-* folder', async (t) => {
  t.same(engine.drafterNames, ['nopos', 'small']);
  t.equal(engine.verifierId, 'gpt2-pack/verifier');
  t.same(engine.drafterIds, { nopos: 'gpt2-pack/drafter-nopos', small: 'gpt2-pack/drafter-small' });
  t.same(engine.modelIds, { verifier: 'gpt2-pack/verifier', drafters: engine.drafterIds });
  t.equal(engine.contextLength, 64);
  t.same(engine.eosTokenIds, [256]);
  t.equal(engine.countTokens('日本'), 6, 'byte-level: one token per UTF-8 byte');
  t.equal(engine.countTokens(''), 0);
  const paths = await packModelPaths(GPT2_PACK);
  t.equal(paths.verifier, GPT2_VERIFIER);
  await t.rejects(packModelPaths(join(GPT2_PACK, 'verifier', 'onnx')), { code: 'FS_MODEL_LOAD', message: /no verifier/ });
  await t.rejects(packModelPaths('/nonexistent/pack'), { code: 'FS_MODEL_LOAD' });
});

t.test('explicit model folders with their own ids', async (t) => {
  const e = await loadEngine({ verifier: LLAMA, drafters: { tiny: GPT2_DRAFTER }, verifierId: 'llama', drafterIds: { tiny: 'gpt2-tiny' } }, MODEL_OPTIONS);
  t.teardown(() => e.close());
  t.equal(e.verifierId, 'llama');
  t.same(e.drafterIds, { tiny: 'gpt2-tiny' });
  t.equal(e.contextLength, 128);
  const r = await e.generate('Hi', { ...GREEDY, drafter: 'tiny', draftLength: 3, maxTokens: 8 });
  t.equal(r.completionTokens, 8);
  t.equal(r.stats.drafter, 'tiny');
});

t.test('bad requests fail at once with a code naming the problem', async (t) => {
  await t.rejects(engine.generate('x', { ...GREEDY, drafter: 'nope', draftLength: 2 }), { code: 'FS_UNKNOWN_DRAFTER', details: { drafter: 'nope' } });
  const bad: Array<[string, unknown]> = [
    ['temperature', -1],
    ['temperature', Number.NaN],
    ['topP', 0],
    ['topP', 1.5],
    ['topK', 1.5],
    ['topK', -1],
    ['seed', 0.5],
    ['maxTokens', 0],
    ['stop', ['']],
    ['draftLength', 17],
    ['draftLength', -1],
  ];
  for (const [field, value] of bad) {
    await t.rejects(engine.generate('x', { ...GREEDY, [field]: value }), { code: 'FS_INVALID_OPTION', details: { field } }, `${field} = ${String(value)}`);
  }
  const tooLong = await engine.generate('x'.repeat(64), GREEDY).catch((e: unknown) => e);
  t.ok(isEngineError(tooLong, 'FS_PROMPT_TOO_LONG'));
  t.match(tooLong, { details: { promptTokens: 64, contextLength: 64 } });
  t.ok(tooLong instanceof EngineError && tooLong.name === 'EngineError');
});

t.test('plain decoding when the drafter is null or the draft length 0', async (t) => {
  const a = await engine.generate('Plain', { ...GREEDY, drafter: null, draftLength: 4 });
  const b = await engine.generate('Plain', { ...GREEDY, drafter: 'small', draftLength: 0 });
  for (const r of [a, b]) t.match(r.stats, { drafter: null, draftLength: 0, drafts: 0 });
  t.same(a.tokenIds, b.tokenIds);
});

t.test('an empty prompt starts from the BOS token', async (t) => {
  const r = await engine.generate('', { ...GREEDY, maxTokens: 4 });
  t.equal(r.promptTokens, 1);
  t.equal(r.completionTokens, 4);
});

t.test('concurrent requests run one at a time with the results of sequential runs', async (t) => {
  const prompts = ['one', 'two', 'three'];
  const options = { ...GREEDY, drafter: 'small', draftLength: 3, maxTokens: 16 };
  const sequential = [];
  for (const p of prompts) sequential.push((await engine.generate(p, options)).tokenIds);
  const running = prompts.map((p) => engine.generate(p, options));
  t.equal(engine.pending, 3);
  const concurrent = (await Promise.all(running)).map((r) => r.tokenIds);
  t.same(concurrent, sequential);
  t.equal(engine.pending, 0);
  // A failing request does not block the queue.
  const failing = engine.generate('x', { ...GREEDY, maxTokens: 0 });
  await t.rejects(failing);
  t.equal((await engine.generate('one', options)).tokenIds.join(), sequential[0]!.join());
});

t.test('a drafter must share the verifier vocabulary', async (t) => {
  const dir = t.testdir({});
  const copy = (name: string) => {
    cpSync(GPT2_PACK, join(dir, name), { recursive: true });
    return join(dir, name);
  };
  const vocabSize = copy('vocab-size');
  const configPath = join(vocabSize, 'drafter-small', 'config.json');
  writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), vocab_size: 300 }));
  await t.rejects(loadEngine(vocabSize, MODEL_OPTIONS), { code: 'FS_VOCAB_MISMATCH', details: { drafter: 'small', drafterVocab: 300, verifierVocab: 257 } });

  const tokens = copy('tokens');
  const tokenizerPath = join(tokens, 'drafter-nopos', 'tokenizer.json');
  const tokenizer = JSON.parse(readFileSync(tokenizerPath, 'utf8'));
  const [a, b] = ['a', 'b'].map((c) => tokenizer.model.vocab[c]);
  tokenizer.model.vocab['a'] = b;
  tokenizer.model.vocab['b'] = a;
  writeFileSync(tokenizerPath, JSON.stringify(tokenizer));
  await t.rejects(loadEngine(tokens, MODEL_OPTIONS), { code: 'FS_VOCAB_MISMATCH', details: { drafter: 'nopos' } });
});

t.test('a closed engine refuses requests', async (t) => {
  const e = await loadEngine({ verifier: GPT2_VERIFIER }, MODEL_OPTIONS);
  t.same(e.drafterNames, []);
  await e.close();
  await e.close();
  await t.rejects(e.generate('x', GREEDY), { code: 'FS_ENGINE_CLOSED' });
});
