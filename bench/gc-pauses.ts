// V8's garbage-collection pauses in this process, from perf_hooks' 'gc' entries, so a benchmark
// can say how much of a timed call went to collecting garbage (which the call's own counters
// would charge to whatever code happened to run when the collector stopped it).

import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export class GcPauses {
  readonly #pauses: Array<{ start: number; end: number }> = [];
  readonly #observer: PerformanceObserver;

  constructor() {
    this.#observer = new PerformanceObserver((list) => this.#add(list.getEntries()));
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  /** Milliseconds of pauses inside [start, end] (performance.now() times; no end: up to now). */
  async within(start: number, end = Infinity): Promise<number> {
    // Entries reach the observer asynchronously: one macrotask lets those of the call arrive.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#add(this.#observer.takeRecords());
    let ms = 0;
    for (const p of this.#pauses) ms += Math.max(0, Math.min(end, p.end) - Math.max(start, p.start));
    // What lies before `start` is of no use to a later call: calls are sequential.
    while (this.#pauses.length > 0 && this.#pauses[0]!.end < start) this.#pauses.shift();
    return ms;
  }

  disconnect(): void {
    this.#observer.disconnect();
  }

  #add(entries: readonly PerformanceEntry[]): void {
    for (const e of entries) this.#pauses.push({ start: e.startTime, end: e.startTime + e.duration });
  }
}
