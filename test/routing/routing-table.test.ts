import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FairspecError } from '../../src/errors.js';
import { RoutingTable, RoutingTableError, type RoutingTableOptions } from '../../src/routing/routing-table.js';

const drafters = ['drafter-scdf', 'drafter-base'];
const pack = {
  default: { drafter: 'drafter-scdf', draft_length: 4 },
  languages: {
    en: { drafter: 'drafter-scdf', draft_length: 5 },
    am: { drafter: null, draft_length: 0 },
    ko: { drafter: 'drafter-base', draft_length: 0 },
  },
};
const table = (file: unknown = pack, options: Partial<RoutingTableOptions> = {}) =>
  new RoutingTable(file, { drafters, ...options });

t.test('a language with an entry gets it, anything else the default', async (t) => {
  const rt = table();
  t.same(rt.resolve('en', 'sampled'), { drafter: 'drafter-scdf', draftLength: 5, source: 'language' });
  t.same(rt.resolve('fr', 'sampled'), { drafter: 'drafter-scdf', draftLength: 4, source: 'default' });
  t.same(rt.resolve(null, 'sampled'), { drafter: 'drafter-scdf', draftLength: 4, source: 'default' });
  t.same(rt.languages, ['am', 'en', 'ko']);
});

t.test('drafter null or draft length 0 is plain decoding, returned as both', async (t) => {
  const rt = table();
  t.same(rt.resolve('am', 'sampled'), { drafter: null, draftLength: 0, source: 'language' });
  t.same(rt.resolve('ko', 'sampled'), { drafter: null, draftLength: 0, source: 'language' });
  const plainDefault = table({ default: { drafter: null, draft_length: 3 } });
  t.same(plainDefault.resolve('en', 'sampled'), { drafter: null, draftLength: 0, source: 'default' });
});

t.test('config overrides win per language, field by field', async (t) => {
  const rt = table(pack, {
    overrides: {
      en: { draftLength: 2 },
      am: { drafter: 'drafter-base', draftLength: 3 },
      ko: { draftLength: 6 },
      sw: { drafter: null },
    },
  });
  t.same(rt.resolve('en', 'sampled'), { drafter: 'drafter-scdf', draftLength: 2, source: 'language' }, 'drafter kept from the pack');
  t.same(rt.resolve('am', 'sampled'), { drafter: 'drafter-base', draftLength: 3, source: 'language' }, 'plain turned on');
  t.same(rt.resolve('ko', 'sampled'), { drafter: 'drafter-base', draftLength: 6, source: 'language' }, 'the pack drafter, now used');
  t.same(rt.resolve('sw', 'sampled'), { drafter: null, draftLength: 0, source: 'language' }, 'a language added by config');
  t.same(rt.resolve('fr', 'sampled'), { drafter: 'drafter-scdf', draftLength: 4, source: 'default' }, 'others untouched');
  t.same(rt.languages, ['am', 'en', 'ko', 'sw']);
});

t.test('a request override applies on top of everything', async (t) => {
  const rt = table(pack, { overrides: { en: { draftLength: 2 } } });
  t.same(rt.resolve('en', 'sampled', { draftLength: 7 }), { drafter: 'drafter-scdf', draftLength: 7, source: 'language' });
  t.same(rt.resolve('en', 'sampled', { drafter: 'drafter-base' }), { drafter: 'drafter-base', draftLength: 2, source: 'language' });
  t.same(rt.resolve('fr', 'sampled', { draftLength: 0 }), { drafter: null, draftLength: 0, source: 'default' });
  t.same(rt.resolve(null, 'sampled', { drafter: null }), { drafter: null, draftLength: 0, source: 'default' });
  t.same(rt.resolve('en', 'sampled', {}), rt.resolve('en', 'sampled'), 'an empty override changes nothing');
  t.same(rt.resolve('en', 'sampled', { drafter: undefined, draftLength: undefined }), rt.resolve('en', 'sampled'), 'nor do undefined fields');
  t.same(rt.resolve('am', 'sampled', { draftLength: 3 }), { drafter: null, draftLength: 0, source: 'language' }, 'no drafter to use');
});

