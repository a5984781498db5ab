// Which plain requests an experiment's speed-ups divide by (src/experiments/statistics/speed-up.ts),
// decided from the read-out's input alone, so a replica's read-out and the cluster's decide alike:
//   - the experiment's plain arms (drafter null): the same traffic at the same time as the arms
//     compared with them, which is what a speed-up should be relative to when machine load changes;
//   - without one, the server's plain requests since the experiment was created (every plain
//     request: a `speculative: {draft_length: 0}` request, a language routed to γ = 0);
//   - with neither, the γ = 0 requests its own arms recorded.

import { PlainSums } from '../fairness/plain-reference.js';
import type { CellStatistics } from './cell-statistics.js';
import type { Experiment } from './experiment.js';

/**
 * 'experiment': the experiment's plain arms, or without any the γ = 0 requests of its arms;
 * 'server': the server's plain requests since the experiment was created.
 */
export type ReferenceScope = 'experiment' | 'server';

export interface ReferenceChoice {
  sums: PlainSums;
  scope: ReferenceScope;
  /** Arms whose plain requests the reference counts (a cell's plainTiming is then part of it). */
  arms: ReadonlySet<string>;
}

export function chooseReference(
  experiment: Experiment,
  cells: readonly { arm: string; language: string; statistics: CellStatistics }[],
  serverReference: PlainSums | null,
): ReferenceChoice {
  const plainArms = experiment.arms.filter((a) => a.drafter === null).map((a) => a.name);
  const allArms = experiment.arms.map((a) => a.name);
  if (plainArms.length === 0 && serverReference !== null) return { sums: serverReference, scope: 'server', arms: new Set(allArms) };
  const arms = new Set(plainArms.length > 0 ? plainArms : allArms);
  const sums = new PlainSums();
  for (const cell of cells) if (arms.has(cell.arm)) sums.add(cell.language, cell.statistics.plainTiming);
  return { sums, scope: 'experiment', arms };
}
