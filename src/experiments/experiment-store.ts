// The in-memory registry of experiments and of what each arm observed, per language.
// Experiments come from config at boot (load) and from the admin API (create, delete,
// setEnabled). At most one experiment is enabled at a time: two experiments on the same
// traffic would both want to pick the request's drafter.
//
// The caller passes a bounded language label (src/language.ts); past
// `maxLanguages` labels per experiment, further ones are folded into 'other' so a caller bug
// cannot grow memory without bound.
//
// What an experiment observed lives in this process only and ends with it; the same sums are
// exported as counters (src/metrics/experiment-counters.ts), which is where they outlive the
// process: the cluster read-out adds every replica's and every restart's in Prometheus.

import { createHash } from 'node:crypto';
import { DEFAULT_MIN_REQUESTS, PlainSums, type PlainDecodingReference } from '../fairness/plain-reference.js';
import type { RequestOutcome } from '../fairness/request-outcome.js';
import { OTHER } from '../language.js';
import type { ReadoutInput } from './analysis.js';
import { assignArm } from './assignment.js';
import type { CellStatistics } from './cell-statistics.js';
import { ExperimentError } from './errors.js';
import { parseExperiment, type Arm, type Experiment } from './experiment.js';
import { ObservationCell } from './observation-cell.js';

export interface ExperimentStoreOptions {
  /** Drafter names of the model pack, checked in every arm. */
  knownDrafters?: readonly string[];
  /** Latency samples kept per (arm, language) cell; default 2048. */
  reservoirSize?: number;
  /** Language labels kept per experiment before folding into 'other'; default 64. */
  maxLanguages?: number;
  /**
   * Experiments held at once, enabled or not; default 16. Each one's arms are metric label
   * values and its cells are summarised on every scrape, so the registry is bounded too.
   */
  maxExperiments?: number;
  /**
   * The server's plain-decoding reference: its owner records every plain request into it once,
   * and each experiment without a plain arm adds up those recorded after it was created, the
   * reference of its speed-ups (src/experiments/reference-choice.ts). Without it, such an
   * experiment is measured against the γ = 0 requests its own arms recorded.
   */
  reference?: PlainDecodingReference;
  /** Clock for createdAt; default Date.now. */
  now?: () => number;
}

export interface Assignment {
  experimentId: string;
  arm: Arm;
}

export type { ReferenceScope } from './reference-choice.js';

/** An experiment's sufficient statistics as they stand, shared with this store (read them at once). */
export interface ExperimentStatistics {
  experiment: Experiment;
  /** Epoch milliseconds. */
  createdAt: number;
  cells: readonly { arm: string; language: string; statistics: CellStatistics }[];
  /** The server's plain requests since the experiment was created; null with a plain arm or no shared reference. */
  serverReference: PlainSums | null;
}

interface Entry {
  experiment: Experiment;
  createdAt: number;
  /** arm name -> language -> cell */
  cells: Map<string, Map<string, ObservationCell>>;
  languages: Set<string>;
  serverReference: PlainSums | null;
}

/** Reservoir seed of a cell: a replayed stream of observations gives the same latency sample. */
function cellSeed(id: string, arm: string, language: string): number {
  return createHash('sha256').update(`${id}\0${arm}\0${language}`).digest().readUIntBE(0, 6);
}

export class ExperimentStore {
  readonly #sharedReference: PlainDecodingReference | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #knownDrafters: readonly string[] | undefined;
  readonly #reservoirSize: number;
  readonly #maxLanguages: number;
  readonly #maxExperiments: number;
  readonly #now: () => number;

