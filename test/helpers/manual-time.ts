/** A stopped clock with timers that fire only when a test moves time forward. */
import type { Clock, Timers } from '../../src/core/clock.ts';

interface Pending {
  at: number;
  seq: number;
  fire: () => void;
}

export class ManualTime implements Clock, Timers {
  #now: number;
  #seq = 0;
  readonly #pending = new Map<string, Pending>();

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  set(key: string, ms: number, fire: () => void): void {
    this.#pending.set(key, { at: this.#now + Math.max(0, ms), seq: ++this.#seq, fire });
  }

  clearAll(): void {
    this.#pending.clear();
  }

  /** Timers not yet fired, soonest first. */
  get timers(): number[] {
    return [...this.#pending.values()].map((p) => p.at).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing due timers in time order (each at its own time). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = [...this.#pending.entries()]
        .filter(([, p]) => p.at <= end)
        .sort(([, a], [, b]) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#pending.delete(next[0]);
      this.#now = next[1].at;
      next[1].fire();
    }
    this.#now = end;
  }
}
