import t from 'tap';
import { isExperimentError } from '../../src/experiments/errors.js';
import { ExperimentStore } from '../../src/experiments/experiment-store.js';
import type { ReadoutInput } from '../../src/experiments/analysis.js';
import { chooseReference } from '../../src/experiments/reference-choice.js';
import { PlainDecodingReference } from '../../src/fairness/plain-reference.js';
import { outcome } from '../fairness/fixtures/outcomes.js';

const definition = (id: string, enabled = true) => ({
  id,
  enabled,
  arms: [
    { name: 'control', drafter: null, weight: 1 },
    { name: 'scdf', drafter: 'drafter-scdf', weight: 1 },
  ],
});

/** The plain reference the read-out divides `language`'s speed-ups by, and where it comes from. */
function referenceOf(input: ReadoutInput, language: string) {
  const choice = chooseReference(input.experiment, input.cells, input.serverReference);
  return { estimate: choice.sums.estimate(language, input.minReferenceRequests), scope: choice.scope, arms: [...choice.arms] };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isExperimentError(err)) return err.code;
    throw err;
  }
  return undefined;
}

t.test('create, get, list, delete', async (t) => {
  const store = new ExperimentStore({ knownDrafters: ['drafter-scdf'] });
  const e = store.create(definition('a'));
  t.equal(store.get('a'), e);
  store.create(definition('b', false));
  t.same(store.list().map((x) => x.id), ['a', 'b']);
  t.equal(code(() => store.create(definition('a', false))), 'FS_EXPERIMENT_EXISTS');
  t.equal(code(() => store.create({ ...definition('c', false), arms: [] })), 'FS_INVALID_EXPERIMENT');
  t.equal(code(() => store.create({ ...definition('c', false), arms: [{ name: 'x', drafter: 'nope', weight: 1 }, { name: 'y', weight: 1 }] })), 'FS_INVALID_EXPERIMENT');
  t.ok(store.delete('a'));
  t.notOk(store.delete('a'));
  t.equal(store.get('a'), undefined);
  t.equal(code(() => store.snapshot('a')), 'FS_EXPERIMENT_NOT_FOUND');
});

t.test('one enabled experiment at a time; assignment follows it', async (t) => {
  const store = new ExperimentStore();
  t.equal(store.assign('alice'), null, 'no experiment, no assignment');
  store.create(definition('a'));
  t.equal(code(() => store.create(definition('b'))), 'FS_EXPERIMENT_CONFLICT');
  store.create(definition('b', false));
  t.equal(code(() => store.setEnabled('b', true)), 'FS_EXPERIMENT_CONFLICT');
  const assignment = store.assign('alice')!;
  t.equal(assignment.experimentId, 'a');
  t.equal(store.assign('alice')!.arm, assignment.arm, 'sticky');
  store.setEnabled('a', false);
  t.equal(store.assign('alice'), null);
  store.setEnabled('b', true);
  t.equal(store.assign('alice')!.experimentId, 'b');
  t.equal(code(() => store.setEnabled('zz', true)), 'FS_EXPERIMENT_NOT_FOUND');
});

t.test('boot load: all or nothing, errors name experiments[i]', async (t) => {
  const store = new ExperimentStore({ knownDrafters: ['drafter-scdf'] });
  try {
    store.load([definition('a'), { ...definition('b', false), arms: [{ name: 'x', weight: -2 }, { name: 'y', weight: 1 }] }]);
    t.fail('accepted a bad definition');
  } catch (err) {
    t.ok(isExperimentError(err, 'FS_INVALID_EXPERIMENT'));
    t.equal((err as { param: string }).param, 'experiments[1].arms[0].weight');
    t.match((err as Error).message, /experiments\[1\]\.arms\[0\]\.weight: .*\(got -2\)/);
  }
  t.same(store.list(), [], 'nothing was added');
  t.equal(code(() => store.load([definition('a'), definition('a', false)])), 'FS_EXPERIMENT_EXISTS');
  t.equal(code(() => store.load([definition('a'), definition('b')])), 'FS_EXPERIMENT_CONFLICT');
  t.equal(code(() => store.load({ id: 'a' })), 'FS_INVALID_EXPERIMENT');
  t.same(store.load([definition('a'), definition('b', false)]).map((e) => e.id), ['a', 'b']);
});

