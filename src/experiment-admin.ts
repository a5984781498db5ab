// What the experiments admin API does (plugins/experiments.ts), over the in-memory registry
// (src/experiments/experiment-store.ts), the state folder that outlives the process and is
// shared by replicas (src/experiments/state-folder.ts, FAIRSPEC_STATE_DIR), and the cluster
// read-out from Prometheus (src/cluster/cluster-readout.ts, FAIRSPEC_PROMETHEUS_URL).
//
// With a state folder:
//   - boot: FAIRSPEC_EXPERIMENTS first (a config experiment keeps the creation time stored with
//     the same definition, else gets one now and is stored), then every experiment the admin API
//     created, on this replica or another, before this process started;
//   - create and delete change the folder first and memory after, so what a client was told
//     succeeded is on disk; a write that fails changes nothing;
//   - every FAIRSPEC_STATE_SYNC_MS the folder is read again: experiments another replica created
//     are added, those it deleted are removed (config experiments are the config's to change).
// Replicas converge within one sync; until then a new experiment assigns traffic on the replica
// that created it only, which its read-outs (replica and cluster alike) simply count.

import { summarise, type ExperimentSummary, type ReadoutScope } from './experiments/analysis.js';
import { clusterReadoutInput } from './cluster/cluster-readout.js';
import type { PrometheusApi } from './cluster/prometheus-api.js';
import { FairspecError } from './errors.js';
import { ExperimentError, isExperimentError } from './experiments/errors.js';
import type { ExperimentStore } from './experiments/experiment-store.js';
import { parseExperiment, type Experiment } from './experiments/experiment.js';
import type { StateFolder, StoredExperiment } from './experiments/state-folder.js';

