// The admin API's bearer token check. The comparison takes the same time whatever the guess:
// both sides are hashed to 32 bytes first, so neither a differing byte's position nor the
// presented token's length shows in the timing (timingSafeEqual alone needs equal lengths).

import { createHash, timingSafeEqual } from 'node:crypto';

export type TokenCheck = 'ok' | 'missing' | 'wrong';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export class AdminToken {
  readonly #digest: Buffer;

  constructor(token: string) {
    if (token === '') throw new RangeError('the admin token must not be empty');
    this.#digest = digest(token);
  }

  /** Checks an Authorization header value: `Bearer <token>` (scheme case-insensitive, RFC 7235). */
  check(authorization: string | undefined): TokenCheck {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (m === null) return 'missing';
    return timingSafeEqual(digest(m[1]!), this.#digest) ? 'ok' : 'wrong';
  }
}
