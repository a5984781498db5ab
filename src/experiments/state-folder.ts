// Experiments kept on disk (FAIRSPEC_STATE_DIR), one JSON file each under `experiments/`, so a
// restart keeps those created through the admin API, and every replica that shares the folder
// (a volume mounted by all) sees the same ones with the same creation time. Only definitions are
// kept: observations stay in each process, and across processes in Prometheus (the counters of
// src/metrics/experiment-counters.ts).
//
// Writes are atomic: the file is written under a temporary name, flushed to disk (fsync), then
// given its name, and the folder is flushed so the name survives a crash too. A new experiment
// takes its name with link(), which fails when the name exists, so two replicas creating the same
// id at once cannot both succeed; a rewrite takes it with rename(), which replaces atomically.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** An experiment as the folder keeps it. */
export interface StoredExperiment {
  /** The definition as given (config or admin request body). */
  definition: { id: string } & Record<string, unknown>;
  /** ISO time of creation, the same on every replica. */
  createdAt: string;
  /** 'api': created through the admin API (the folder is its only record); 'config': FAIRSPEC_EXPERIMENTS (kept for its creation time). */
  origin: 'api' | 'config';
}

const FORMAT = 1;
const FOLDER = 'experiments';
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export class StateFolder {
  readonly #dir: string;

  constructor(root: string) {
    this.#dir = join(root, FOLDER);
  }

  get path(): string {
    return this.#dir;
  }

  async ensure(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
  }

  /** Every stored experiment; files that do not parse are reported through `skipped` and left alone. */
  async list(skipped: (file: string, reason: string) => void = () => {}): Promise<StoredExperiment[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: StoredExperiment[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      try {
        const parsed = JSON.parse(await readFile(join(this.#dir, name), 'utf8')) as Partial<{ format: number } & StoredExperiment>;
        const id = parsed.definition?.id;
        if (parsed.format !== FORMAT || typeof id !== 'string' || `${id}.json` !== name || typeof parsed.createdAt !== 'string' || Number.isNaN(Date.parse(parsed.createdAt))) {
          skipped(name, 'not an experiment file of this version');
          continue;
        }
        out.push({ definition: parsed.definition as StoredExperiment['definition'], createdAt: parsed.createdAt, origin: parsed.origin === 'config' ? 'config' : 'api' });
      } catch (err) {
        // Removed between readdir and readFile by another replica: not an error.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') skipped(name, (err as Error).message);
      }
    }
    return out;
  }

  /** Stores a new experiment; false, writing nothing, when one with its id is stored already. */
  async create(experiment: StoredExperiment): Promise<boolean> {
    const temporary = await this.#writeTemporary(experiment);
    const file = this.#file(experiment.definition.id);
    try {
      await link(temporary, file).catch(async (err: NodeJS.ErrnoException) => {
        // A file system without hard links: an exclusive copy still lets one creator win; a
        // reader meanwhile may see a partial file, which list() skips until the next sync.
        if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'].includes(err.code ?? '')) throw err;
        await copyFile(temporary, file, constants.COPYFILE_EXCL);
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(temporary).catch(() => {});
    }
    await this.#syncFolder();
    return true;
  }

  /** Stores an experiment over any stored with its id. */
  async write(experiment: StoredExperiment): Promise<void> {
    const temporary = await this.#writeTemporary(experiment);
    try {
      await rename(temporary, this.#file(experiment.definition.id));
    } catch (err) {
      await unlink(temporary).catch(() => {});
      throw err;
    }
    await this.#syncFolder();
  }

  /** Removes a stored experiment; false when there was none. */
  async remove(id: string): Promise<boolean> {
    try {
      await unlink(this.#file(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    await this.#syncFolder();
    return true;
  }

  #file(id: string): string {
    // Ids are checked by the experiment schema already; this keeps a path out of the folder regardless.
    if (!ID.test(id)) throw new RangeError(`not an experiment id: ${JSON.stringify(id)}`);
    return join(this.#dir, `${id}.json`);
  }

  async #writeTemporary(experiment: StoredExperiment): Promise<string> {
    this.#file(experiment.definition.id);
    await this.ensure();
    const temporary = join(this.#dir, `.${experiment.definition.id}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temporary, 'wx', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify({ format: FORMAT, ...experiment }, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temporary;
  }

  async #syncFolder(): Promise<void> {
    const handle = await open(this.#dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
