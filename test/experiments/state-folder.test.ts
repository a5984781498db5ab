import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { StateFolder, type StoredExperiment } from '../../src/experiments/state-folder.js';

const stored = (id: string, createdAt = '2026-12-08T10:00:00.000Z'): StoredExperiment => ({
  definition: { id, arms: [{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }] },
  createdAt,
  origin: 'api',
});

t.test('create is atomic and exclusive; write replaces; remove; list reads them back', async (t) => {
  const root = t.testdir({});
  const folder = new StateFolder(root);
  t.same(await folder.list(), [], 'no folder yet: nothing stored');
  t.equal(await folder.create(stored('x')), true);
  t.equal(await folder.create(stored('x', '2026-12-09T00:00:00.000Z')), false, 'the id is taken: nothing written');
  t.same(await folder.list(), [stored('x')], 'the first one stands');
  await folder.write({ ...stored('x', '2026-12-09T00:00:00.000Z'), origin: 'config' });
  t.same((await folder.list())[0], { ...stored('x', '2026-12-09T00:00:00.000Z'), origin: 'config' }, 'write replaces');
  t.same(readdirSync(join(root, 'experiments')), ['x.json'], 'no temporary file left behind');
  t.same(JSON.parse(readFileSync(join(root, 'experiments', 'x.json'), 'utf8')).format, 1);
  t.equal(await folder.remove('x'), true);
  t.equal(await folder.remove('x'), false);
  t.same(await folder.list(), []);
  await t.rejects(folder.create(stored('../escape')), RangeError, 'an id that is not a file name never reaches the file system');
});

t.test('concurrent creates of one id: exactly one wins', async (t) => {
  const folder = new StateFolder(t.testdir({}));
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => folder.create(stored('same', `2026-12-08T10:00:0${i}.000Z`))));
  t.equal(results.filter(Boolean).length, 1);
});

t.test('files that are not experiments of this format are skipped and named', async (t) => {
  const root = t.testdir({ experiments: { 'ok.json': '', 'broken.json': '{', 'other.json': JSON.stringify({ format: 2 }), 'notes.txt': 'x' } });
  writeFileSync(join(root, 'experiments', 'ok.json'), JSON.stringify({ format: 1, ...stored('ok') }));
  writeFileSync(join(root, 'experiments', 'renamed.json'), JSON.stringify({ format: 1, ...stored('ok') }));
  const skipped: string[] = [];
  t.same(await new StateFolder(root).list((file) => skipped.push(file)), [stored('ok')]);
  t.same(skipped.sort(), ['broken.json', 'other.json', 'renamed.json'], 'an id that does not match its file name is not trusted either');
});
