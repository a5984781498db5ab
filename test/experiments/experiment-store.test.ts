import t from 'tap';
import { isExperimentError } from '../../src/experiments/errors.js';
import { ExperimentStore } from '../../src/experiments/experiment-store.js';
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
  const cell = snap.cells.find((c) => c.arm === 'scdf' && c.language === 'en')!.cell;
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
  t.equal(cell.tokensPerMs.n, 2);
  t.equal(cell.acceptance.mean, (40 / 64 + 30 / 32) / 2);
  const fr = snap.cells.find((c) => c.language === 'fr')!.cell;
  t.equal(fr.latencyMs.seen, 10);
  t.equal(fr.latencyMs.sorted().length, 4, 'reservoir bounded');
  t.same(snap.reference.get('en'), { msPerToken: 10, source: 'pooled', requests: 1 }, 'the control arm with drafter null is the plain reference');
  t.match(snap.createdAt, /^\d{4}-\d\d-\d\dT/);
});

t.test('language labels beyond maxLanguages fold into other', async (t) => {
  const store = new ExperimentStore({ maxLanguages: 2 });
  store.create(definition('a'));
  for (const language of ['en', 'fr', 'de', 'am', 'en']) store.record('a', 'scdf', language, outcome());
  t.same(store.snapshot('a').cells.map((c) => c.language).sort(), ['en', 'fr', 'other']);
});

t.test('a shared reference is read, not fed; each experiment otherwise has its own', async (t) => {
  const shared = new PlainDecodingReference({ minRequests: 1 });
  const store = new ExperimentStore({ reference: shared });
  store.create(definition('a'));
  store.record('a', 'control', 'en', outcome({ drafter: null }));
  t.equal(shared.estimate('en'), null);
  shared.record('en', outcome({ drafter: null, tokens: 1, totalMs: 3 }));
  t.equal(store.snapshot('a').reference.get('en')!.msPerToken, 3);

  const own = new ExperimentStore();
  own.create(definition('a'));
  own.create(definition('b', false));
  own.record('a', 'control', 'en', outcome({ drafter: null, tokens: 1, totalMs: 3 }));
  t.equal(own.snapshot('a').reference.get('en')!.msPerToken, 3);
  t.equal(own.snapshot('b').reference.size, 0, 'experiment b saw no traffic');
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
