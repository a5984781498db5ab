// A bounded FIFO admission queue in front of the engine: at most `concurrency` holders run,
// at most `maxQueue` wait, and anyone beyond that is refused at once (HTTP 429) rather than
// piling up behind a CPU-bound model. Admission is synchronous so a streaming request can
// still be refused with a status code before its SSE headers go out.

import { AbortedError, FairspecError } from './errors.js';

export interface RequestQueueOptions {
  concurrency: number;
  maxQueue: number;
}

export interface Slot {
  /** True while the holder waits behind others (false once it runs or is cancelled). */
  readonly queued: boolean;
  /** Resolves when the slot may run; rejects with AbortedError when the signal fires first. */
  readonly ready: Promise<void>;
  /** Frees the slot (or leaves the queue). Idempotent. */
  release(): void;
}

interface Waiter {
  grant: () => void;
}

export class RequestQueue {
  readonly concurrency: number;
  readonly maxQueue: number;
  #running = 0;
  #waiting: Waiter[] = [];
  #closed = false;
  #idle: Array<() => void> = [];
  /** Exponentially weighted mean seconds a slot is held, for Retry-After. */
  #meanHoldSeconds = 1;

  constructor(options: RequestQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
    }
    if (!Number.isInteger(options.maxQueue) || options.maxQueue < 0) {
      throw new RangeError(`maxQueue must be a non-negative integer, got ${options.maxQueue}`);
    }
    this.concurrency = options.concurrency;
    this.maxQueue = options.maxQueue;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Seconds until a slot is likely free: the queue ahead, served `concurrency` at a time. */
  retryAfterSeconds(): number {
    const ahead = this.#waiting.length + 1;
    return Math.min(60, Math.max(1, Math.ceil((ahead * this.#meanHoldSeconds) / this.concurrency)));
  }

  /** Takes a place or throws FS_QUEUE_FULL / FS_SHUTTING_DOWN synchronously. */
  reserve(signal?: AbortSignal): Slot {
    if (this.#closed) {
      throw new FairspecError('FS_SHUTTING_DOWN', 'The server is shutting down; retry on another instance.', null, 5);
    }
    if (signal?.aborted) throw new AbortedError();
    if (this.#running < this.concurrency && this.#waiting.length === 0) {
      this.#running++;
      return this.#slot(false, Promise.resolve());
    }
    if (this.#waiting.length >= this.maxQueue) {
      throw new FairspecError(
        'FS_QUEUE_FULL',
        `The server is busy (${this.#running} running, ${this.#waiting.length} queued); retry later.`,
        null,
        this.retryAfterSeconds(),
      );
    }

    let grant!: () => void;
    let fail!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      grant = resolve;
      fail = reject;
    });
    // A waiter that is never awaited (its request failed elsewhere) must not crash the process.
    ready.catch(() => {});
    const slot = this.#slot(true, ready);
    const waiter: Waiter = {
      grant: () => {
        signal?.removeEventListener('abort', onAbort);
        slot.markRunning();
        grant();
      },
    };
    const onAbort = (): void => {
      const i = this.#waiting.indexOf(waiter);
      if (i === -1) return;
      this.#waiting.splice(i, 1);
      slot.markCancelled();
      fail(new AbortedError('request aborted while queued'));
      this.#checkIdle();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#waiting.push(waiter);
    slot.onCancel = onAbort;
    return slot;
  }

  /** Refuses new reservations; queued and running holders are still served (drain). */
  close(): void {
    this.#closed = true;
  }

  /** Resolves once nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #slot(queued: boolean, ready: Promise<void>): Slot & { markRunning(): void; markCancelled(): void; onCancel?: () => void } {
    let state: 'queued' | 'running' | 'done' = queued ? 'queued' : 'running';
    let startedAt = queued ? 0 : performance.now();
    const slot = {
      onCancel: undefined as undefined | (() => void),
      get queued() {
        return state === 'queued';
      },
      ready,
      markRunning: () => {
        state = 'running';
        startedAt = performance.now();
      },
      markCancelled: () => {
        state = 'done';
      },
      release: () => {
        if (state === 'queued') {
          slot.onCancel?.();
          return;
        }
        if (state !== 'running') return;
        state = 'done';
        const held = (performance.now() - startedAt) / 1000;
        this.#meanHoldSeconds = 0.8 * this.#meanHoldSeconds + 0.2 * held;
        this.#running--;
        this.#next();
      },
    };
    return slot;
  }

  #next(): void {
    while (this.#running < this.concurrency && this.#waiting.length > 0) {
      this.#running++;
      this.#waiting.shift()!.grant();
    }
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#running === 0 && this.#waiting.length === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
