// Experiments through the admin layer with a shared state folder: what one replica creates or
// deletes reaches the others at their next sync, a restart keeps it with its creation time, and
// config experiments keep theirs across restarts.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ExperimentAdmin } from '../src/experiment-admin.js';
import { isExperimentError } from '../src/experiments/errors.js';
import { ExperimentStore } from '../src/experiments/experiment-store.js';
import { parseExperiment } from '../src/experiments/experiment.js';
import { StateFolder } from '../src/experiments/state-folder.js';

const definition = (id: string, enabled = false) => ({ id, enabled, arms: [{ name: 'a', drafter: null, weight: 1 }, { name: 'b', weight: 1 }] });

function replica(root: string | null, now: () => number) {
  const warnings: string[] = [];
  const log = { info: () => {}, warn: (_: object, message: string) => void warnings.push(message), error: () => {} };
  const admin = new ExperimentAdmin({ store: new ExperimentStore(), state: root === null ? null : new StateFolder(root), log, now });
  return { admin, store: admin.store, warnings };
}

t.test('two replicas sharing a folder: creations and deletions reach the other at its sync; a restart keeps them', async (t) => {
  const root = t.testdir({});
  let clock = Date.parse('2026-12-08T10:00:00Z');
  const now = () => clock;
  const [one, two] = [replica(root, now), replica(root, now)];
  await one.admin.boot([]);
  await two.admin.boot([]);

  const created = await one.admin.create(definition('x', true));
  t.equal(created.id, 'x');
  t.equal(two.store.get('x'), undefined, 'not on the other replica before its sync');
  await two.admin.sync();
  t.same(two.store.get('x'), created, 'after it');
  t.equal(two.store.statistics('x').createdAt, one.store.statistics('x').createdAt, 'with the same creation time');
  t.same(two.store.assign('user-1'), one.store.assign('user-1'), 'so both assign a user alike');

  clock += 60_000;
  try {
    await two.admin.create(definition('x'));
    t.fail('created an id the other replica holds');
  } catch (err) {
    t.ok(isExperimentError(err, 'FS_EXPERIMENT_EXISTS'));
  }
  // A create racing on a replica that has not synced yet loses to the file already there.
  const three = replica(root, now);
  await three.admin.boot([]);
  await one.admin.create(definition('y'));
  await t.rejects(replica(root, now).admin.create(definition('y')), { code: 'FS_EXPERIMENT_EXISTS' });

  const restarted = replica(root, now);
  await restarted.admin.boot([]);
  t.same(restarted.store.list().map((e) => e.id), ['x', 'y'], 'a process started later has both');
  t.equal(restarted.store.statistics('x').createdAt, Date.parse('2026-12-08T10:00:00Z'));

  await two.admin.delete('x');
  t.equal(two.store.get('x'), undefined);
  await one.admin.sync();
  t.equal(one.store.get('x'), undefined, 'deleted on the other replica: gone here after the sync');
  t.same(one.warnings, []);
});

t.test('config experiments keep their creation time across restarts while their definition stays the same', async (t) => {
  const root = t.testdir({});
  let clock = Date.parse('2026-12-08T10:00:00Z');
  const configured = [parseExperiment(definition('c'))];
  const first = replica(root, () => clock);
  await first.admin.boot(configured);
  clock += 3_600_000;
  const second = replica(root, () => clock);
  await second.admin.boot(configured);
  t.equal(second.store.statistics('c').createdAt, Date.parse('2026-12-08T10:00:00Z'), 'the first boot\'s time');
  const changed = replica(root, () => clock);
  await changed.admin.boot([parseExperiment({ ...definition('c'), salt: 'reshuffled' })]);
  t.equal(changed.store.statistics('c').createdAt, clock, 'a changed definition is a new experiment');
  await changed.admin.sync();
  t.ok(changed.store.get('c'), 'a sync leaves config experiments alone');
});

t.test('an API experiment with the id of a configured one is not loaded, once said', async (t) => {
  const root = t.testdir({});
  const other = replica(root, Date.now);
  await other.admin.boot([]);
  await other.admin.create(definition('c'));
  const configured = replica(root, Date.now);
  await configured.admin.boot([parseExperiment({ ...definition('c'), salt: 'mine' })]);
  t.equal(configured.store.get('c')!.salt, 'mine');
  await configured.admin.sync();
  t.equal(configured.warnings.length, 1, 'one warning, not one per sync');
});

t.test('without a folder nothing is stored; a folder that cannot be written fails the create and changes nothing', async (t) => {
  const memory = replica(null, Date.now);
  await memory.admin.boot([]);
  await memory.admin.create(definition('m'));
  t.ok(memory.store.get('m'));

  const root = t.testdir({});
  const r = replica(root, Date.now);
  await r.admin.boot([]);
  // The folder's place taken by a file: every write fails, whoever the process runs as.
  rmSync(join(root, 'experiments'), { recursive: true, force: true });
  writeFileSync(join(root, 'experiments'), '');
  await t.rejects(r.admin.create(definition('w')), { name: 'FairspecError', code: 'FS_STATE_WRITE_FAILED' });
  t.equal(r.store.get('w'), undefined, 'not in memory either');
});

t.test('the cluster read-out needs a Prometheus', async (t) => {
  const r = replica(null, Date.now);
  await r.admin.boot([]);
  await r.admin.create(definition('p'));
  await t.rejects(r.admin.readout('p', 'cluster'), { code: 'FS_CLUSTER_READOUT_DISABLED' });
  t.equal((await r.admin.readout('p')).scope, 'replica');
  await t.rejects(r.admin.readout('nope'), { code: 'FS_EXPERIMENT_NOT_FOUND' });
});
