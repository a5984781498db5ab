import { gzipSync } from 'node:zlib';
import t from 'tap';
import { contextKey, NgramTable, NgramTableError } from '../../src/engine/ngram-table.js';
import { countNgrams } from '../../models/training/ngram/count-ngrams.js';

const bytes = (s: string) => [...Buffer.from(s, 'utf8')];
const V = 257;
const table = NgramTable.decode(NgramTable.encode(V, 4, countNgrams([bytes('abcabcabd abcabc'), bytes('xyz xyz')], { order: 4, minCount: 1, minContextCount: 1 })));

const argmax = (row: Float32Array) => row.indexOf(Math.max(...row));

t.test('q is a full distribution that follows the counts', async (t) => {
  const row = table.logits(bytes('zab'));
  const mass = row.reduce((s, l) => s + Math.exp(l), 0);
  t.ok(Math.abs(mass - 1) < 1e-5, `sums to 1 (${mass})`);
  t.ok(row.every((l) => Number.isFinite(l)), 'every token has q > 0');
  t.equal(argmax(row), 'c'.charCodeAt(0), 'after "ab" comes "c"');
  t.equal(argmax(table.logits(bytes('xy'))), 'z'.charCodeAt(0));
  t.equal(argmax(table.logits(bytes('abcab'))), 'c'.charCodeAt(0), 'only the last order-1 tokens count');
  const unseen = table.logits(bytes('QQQ'));
  t.equal(argmax(unseen), 'a'.charCodeAt(0), 'an unseen context backs off to the unigram counts');
  t.ok(Math.abs(unseen.reduce((s, l) => s + Math.exp(l), 0) - 1) < 1e-5);
});

t.test('context keys tell lengths and orders apart', async (t) => {
  t.not(contextKey([1, 2], 0, 2), contextKey([2, 1], 0, 2));
  t.not(contextKey([0], 0, 1), contextKey([0, 0], 0, 2));
  t.not(contextKey([], 0, 0), contextKey([0], 0, 1));
  t.equal(contextKey([9, 1, 2], 1, 3), contextKey([1, 2], 0, 2));
});

t.test('a damaged table is refused with what is wrong', async (t) => {
  const good = NgramTable.encode(V, 3, countNgrams([bytes('hello hello')], { order: 3, minCount: 1, minContextCount: 1 }));
  const refuse = (data: Uint8Array, pattern: RegExp, what: string) => t.throws(() => NgramTable.decode(data), { name: 'NgramTableError', message: pattern }, what);
  refuse(good.subarray(0, good.length - 7), /truncated or corrupt/, 'truncated');
  refuse(new Uint8Array(10), /too short/, 'tiny');
  const flipped = Uint8Array.from(good);
  flipped[40]! ^= 0x10;
  refuse(flipped, /checksum/, 'one bit flipped');
  const magic = Uint8Array.from(good);
  magic[0] = 0;
  refuse(magic, /magic/, 'not a table');
  const version = Uint8Array.from(good);
  version[4] = 9;
  refuse(version, /version 9/, 'a newer version');
  t.ok(new NgramTableError('x') instanceof Error);
  t.equal(NgramTable.decode(good).order, 3);
});

t.test('read() takes a table as is or gzipped, and refuses a broken gzip stream', async (t) => {
  const good = NgramTable.encode(V, 3, countNgrams([bytes('hello hello')], { order: 3, minCount: 1, minContextCount: 1 }));
  const zipped = gzipSync(good);
  t.same(NgramTable.read(zipped).logits(bytes('hel')), NgramTable.decode(good).logits(bytes('hel')));
  t.same(NgramTable.read(good).logits(bytes('hel')), NgramTable.decode(good).logits(bytes('hel')));
  t.throws(() => NgramTable.read(zipped.subarray(0, zipped.length - 9)), { name: 'NgramTableError', message: /gzip stream \(truncated or corrupt/ });
  const flipped = Uint8Array.from(zipped);
  flipped[flipped.length - 6]! ^= 1; // the gzip trailer's CRC of the content
  t.throws(() => NgramTable.read(flipped), { name: 'NgramTableError' });
});

t.test('counting: one entry per context, and the empty context counts every token', async (t) => {
  const contexts = countNgrams([bytes('aaaa'), bytes('abab')], { order: 2, minCount: 1, minContextCount: 1 });
  const keys = contexts.map((c) => c.key);
  t.equal(new Set(keys).size, keys.length, 'one entry per key');
  const empty = contexts.find((c) => c.key === contextKey([], 0, 0))!;
  t.equal(empty.total, 8, 'the empty context counts every token');
  t.same(new Map(empty.next).get(97), 6);
});
