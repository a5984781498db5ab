import t from 'tap';
import { AdminToken } from '../src/admin-token.js';

t.test('Bearer <token>, nothing else', async (t) => {
  const token = new AdminToken('s3cret-token-0123456789');
  t.equal(token.check('Bearer s3cret-token-0123456789'), 'ok');
  t.equal(token.check('bearer s3cret-token-0123456789'), 'ok', 'the scheme is case-insensitive');
  t.equal(token.check('Bearer s3cret-token-012345678'), 'wrong', 'a prefix');
  t.equal(token.check('Bearer s3cret-token-01234567890'), 'wrong', 'longer');
  t.equal(token.check('Bearer S3CRET-TOKEN-0123456789'), 'wrong', 'the token is case-sensitive');
  t.equal(token.check(undefined), 'missing');
  t.equal(token.check(''), 'missing');
  t.equal(token.check('Basic czNjcmV0'), 'missing');
  t.equal(token.check('s3cret-token-0123456789'), 'missing', 'no scheme');
  t.equal(token.check('Bearer a b'), 'missing', 'two tokens');
  t.throws(() => new AdminToken(''), RangeError);
});