t.test('observations accumulate per (arm, language) cell', async (t) => {
  const store = new ExperimentStore({ reservoirSize: 4 });
  store.create(definition('a'));
  t.ok(store.record('a', 'scdf', 'en', outcome({ tokens: 64, totalMs: 320, drafted: 64, accepted: 40, crossEntropy: 0.5 })));
  t.ok(store.record('a', 'scdf', 'en', outcome({ tokens: 32, totalMs: 100, drafted: 32, accepted: 30, crossEntropy: 0.5 })));
  t.ok(store.record('a', 'control', 'en', outcome({ drafter: null, tokens: 10, totalMs: 100 })));
  t.notOk(store.record('a', 'nope', 'en', outcome()), 'unknown arm');
  t.notOk(store.record('gone', 'scdf', 'en', outcome()), 'experiment deleted meanwhile');
  for (let i = 0; i < 10; i++) store.record('a', 'scdf', 'fr', outcome({ totalMs: 100 + i }));
  const snap = store.snapshot('a');
  const cell = snap.cells.find((c) => c.arm === 'scdf' && c.language === 'en')!.statistics;
  t.same(cell.counts, {
    requests: 2,
    generatedTokens: 96,
    drafts: 24,
    draftedTokens: 96,
    acceptedTokens: 70,
    alphaSum: 96 * 0.6,
    crossEntropySum: 48,
    verifierSteps: 24,
  });
  t.same([cell.timing.n, cell.timing.a, cell.timing.d, cell.plainTiming.n], [2, 96, 420, 0], '(tokens, ms) sums; no plain request');
  t.equal(cell.acceptance.moments().mean, (40 / 64 + 30 / 32) / 2);
  const fr = snap.cells.find((c) => c.language === 'fr')!;
  t.equal(fr.statistics.latency.count, 10, 'the histogram counts every request');
  t.equal(fr.latencySample!.length, 4, 'reservoir bounded');
  const en = referenceOf(snap, 'en');
  const { sums, ...reference } = en.estimate!;
  t.same(reference, { msPerToken: 10, source: 'pooled', requests: 1 }, 'the control arm with drafter null is the plain reference');
  t.same([sums.n, sums.a, sums.d], [1, 10, 100]);
  t.equal(en.scope, 'experiment');
  t.same(en.arms, ['control'], "only the plain arm's requests are in the reference");
  t.match(snap.createdAt, /^\d{4}-\d\d-\d\dT/);
});

t.test('language labels beyond maxLanguages fold into other', async (t) => {
  const store = new ExperimentStore({ maxLanguages: 2 });
  store.create(definition('a'));
  for (const language of ['en', 'fr', 'de', 'am', 'en']) store.record('a', 'scdf', language, outcome());
  t.same(store.snapshot('a').cells.map((c) => c.language).sort(), ['en', 'fr', 'other']);
});

t.test('the reference: the plain arms; without one the server\'s plain requests since creation, else the arms\' own', async (t) => {
  const drafters = (id: string) => ({ id, arms: [{ name: 'base', drafter: 'd', weight: 1 }, { name: 'scdf', drafter: 'drafter-scdf', weight: 1 }] });
  const shared = new PlainDecodingReference({ minRequests: 1 });
  shared.record('en', outcome({ drafter: null, tokens: 1, totalMs: 100 }));
  const store = new ExperimentStore({ reference: shared });
  store.create(definition('a', false));
  store.create(drafters('b'));
  store.record('a', 'control', 'en', outcome({ drafter: null, tokens: 2, totalMs: 4 }));
  store.record('b', 'base', 'en', outcome({ drafter: null, tokens: 1, totalMs: 5 }));
  t.equal(referenceOf(store.snapshot('a'), 'en').estimate!.msPerToken, 2, 'a: its plain arm, not the shared reference');
  t.equal(referenceOf(store.snapshot('b'), 'en').estimate, null, 'b: no plain request since it was created (the store does not feed the shared one)');
  shared.record('en', outcome({ drafter: null, tokens: 1, totalMs: 3 }));
  shared.record('en', outcome({ drafter: null, tokens: 1, totalMs: 5 }));
  const b = referenceOf(store.snapshot('b'), 'en');
  t.same([b.estimate!.msPerToken, b.estimate!.requests, b.scope], [4, 2, 'server']);
  t.same(b.arms, ['base', 'scdf'], "every arm's plain requests are in the server's");
  t.same(store.snapshot('a').serverReference, null, 'an experiment with a plain arm keeps no server reference');

  const own = new ExperimentStore();
  own.create(drafters('c'));
  own.record('c', 'base', 'en', outcome({ drafter: null, tokens: 1, totalMs: 3 }));
  own.record('c', 'scdf', 'en', outcome({ tokens: 1, totalMs: 1 }));
  const c = referenceOf(own.snapshot('c'), 'en');
  t.same([c.estimate!.msPerToken, c.scope], [3, 'experiment'], "no shared reference: the arms' own γ = 0 requests");
});

t.test('the registry holds at most maxExperiments, at boot and through create', async (t) => {
  const store = new ExperimentStore({ knownDrafters: ['drafter-scdf'], maxExperiments: 2 });
  store.create(definition('a', false));
  store.create(definition('b', false));
  t.equal(code(() => store.create(definition('c', false))), 'FS_TOO_MANY_EXPERIMENTS');
  store.delete('a');
  t.ok(store.create(definition('c', false)), 'room again after a delete');
  const boot = new ExperimentStore({ maxExperiments: 2 });
  t.equal(code(() => boot.load([definition('a', false), definition('b', false), definition('c', false)])), 'FS_TOO_MANY_EXPERIMENTS');
  t.same(boot.list(), [], 'all or nothing');
});
