/**
 * Time and randomness as components (Lodestar's IClock): production code takes them as dependencies, so tests
 * drive deadlines, backoff and jitter by hand. The consensus core never sees any of them: the driver hands it
 * `now` and timeouts as inputs.
 */

/** Wall-clock time in epoch milliseconds. Only differences matter to rates and deadlines. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** Uniform in [0, 1). */
export type Random = () => number;

/** One-shot timers addressed by key: arming a key again replaces its pending timer. */
export interface Timers {
  set(key: string, ms: number, fire: () => void): void;
  /** Cancels every pending timer. */
  clearAll(): void;
}

/** Timers on setTimeout. They never keep a stopping process alive. */
export class SystemTimers implements Timers {
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();

  set(key: string, ms: number, fire: () => void): void {
    const prev = this.pending.get(key);
    if (prev !== undefined) clearTimeout(prev);
    const handle = setTimeout(() => {
      this.pending.delete(key);
      fire();
    }, ms);
    handle.unref?.();
    this.pending.set(key, handle);
  }

  clearAll(): void {
    for (const h of this.pending.values()) clearTimeout(h);
    this.pending.clear();
  }
}
