// Error bodies are cut to a fixed size (plugins/error-bounds.ts).
import t from 'tap';
import { boundedError, clip, ERROR_BODY_BYTES, MAX_MESSAGE_CHARS, MAX_PARAM_CHARS } from '../../plugins/error-bounds.js';

t.test('clip keeps short text, cuts long text with an ellipsis, never splits a surrogate pair', async (t) => {
  t.equal(clip('short', 10), 'short');
  t.equal(clip('0123456789abc', 10), '012345678…');
  const cut = clip(`${'a'.repeat(8)}😀😀`, 10);
  t.equal(cut, `${'a'.repeat(8)}…`, 'the emoji straddling the cut goes whole');
  t.notOk(/[\ud800-\udbff](?![\udc00-\udfff])/.test(cut), 'no lone high surrogate');
});

t.test('a body of control characters at both caps stays under ERROR_BODY_BYTES', async (t) => {
  const error = boundedError({ message: '\u0001'.repeat(1_000_000), type: 'invalid_request_error', param: '"'.repeat(1_000_000), code: 'unknown_parameter' });
  t.equal(error.message.length, MAX_MESSAGE_CHARS);
  t.equal(error.param!.length, MAX_PARAM_CHARS);
  t.ok(Buffer.byteLength(JSON.stringify({ error })) < ERROR_BODY_BYTES);
  t.equal(boundedError({ message: 'm', type: 'x', param: null, code: null }).param, null);
});