t.test('greedy requests: the greedy entry, else the greedy default, else the ordinary route', async (t) => {
  const withGreedy = {
    ...pack,
    greedy: {
      default: { drafter: 'drafter-base', draft_length: 2 },
      languages: { en: { drafter: null, draft_length: 0 }, am: { drafter: 'drafter-base', draft_length: 3 }, ta: { drafter: 'drafter-scdf', draft_length: 1 } },
    },
  };
  const rt = table(withGreedy);
  t.same(rt.resolve('en', 'greedy'), { drafter: null, draftLength: 0, source: 'language' }, 'its greedy entry');
  t.same(rt.resolve('en', 'sampled'), { drafter: 'drafter-scdf', draftLength: 5, source: 'language' }, 'sampled requests keep the ordinary one');
  t.same(rt.resolve('am', 'greedy'), { drafter: 'drafter-base', draftLength: 3, source: 'language' });
  t.same(rt.resolve('ko', 'greedy'), { drafter: 'drafter-base', draftLength: 2, source: 'default' }, 'no greedy entry: the greedy default wins over the ordinary entry');
  t.same(rt.resolve('fr', 'greedy'), { drafter: 'drafter-base', draftLength: 2, source: 'default' });
  t.same(rt.resolve(null, 'greedy'), { drafter: 'drafter-base', draftLength: 2, source: 'default' });
  t.same(rt.resolve('ta', 'sampled'), { drafter: 'drafter-scdf', draftLength: 4, source: 'default' }, 'a greedy-only language: the ordinary default when sampled');
  t.same(rt.languages, ['am', 'en', 'ko', 'ta'], 'languages of both regimes');

  const noGreedyDefault = table({ ...pack, greedy: { languages: { en: { drafter: null, draft_length: 0 } } } });
  t.same(noGreedyDefault.resolve('en', 'greedy'), { drafter: null, draftLength: 0, source: 'language' });
  t.same(noGreedyDefault.resolve('am', 'greedy'), noGreedyDefault.resolve('am', 'sampled'), 'no greedy default: the ordinary language entry');
  t.same(noGreedyDefault.resolve('fr', 'greedy'), { drafter: 'drafter-scdf', draftLength: 4, source: 'default' }, 'then the ordinary default');

  const old = table();
  for (const language of ['en', 'am', 'ko', 'fr', null]) {
    t.same(old.resolve(language, 'greedy'), old.resolve(language, 'sampled'), `no greedy section: ${language} routes alike`);
  }
});

t.test('config and request overrides win over the greedy routes too', async (t) => {
  const withGreedy = { ...pack, greedy: { default: { drafter: null, draft_length: 0 }, languages: { en: { drafter: 'drafter-base', draft_length: 6 } } } };
  const rt = table(withGreedy, { overrides: { en: { draftLength: 2 }, sw: { drafter: 'drafter-scdf', draftLength: 3 } } });
  t.same(rt.resolve('en', 'greedy'), { drafter: 'drafter-base', draftLength: 2, source: 'language' }, "field by field over en's greedy entry");
  t.same(rt.resolve('en', 'sampled'), { drafter: 'drafter-scdf', draftLength: 2, source: 'language' });
  t.same(rt.resolve('sw', 'greedy'), { drafter: 'drafter-scdf', draftLength: 3, source: 'language' }, 'over the plain greedy default');
  t.same(rt.resolve('fr', 'greedy'), { drafter: null, draftLength: 0, source: 'default' });
  t.same(rt.resolve('en', 'greedy', { draftLength: 5 }), { drafter: 'drafter-base', draftLength: 5, source: 'language' }, 'the request override last');
  t.same(rt.resolve('fr', 'greedy', { drafter: 'drafter-base', draftLength: 1 }), { drafter: 'drafter-base', draftLength: 1, source: 'default' });
  t.throws(() => rt.resolve('en', 'greedy', { drafter: 'drafter-nope' }), { code: 'FS_UNKNOWN_DRAFTER' });
});

t.test('a request naming an unknown drafter fails with FS_UNKNOWN_DRAFTER', async (t) => {
  const rt = table();
  const err = t.throws(() => rt.resolve('en', 'sampled', { drafter: 'drafter-nope' }));
  t.ok(err instanceof FairspecError);
  t.match(err, { code: 'FS_UNKNOWN_DRAFTER', param: 'speculative.drafter', message: /drafter-nope.*drafter-scdf, drafter-base/ });
  const bare = table({ default: { drafter: null, draft_length: 0 } }, { drafters: [] });
  t.throws(() => bare.resolve('en', 'sampled', { drafter: 'drafter-scdf' }), { message: /this pack has: none/ });
  t.throws(() => rt.resolve('en', 'sampled', { draftLength: -1 }), { code: 'FS_INVALID_PARAM', param: 'speculative.draft_length' });
  t.throws(() => rt.resolve('en', 'sampled', { draftLength: 1.5 }), { code: 'FS_INVALID_PARAM' });
  t.throws(() => rt.resolve('en', 'sampled', { draftLength: 33 }), { code: 'FS_INVALID_PARAM' });
});

