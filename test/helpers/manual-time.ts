/** A stopped clock with timers that fire only when a test moves time forward. */
import type { Clock } from '../../src/p2p/clock.ts';
import type { Timers } from '../../src/timestamp/anchoring.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualTime implements Clock, Timers {
  #now: number;
  #seq = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const seq = ++this.#seq;
    this.#pending.set(seq, { at: this.#now + Math.max(0, ms), seq, fn });
    return seq;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** Timers not yet fired, soonest first. */
  get timers(): number[] {
    return [...this.#pending.values()].map((p) => p.at).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing due timers in time order (each at its own time). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = [...this.#pending.values()]
        .filter((p) => p.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#pending.delete(next.seq);
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
  }
}
