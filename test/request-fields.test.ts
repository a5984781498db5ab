// Fields a request has and its schema does not (issue 17): listed in order; strict refuses the first.

import t from 'tap';
import { checkUnknownFields, unknownFields } from '../src/request-fields.js';

const schema = { properties: { model: {}, prompt: {} } };

t.test('the top-level fields the schema does not declare', async (t) => {
  t.same(unknownFields(schema, { model: 'm', best_of: 1, prompt: 'x', use_beam_search: false }), ['best_of', 'use_beam_search']);
  t.same(unknownFields(schema, { model: 'm', toString: 1, __defineGetter__: 2 }), ['toString', '__defineGetter__'], 'not fooled by Object.prototype');
  t.same(unknownFields(schema, [1]), []);
  t.same(unknownFields(schema, null), []);
});

t.test('lenient: returned to be logged; strict: FS_UNKNOWN_PARAMETER naming the first', async (t) => {
  t.same(checkUnknownFields(schema, { model: 'm', a: 1, b: 2 }, false), ['a', 'b']);
  t.same(checkUnknownFields(schema, { model: 'm' }, true), []);
  t.throws(() => checkUnknownFields(schema, { model: 'm', a: 1, b: 2 }, true), { code: 'FS_UNKNOWN_PARAMETER', param: 'a', message: "Unrecognized request argument supplied: 'a'." });
});