t.test('routing.json errors name the field and the bad value', async (t) => {
  const cases: [unknown, string, unknown, RegExp][] = [
    [null, '', null, /expected object/],
    [{ languages: {} }, 'default', undefined, /required/],
    [{ default: { drafter: 'drafter-scdf', draft_length: -1 } }, 'default.draft_length', -1, /greater or equal to 0/],
    [{ default: { drafter: 'drafter-scdf', draft_length: 2.5 } }, 'default.draft_length', 2.5, /integer/],
    [{ default: { drafter: 'drafter-scdf', draft_length: '4' } }, 'default.draft_length', '4', /integer/],
    [{ default: { drafter: 'drafter-scdf', draft_length: 99 } }, 'default.draft_length', 99, /less or equal to 32/],
    [{ default: { drafter: 7, draft_length: 4 } }, 'default.drafter', 7, /union/],
    [{ default: { drafter: 'drafter-scdf', draft_length: 4, gamma: 4 } }, 'default.gamma', 4, /unexpected property/],
    [{ ...pack, extra: true }, 'extra', true, /unexpected property/],
    [{ ...pack, languages: { en: { drafter: 'drafter-scdf' } } }, 'languages.en.draft_length', undefined, /required/],
    [{ ...pack, languages: { 'pt-BR': pack.default } }, 'languages.pt-BR', 'pt-BR', /canonical language code.*'pt' covers/],
    [{ ...pack, languages: { English: pack.default } }, 'languages.English', 'English', /canonical/],
    [{ ...pack, languages: { am: { drafter: 'drafter-x', draft_length: 2 } } }, 'languages.am.drafter', 'drafter-x', /unknown drafter \(the pack has: drafter-scdf, drafter-base\)/],
    [{ default: { drafter: 'drafter-x', draft_length: 2 } }, 'default.drafter', 'drafter-x', /unknown drafter/],
    [{ ...pack, greedy: { default: { drafter: 'drafter-x', draft_length: 2 } } }, 'greedy.default.drafter', 'drafter-x', /unknown drafter/],
    [{ ...pack, greedy: { languages: { ta: { drafter: 'drafter-x', draft_length: 2 } } } }, 'greedy.languages.ta.drafter', 'drafter-x', /unknown drafter/],
    [{ ...pack, greedy: { languages: { ta: { drafter: 'drafter-scdf', draft_length: 40 } } } }, 'greedy.languages.ta.draft_length', 40, /less or equal to 32/],
    [{ ...pack, greedy: { default: { drafter: 'drafter-scdf' } } }, 'greedy.default.draft_length', undefined, /required/],
    [{ ...pack, greedy: { languages: { 'pt-BR': pack.default } } }, 'greedy.languages.pt-BR', 'pt-BR', /canonical language code/],
    [{ ...pack, greedy: { ...pack, extra: 1 } }, 'greedy.extra', 1, /unexpected property/],
    [{ ...pack, greedy: [] }, 'greedy', [], /expected object/],
  ];
  t.throws(() => table(pack, { drafters: [] }), { field: 'default.drafter', message: /the pack has: none/ });
  for (const [file, field, value, reason] of cases) {
    const err = t.throws(() => table(file), JSON.stringify(file)) as RoutingTableError;
    t.ok(err instanceof RoutingTableError, `${field}: a RoutingTableError`);
    t.match(err, { code: 'FS_INVALID_ROUTING', field, message: reason }, `${field}: ${err.message}`);
    t.same(err.value, value, `${field}: carries the bad value`);
    if (value !== undefined) t.ok(err.message.includes(JSON.stringify(value)), `message shows ${JSON.stringify(value)}`);
  }
});

t.test('config override errors name the override', async (t) => {
  t.throws(() => table(pack, { overrides: { am: { drafter: 'drafter-x' } } }), {
    code: 'FS_INVALID_ROUTING',
    field: 'overrides.am.drafter',
    value: 'drafter-x',
  });
  t.throws(() => table(pack, { overrides: { am: { draftLength: 40 } } }), { name: 'RoutingTableError', field: 'overrides.am.draftLength', value: 40 });
  t.throws(() => table(pack, { overrides: { 'zh-TW': { draftLength: 2 } } }), { name: 'RoutingTableError', field: 'overrides.zh-TW', value: 'zh-TW' });
});

t.test('load() reads a pack file and names it in errors', async (t) => {
  const dir = t.testdir({
    'routing.json': JSON.stringify(pack),
    'broken.json': '{"default": {',
    'bad.json': JSON.stringify({ default: { drafter: 'drafter-scdf', draft_length: -2 } }),
  });
  const rt = await RoutingTable.load(join(dir, 'routing.json'), { drafters });
  t.same(rt.resolve('en', 'sampled'), { drafter: 'drafter-scdf', draftLength: 5, source: 'language' });
  await t.rejects(RoutingTable.load(join(dir, 'broken.json'), { drafters }), { code: 'FS_INVALID_ROUTING', message: /broken\.json.*not JSON/ });
  await t.rejects(RoutingTable.load(join(dir, 'bad.json'), { drafters }), { field: 'default.draft_length', message: /bad\.json: default\.draft_length = -2/ });
  await t.rejects(RoutingTable.load(join(dir, 'missing.json'), { drafters }), { code: 'ENOENT' });
  writeFileSync(join(dir, 'routing.json'), JSON.stringify({ default: { drafter: null, draft_length: 0 } }));
  t.same((await RoutingTable.load(join(dir, 'routing.json'), { drafters: [] })).resolve('en', 'sampled'), { drafter: null, draftLength: 0, source: 'default' }, 'a pack with no drafters routes everything plain');
});
