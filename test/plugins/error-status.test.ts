// Every error code of the one union maps to an HTTP status; client errors to a 4xx with a code of
// OpenAI's shape, boot errors to the generic 500.

import t from 'tap';
import { ERROR_CODES, errorCode } from '../../src/error-codes.js';
import { EngineError } from '../../src/engine/errors.js';
import { AbortedError, FairspecError } from '../../src/errors.js';
import { ERROR_STATUS, INTERNAL } from '../../plugins/error-status.js';

t.test('the table maps exactly the codes of the union', async (t) => {
  t.same(Object.keys(ERROR_STATUS).sort(), [...ERROR_CODES].sort());
  for (const code of ERROR_CODES) {
    const m = ERROR_STATUS[code];
    t.ok(m.status >= 400 && m.status < 600, `${code}: ${m.status}`);
    if (m.status < 500) t.match(m.code, /^[a-z0-9_]+$/, `${code}: a client error names its code`);
  }
  for (const boot of ['FS_INVALID_CONFIG', 'FS_INVALID_ROUTING', 'FS_MODEL_CONFIG', 'FS_MODEL_IO', 'FS_MODEL_LOAD'] as const) {
    t.equal(ERROR_STATUS[boot], INTERNAL, `${boot} is a boot error`);
  }
});

t.test('errorCode reads the code of any error class, and only known codes', async (t) => {
  t.equal(errorCode(new FairspecError('FS_QUEUE_FULL', 'full')), 'FS_QUEUE_FULL');
  t.equal(errorCode(new EngineError('FS_MODEL_IO', 'io')), 'FS_MODEL_IO');
  t.equal(errorCode(new AbortedError()), 'FS_ABORTED');
  t.equal(errorCode(Object.assign(new Error('x'), { code: 'FS_NO_SUCH_CODE' })), null);
  t.equal(errorCode(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' })), null);
  t.equal(errorCode(null), null);
});
