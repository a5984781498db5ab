// The in-memory registry of experiments and of what each arm observed, per language.
// Experiments come from config at boot (load) and from the admin API (create, delete,
// setEnabled). At most one experiment is enabled at a time: two experiments on the same
// traffic would both want to pick the request's drafter.
//
// The caller passes a bounded language label (src/language.ts); past
// `maxLanguages` labels per experiment, further ones are folded into 'other' so a caller bug
// cannot grow memory without bound.

import { createHash } from 'node:crypto';
import { PlainDecodingReference, type PlainReferenceEstimate } from '../fairness/plain-reference.js';
import type { RequestOutcome } from '../fairness/request-outcome.js';
import { OTHER } from '../language.js';
import { assignArm } from './assignment.js';
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
   * A plain-decoding reference shared with other components, read only here: its owner
   * records plain requests into it once. Without one, each experiment keeps its own, fed from
   * the γ = 0 requests it records (a control arm with drafter null): a baseline measured on
   * the same traffic at the same time as the arms it is compared with, which is what a
   * speed-up should be relative to when machine load changes.
   */
  reference?: PlainDecodingReference;
  /** Clock for createdAt; default Date.now. */
  now?: () => number;
}

export interface Assignment {
  experimentId: string;
  arm: Arm;
}

export interface CellView {
  arm: string;
  language: string;
  cell: ObservationCell;
}

/** What analysis.ts needs: the experiment, its cells and the plain reference per language. */
export interface ExperimentSnapshot {
  experiment: Experiment;
  createdAt: string;
  cells: readonly CellView[];
  reference: ReadonlyMap<string, PlainReferenceEstimate | null>;
}

interface Entry {
  experiment: Experiment;
  createdAt: number;
  /** arm name -> language -> cell */
  cells: Map<string, Map<string, ObservationCell>>;
  languages: Set<string>;
  reference: PlainDecodingReference;
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
  }

  /** Boot: validates every definition first (errors name `experiments[i].field`), then adds them all or none. */
  load(definitions: unknown): Experiment[] {
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
    for (const experiment of parsed) this.#add(experiment);
    return parsed;
  }

  create(definition: unknown): Experiment {
    const experiment = this.#parse(definition);
    if (this.#entries.has(experiment.id)) {
      throw new ExperimentError('FS_EXPERIMENT_EXISTS', `experiment ${JSON.stringify(experiment.id)} already exists`, 'id');
    }
    const enabled = this.enabled();
    if (experiment.enabled && enabled) throw this.#conflict(experiment.id, enabled.id, 'enabled');
    if (this.#entries.size >= this.#maxExperiments) throw this.#tooMany(null);
    this.#add(experiment);
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
    if (!this.#sharedReference) entry.reference.record(label, outcome);
    return true;
  }

  snapshot(id: string): ExperimentSnapshot {
    const entry = this.#require(id);
    const cells: CellView[] = [];
    for (const [arm, byLanguage] of entry.cells) {
      for (const [language, cell] of byLanguage) cells.push({ arm, language, cell });
    }
    const reference = new Map([...entry.languages].map((l) => [l, entry.reference.estimate(l)] as const));
    return { experiment: entry.experiment, createdAt: new Date(entry.createdAt).toISOString(), cells, reference };
  }

  #parse(definition: unknown, path?: string): Experiment {
    return parseExperiment(definition, {
      ...(this.#knownDrafters && { knownDrafters: this.#knownDrafters }),
      ...(path !== undefined && { path }),
    });
  }

  #add(experiment: Experiment): void {
    const cells = new Map(experiment.arms.map((arm) => [arm.name, new Map<string, ObservationCell>()]));
    const reference = this.#sharedReference ?? new PlainDecodingReference();
    this.#entries.set(experiment.id, { experiment, createdAt: this.#now(), cells, languages: new Set(), reference });
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
