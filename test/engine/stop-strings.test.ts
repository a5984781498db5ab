import t from 'tap';
import { StopStringMatcher } from '../../src/engine/stop-strings.js';

function run(stops: string[], pieces: string[]) {
  const m = new StopStringMatcher(stops);
  let out = '';
  const emitted: string[] = [];
  for (const p of pieces) {
    const r = m.push(p);
    emitted.push(r.text);
    out += r.text;
    if (r.stopped) return { out, stopped: true, emitted };
  }
  out += m.flush();
  return { out, stopped: false, emitted };
}

t.test('a stop string inside one piece', async (t) => {
  t.same(run(['END'], ['abcENDdef']), { out: 'abc', stopped: true, emitted: ['abc'] });
});

t.test('a stop string spanning pieces is never emitted, not even in part', async (t) => {
  const r = run(['</s>'], ['hello <', '/', 's', '> more']);
  t.equal(r.out, 'hello ');
  t.ok(r.stopped);
  t.same(r.emitted, ['hello ', '', '', '']);
});

t.test('held text is released when it stops matching, or at the end', async (t) => {
  t.same(run(['</s>'], ['a <', '/x', 'y']).out, 'a </xy');
  t.same(run(['</s>'], ['a <', '/x']).emitted, ['a ', '</x']);
  t.same(run(['</s>'], ['tail </']), { out: 'tail </', stopped: false, emitted: ['tail '] });
});

t.test('the earliest of several stop strings wins', async (t) => {
  t.equal(run(['cd', 'bcd', 'x'], ['abcdx']).out, 'a');
  t.equal(run(['\n\n', '###'], ['one\n', '\ntwo']).out, 'one');
});

t.test('multi-byte and repeated-prefix stop strings', async (t) => {
  t.equal(run(['。\n'], ['日本語。', '\n続き']).out, '日本語');
  t.equal(run(['aab'], ['a', 'a', 'a', 'b']).out, 'a', 'overlapping prefix');
  t.equal(run(['🙂'], ['ok ', '🙂']).out, 'ok ');
});

t.test('no stop strings: everything passes through at once', async (t) => {
  t.same(run([], ['a', 'b']), { out: 'ab', stopped: false, emitted: ['a', 'b'] });
  t.same(run([''], ['a']), { out: 'a', stopped: false, emitted: ['a'] }, 'empty stop strings are ignored');
});
