// A model fault: a forward pass that threw, or logits no distribution can come from (NaN, +∞,
// or nothing finite). Either would otherwise surface far from its cause: as a RangeError in
// sampling, or as NaN in the acceptance statistics that routing learns from (issue 16). The
// speculative loop turns a drafter's fault into plain decoding and fails the request on a
// verifier's.

import { EngineError } from './errors.js';

/** Throws FS_MODEL_FAULT unless `row` [vocab] has no NaN, no +∞ and at least one finite logit. */
export function assertUsableLogits(row: ArrayLike<number>, model: string): void {
  let finite = false;
  for (let i = 0; i < row.length; i++) {
    const x = row[i]!;
    if (Number.isNaN(x) || x === Infinity) throw new EngineError('FS_MODEL_FAULT', `${model} gave a non-finite logit (${x} at ${i})`, { model });
    if (x !== -Infinity) finite = true;
  }
  if (!finite) throw new EngineError('FS_MODEL_FAULT', `${model} gave no finite logit`, { model });
}

/** `err` from `model`'s forward pass as an FS_MODEL_FAULT (kept as is when it is one already). */
export function modelFault(err: unknown, model: string): EngineError {
  if (err instanceof EngineError && err.code === 'FS_MODEL_FAULT') return err;
  const message = err instanceof Error ? err.message : String(err);
  return new EngineError('FS_MODEL_FAULT', `${model}: forward pass failed: ${message}`, { model }, { cause: err });
}