interface Log {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface ExperimentAdminOptions {
  store: ExperimentStore;
  state?: StateFolder | null;
  prometheus?: PrometheusApi | null;
  /** How often the state folder is read again for other replicas' changes; 0: never. */
  syncIntervalMs?: number;
  log: Log;
  now?: () => number;
}

/** Whether a stored definition is `experiment`'s, defaults filled in alike. */
function sameDefinition(stored: unknown, experiment: Experiment): boolean {
  try {
    return JSON.stringify(parseExperiment(stored)) === JSON.stringify(experiment);
  } catch {
    return false;
  }
}

export class ExperimentAdmin {
  readonly #store: ExperimentStore;
  readonly #state: StateFolder | null;
  readonly #prometheus: PrometheusApi | null;
  readonly #log: Log;
  readonly #now: () => number;
  readonly #syncIntervalMs: number;
  /** Experiments of this store that the admin API created (here or on another replica). */
  readonly #fromApi = new Set<string>();
  /** Stored experiments this replica could not add, by id and creation time, so each is logged once. */
  readonly #refused = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #syncing: Promise<void> | null = null;
  /** Create, delete and sync run one at a time: each reads the folder and memory, then changes both. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(options: ExperimentAdminOptions) {
    this.#store = options.store;
    this.#state = options.state ?? null;
    this.#prometheus = options.prometheus ?? null;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#syncIntervalMs = options.syncIntervalMs ?? 0;
  }

  get store(): ExperimentStore {
    return this.#store;
  }

  /** Loads the config's experiments (throwing their ExperimentError), then the stored ones, and starts syncing. */
  async boot(configured: readonly Experiment[]): Promise<void> {
    const stored = this.#state ? await this.#state.list((file, reason) => this.#log.warn({ file, reason }, 'state folder: file ignored')) : [];
    const createdAt = new Map<string, number>();
    for (const experiment of configured) {
      const kept = stored.find((s) => s.origin === 'config' && s.definition.id === experiment.id && sameDefinition(s.definition, experiment));
      createdAt.set(experiment.id, kept ? Date.parse(kept.createdAt) : this.#now());
    }
    this.#store.load(configured, (e) => createdAt.get(e.id));
    if (this.#state) {
      for (const experiment of configured) {
        const at = new Date(createdAt.get(experiment.id)!).toISOString();
        const same = stored.find((s) => s.definition.id === experiment.id);
        if (same?.origin === 'api') this.#refuse(same, `an experiment ${experiment.id} is configured on this replica`);
        else if (same?.createdAt !== at) await this.#state.write({ definition: { ...experiment, arms: [...experiment.arms] }, createdAt: at, origin: 'config' });
      }
      this.#apply(stored);
      if (this.#syncIntervalMs > 0) {
        this.#timer = setInterval(() => void this.sync(), this.#syncIntervalMs);
        this.#timer.unref();
      }
    }
  }

  /** Reads the state folder again and applies other replicas' creations and deletions. */
  sync(): Promise<void> {
    const state = this.#state;
    if (!state) return Promise.resolve();
    this.#syncing ??= this.#exclusive(async () => this.#apply(await state.list()))
      .catch((err: unknown) => this.#log.warn({ err }, 'state folder: sync failed; retrying at the next interval'))
      .finally(() => (this.#syncing = null));
    return this.#syncing;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Creates an experiment from an admin request body; stored first when there is a state folder. */
  create(definition: unknown): Promise<Experiment> {
    return this.#exclusive(() => this.#create(definition));
  }

  async #create(definition: unknown): Promise<Experiment> {
    const createdAt = this.#now();
    const experiment = this.#store.create(definition, createdAt);
    if (!this.#state) return experiment;
    let stored: boolean;
    try {
      stored = await this.#state.create({ definition: { ...experiment, arms: [...experiment.arms] }, createdAt: new Date(createdAt).toISOString(), origin: 'api' });
    } catch (err) {
      this.#store.delete(experiment.id);
      this.#log.error({ err, folder: this.#state.path }, 'state folder: could not store an experiment');
      throw new FairspecError('FS_STATE_WRITE_FAILED', `could not store experiment ${experiment.id}`);
    }
    if (!stored) {
      this.#store.delete(experiment.id);
      throw new ExperimentError('FS_EXPERIMENT_EXISTS', `experiment ${JSON.stringify(experiment.id)} already exists (created on another replica)`, 'id');
    }
    this.#fromApi.add(experiment.id);
    return experiment;
  }

  /** Deletes an experiment and its observations; from the state folder first. */
  delete(id: string): Promise<void> {
    return this.#exclusive(() => this.#delete(id));
  }

  async #delete(id: string): Promise<void> {
    if (!this.#store.get(id)) throw new ExperimentError('FS_EXPERIMENT_NOT_FOUND', `No experiment '${id}'.`, 'id');
    if (this.#state) {
      try {
        await this.#state.remove(id);
      } catch (err) {
        this.#log.error({ err, folder: this.#state.path }, 'state folder: could not remove an experiment');
        throw new FairspecError('FS_STATE_WRITE_FAILED', `could not remove experiment ${id}`);
      }
    }
    this.#store.delete(id);
    this.#fromApi.delete(id);
  }

  /** The read-out of this replica's observations, or of the cluster's from Prometheus. */
  async readout(id: string, scope: ReadoutScope = 'replica'): Promise<ExperimentSummary> {
    if (!this.#store.get(id)) throw new ExperimentError('FS_EXPERIMENT_NOT_FOUND', `No experiment '${id}'.`, 'id');
    if (scope === 'replica') return summarise(this.#store.snapshot(id));
    if (!this.#prometheus) {
      throw new FairspecError('FS_CLUSTER_READOUT_DISABLED', 'The cluster read-out needs FAIRSPEC_PROMETHEUS_URL, the Prometheus that scrapes every replica.', 'scope');
    }
    const { experiment, createdAt } = this.#store.statistics(id);
    const input = await clusterReadoutInput(this.#prometheus, experiment, new Date(createdAt).toISOString(), {
      minReferenceRequests: this.#store.minReferenceRequests,
    });
    return summarise(input);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(fn, fn);
    this.#turn = run.catch(() => {});
    return run;
  }

  #apply(stored: readonly StoredExperiment[]): void {
    const api = stored.filter((s) => s.origin === 'api');
    for (const id of [...this.#fromApi]) {
      if (!api.some((s) => s.definition.id === id)) {
        this.#store.delete(id);
        this.#fromApi.delete(id);
        this.#log.info({ experiment: id }, 'experiment deleted on another replica');
      }
    }
    for (const s of api) {
      const id = s.definition.id;
      if (this.#fromApi.has(id) || this.#refused.has(`${id}\0${s.createdAt}`)) continue;
      if (this.#store.get(id)) {
        // A config experiment of this replica with the id: the config wins here.
        this.#refuse(s, `an experiment ${id} is configured on this replica`);
        continue;
      }
      try {
        this.#store.create(s.definition, Date.parse(s.createdAt));
        this.#fromApi.add(id);
        this.#log.info({ experiment: id, createdAt: s.createdAt }, 'experiment loaded from the state folder');
      } catch (err) {
        if (!isExperimentError(err)) throw err;
        this.#refuse(s, err.message);
      }
    }
  }

  #refuse(s: StoredExperiment, reason: string): void {
    this.#refused.add(`${s.definition.id}\0${s.createdAt}`);
    this.#log.warn({ experiment: s.definition.id, reason }, 'state folder: experiment not loaded on this replica');
  }
}
