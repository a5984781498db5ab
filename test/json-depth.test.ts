// The nesting scan that runs before a JSON body is parsed (plugins/json-body.ts).
import t from 'tap';
import { nestsDeeperThan } from '../src/json-depth.js';

t.test('counts objects and arrays inside one another, not side by side', async (t) => {
  t.equal(nestsDeeperThan('{"a":[1,{"b":[]}]}', 4), false, 'depth 4');
  t.equal(nestsDeeperThan('{"a":[1,{"b":[]}]}', 3), true);
  t.equal(nestsDeeperThan('[[],[],[],[]]', 2), false, 'siblings do not add up');
  t.equal(nestsDeeperThan('1', 0), false);
  t.equal(nestsDeeperThan('[1]', 0), true);
  t.equal(nestsDeeperThan('['.repeat(1_000_000), 32), true, 'unclosed: still judged, the parser rejects it next');
});

t.test('brackets inside strings, escaped quotes included, do not count', async (t) => {
  t.equal(nestsDeeperThan(JSON.stringify({ s: '[[[[{{{{' }), 1), false);
  t.equal(nestsDeeperThan(JSON.stringify({ s: 'say "[[[[" \\' }), 1), false, 'an escaped quote does not end the string');
  t.equal(nestsDeeperThan('{"s":"\\\\","t":[[[1]]]}', 3), true, 'an escaped backslash, then the closing quote');
});
