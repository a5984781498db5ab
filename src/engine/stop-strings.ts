// Stop strings over streamed text. A stop string may span several tokens, so text that could
// still turn out to be the start of one is held back; the stop string itself is never emitted.

export interface StopScan {
  /** Text that is safe to emit now. */
  text: string;
  /** A stop string was completed: `text` ends just before it, and generation must end. */
  stopped: boolean;
}

export class StopStringMatcher {
  readonly #stops: string[];
  #held = '';
  #stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s.length > 0);
  }

  push(text: string): StopScan {
    if (this.#stopped) return { text: '', stopped: true };
    const buffer = this.#held + text;
    let first = -1;
    for (const stop of this.#stops) {
      const at = buffer.indexOf(stop);
      if (at !== -1 && (first === -1 || at < first)) first = at;
    }
    if (first !== -1) {
      this.#held = '';
      this.#stopped = true;
      return { text: buffer.slice(0, first), stopped: true };
    }
    const hold = this.#longestStopPrefixSuffix(buffer);
    this.#held = buffer.slice(buffer.length - hold);
    return { text: buffer.slice(0, buffer.length - hold), stopped: false };
  }

  /** The held-back text when generation ends for another reason: it completed no stop string. */
  flush(): string {
    const held = this.#held;
    this.#held = '';
    return this.#stopped ? '' : held;
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of some stop string. */
  #longestStopPrefixSuffix(buffer: string): number {
    let best = 0;
    for (const stop of this.#stops) {
      for (let n = Math.min(stop.length - 1, buffer.length); n > best; n--) {
        if (buffer.endsWith(stop.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