  constructor(options: ExperimentStoreOptions = {}) {
    this.#knownDrafters = options.knownDrafters;
    this.#reservoirSize = options.reservoirSize ?? 2048;
    this.#maxLanguages = options.maxLanguages ?? 64;
    this.#maxExperiments = options.maxExperiments ?? 16;
    this.#sharedReference = options.reference;
    this.#now = options.now ?? Date.now;
    this.#sharedReference?.onRecord((language, sums) => {
      for (const entry of this.#entries.values()) entry.serverReference?.add(language, sums);
    });
  }

  /**
   * Boot: validates every definition first (errors name `experiments[i].field`), then adds them
   * all or none. `createdAt` gives an experiment's creation time (epoch ms) when it is known
   * from before this process (the state folder); default now.
   */
  load(definitions: unknown, createdAt: (experiment: Experiment) => number | undefined = () => undefined): Experiment[] {
    if (!Array.isArray(definitions)) {
      const issue = { field: 'experiments', value: definitions, reason: 'must be an array of experiments' };
      throw new ExperimentError('FS_INVALID_EXPERIMENT', `invalid experiments: must be an array (got ${JSON.stringify(definitions)})`, 'experiments', [issue]);
    }
    const parsed = definitions.map((d, i) => this.#parse(d, `experiments[${i}]`));
    if (this.#entries.size + parsed.length > this.#maxExperiments) throw this.#tooMany('experiments');
    const ids = new Set(this.#entries.keys());
    let enabled = [...this.#entries.values()].find((e) => e.experiment.enabled)?.experiment.id;
    parsed.forEach((experiment, i) => {
      if (ids.has(experiment.id)) {
        throw new ExperimentError('FS_EXPERIMENT_EXISTS', `experiments[${i}].id: experiment ${JSON.stringify(experiment.id)} already exists`, `experiments[${i}].id`);
      }
      ids.add(experiment.id);
      if (experiment.enabled && enabled !== undefined) throw this.#conflict(experiment.id, enabled, `experiments[${i}].enabled`);
      if (experiment.enabled) enabled = experiment.id;
    });
    for (const experiment of parsed) this.#add(experiment, createdAt(experiment));
    return parsed;
  }

  /** Validates `definition` and adds it; `createdAt` (epoch ms) as for load(). */
  create(definition: unknown, createdAt?: number): Experiment {
    const experiment = this.#parse(definition);
    if (this.#entries.has(experiment.id)) {
      throw new ExperimentError('FS_EXPERIMENT_EXISTS', `experiment ${JSON.stringify(experiment.id)} already exists`, 'id');
    }
    const enabled = this.enabled();
    if (experiment.enabled && enabled) throw this.#conflict(experiment.id, enabled.id, 'enabled');
    if (this.#entries.size >= this.#maxExperiments) throw this.#tooMany(null);
    this.#add(experiment, createdAt);
    return experiment;
  }


  get(id: string): Experiment | undefined {
    return this.#entries.get(id)?.experiment;
  }

  /** Experiments in creation order. */
  list(): Experiment[] {
    return [...this.#entries.values()].map((e) => e.experiment);
  }

  /** Removes the experiment and its observations; false when there was none. */
  delete(id: string): boolean {
    return this.#entries.delete(id);
  }

  /** Pauses or resumes assignment; observations are kept. */
  setEnabled(id: string, enabled: boolean): Experiment {
    const entry = this.#require(id);
    const running = this.enabled();
    if (enabled && running && running.id !== id) throw this.#conflict(id, running.id, 'enabled');
    entry.experiment = Object.freeze({ ...entry.experiment, enabled });
    return entry.experiment;
  }

  /** The experiment that assigns traffic now, if any. */
  enabled(): Experiment | undefined {
    return this.list().find((e) => e.enabled);
  }

  /** The arm of the enabled experiment for this user key (see assignment.ts userKey()); null when none runs. */
  assign(userKey: string): Assignment | null {
    const experiment = this.enabled();
    return experiment ? { experimentId: experiment.id, arm: assignArm(experiment, userKey) } : null;
  }

  /**
   * Adds one finished generation of an assigned request. Returns false, recording nothing,
   * when the experiment was deleted meanwhile or has no such arm.
   */
  record(experimentId: string, arm: string, language: string, outcome: RequestOutcome): boolean {
    const entry = this.#entries.get(experimentId);
    const cells = entry?.cells.get(arm);
    if (!entry || !cells) return false;
    const label = entry.languages.has(language) || entry.languages.size < this.#maxLanguages ? language : OTHER;
    entry.languages.add(label);
    let cell = cells.get(label);
    if (!cell) cells.set(label, (cell = new ObservationCell(this.#reservoirSize, cellSeed(experimentId, arm, label))));
    cell.record(outcome);
    return true;
  }

  /** Plain requests a language needs before its own reference replaces the pooled one. */
  get minReferenceRequests(): number {
    return this.#sharedReference?.minRequests ?? DEFAULT_MIN_REQUESTS;
  }

  /** The experiment's live sums, without copying them (the counters read these on every scrape). */
  statistics(id: string): ExperimentStatistics {
    const entry = this.#require(id);
    const cells: ExperimentStatistics['cells'][number][] = [];
    for (const [arm, byLanguage] of entry.cells) {
      for (const [language, statistics] of byLanguage) cells.push({ arm, language, statistics });
    }
    return { experiment: entry.experiment, createdAt: entry.createdAt, cells, serverReference: entry.serverReference };
  }

  /** This replica's read-out input (analysis.ts summarise), with each cell's latency sample. */
  snapshot(id: string): ReadoutInput {
    const entry = this.#require(id);
    const { experiment, createdAt, serverReference } = this.statistics(id);
    const cells = [...entry.cells].flatMap(([arm, byLanguage]) =>
      [...byLanguage].map(([language, cell]) => ({ arm, language, statistics: cell, latencySample: cell.latencyMs.sorted() })),
    );
    return {
      experiment,
      createdAt: new Date(createdAt).toISOString(),
      cells,
      serverReference: serverReference?.copy() ?? null,
      minReferenceRequests: this.minReferenceRequests,
      scope: 'replica',
      processes: 1,
    };
  }

  #parse(definition: unknown, path?: string): Experiment {
    return parseExperiment(definition, {
      ...(this.#knownDrafters && { knownDrafters: this.#knownDrafters }),
      ...(path !== undefined && { path }),
    });
  }

  #add(experiment: Experiment, createdAt = this.#now()): void {
    const cells = new Map(experiment.arms.map((arm) => [arm.name, new Map<string, ObservationCell>()]));
    const plainArm = experiment.arms.some((a) => a.drafter === null);
    const serverReference = this.#sharedReference && !plainArm ? new PlainSums() : null;
    this.#entries.set(experiment.id, { experiment, createdAt, cells, languages: new Set(), serverReference });
  }

  #require(id: string): Entry {
    const entry = this.#entries.get(id);
    if (!entry) throw new ExperimentError('FS_EXPERIMENT_NOT_FOUND', `no experiment ${JSON.stringify(id)}`, 'id');
    return entry;
  }

  #tooMany(param: string | null): ExperimentError {
    return new ExperimentError(
      'FS_TOO_MANY_EXPERIMENTS',
      `at most ${this.#maxExperiments} experiments can be held at once; delete one first`,
      param,
    );
  }

  #conflict(id: string, running: string, param: string): ExperimentError {
    return new ExperimentError(
      'FS_EXPERIMENT_CONFLICT',
      `cannot enable experiment ${JSON.stringify(id)}: experiment ${JSON.stringify(running)} is enabled (disable it first)`,
      param,
    );
  }
}
