/** Production clock and timers for the driver (the core never sees either: only `now` and `timeout` inputs). */
import type { Clock, Timers } from './interfaces.ts';

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
}

export class SystemTimers implements Timers {
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();

  set(key: string, ms: number, fire: () => void): void {
    const prev = this.pending.get(key);
    if (prev !== undefined) clearTimeout(prev);
    const handle = setTimeout(() => {
      this.pending.delete(key);
      fire();
    }, ms);
    // Consensus timers must not keep a stopping process alive.
    handle.unref?.();
    this.pending.set(key, handle);
  }

  clearAll(): void {
    for (const h of this.pending.values()) clearTimeout(h);
    this.pending.clear();
  }
}
