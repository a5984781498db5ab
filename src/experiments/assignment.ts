// Sticky, deterministic assignment of users to arms.
//
//   u = first 48 bits of SHA-256(salt + ':' + userKey) / 2^48      uniform in [0, 1)
//   arm = the first arm whose cumulative weight share exceeds u
//
// Nothing process-local enters the hash, so a user gets the same arm after a restart and on
// every replica. Changing the salt reshuffles everyone (a fresh experiment); changing weights
// moves only the users whose u lies between the old and new boundaries, and an arm of weight
// 0 receives nobody. Requests without a user fall back to their request id: assigned per
// request, not sticky.

import { createHash } from 'node:crypto';
import type { Arm, Experiment } from './experiment.js';

/** The user's position in [0, 1) for this salt. */
export function assignmentPoint(salt: string, userKey: string): number {
  const digest = createHash('sha256').update(`${salt}:${userKey}`, 'utf8').digest();
  return digest.readUIntBE(0, 6) / 2 ** 48; // 48 bits: exact in a double, ample resolution
}

/** The arm `userKey` gets in `experiment`, enabled or not. */
export function assignArm(experiment: Pick<Experiment, 'salt' | 'arms'>, userKey: string): Arm {
  const { arms } = experiment;
  const total = arms.reduce((sum, arm) => sum + arm.weight, 0);
  if (!(total > 0)) throw new RangeError('assignArm: arm weights must sum to more than 0');
  const target = assignmentPoint(experiment.salt, userKey) * total;
  let cumulative = 0;
  for (const arm of arms) {
    cumulative += arm.weight;
    if (target < cumulative) return arm;
  }
  // Rounding in the sum can leave target == total: the last arm with traffic takes it.
  return arms.findLast((arm) => arm.weight > 0)!;
}

export type UserKeySource = 'user' | 'header' | 'request';

export interface UserKeyInput {
  /** The request body's `user` field (OpenAI). */
  user?: string | null | undefined;
  /** The x-fairspec-user header as Node gives it. */
  header?: string | readonly string[] | undefined;
  requestId: string;
}

/** The key a request is assigned by: `user`, else the x-fairspec-user header, else the request id. */
export function userKey(input: UserKeyInput): { key: string; source: UserKeySource } {
  const user = typeof input.user === 'string' ? input.user.trim() : '';
  if (user !== '') return { key: user, source: 'user' };
  const header = (Array.isArray(input.header) ? input.header[0] : input.header)?.trim() ?? '';
  if (header !== '') return { key: header, source: 'header' };
  return { key: input.requestId, source: 'request' };
}
