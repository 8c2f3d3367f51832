/**
 * The core's one timer table: for each timer kind, the view it was armed in and when it fires. Timers are
 * data (CometBFT style): arming emits `setTimer {kind, view, ms}` and the driver answers `timeout {kind,
 * view}`; the driver keeps one timer per kind, so arming a kind again replaces its pending timer. An entry
 * means "armed and not yet fired"; the parts that own a kind (pacemaker, proposer, catch-up) arm it and clear
 * it when it fires or stops being wanted. A timer cleared here may still fire in the driver: its owner then
 * treats it as stale (its view is over) or harmless (it re-checks its condition).
 */
import type { Effects } from './effects.ts';
import type { TimerKind } from './types.ts';

export interface ArmedTimer {
  view: number;
  /** Input time at which it fires (`now` + ms when armed). */
  deadline: number;
}

export class TimerTable {
  private readonly armed = new Map<TimerKind, ArmedTimer>();
  private readonly fx: Effects;

  constructor(fx: Effects) {
    this.fx = fx;
  }

  /** Arms `kind` for `view` to fire after `ms`, replacing a pending one. */
  set(kind: TimerKind, view: number, ms: number): void {
    this.armed.set(kind, { view, deadline: this.fx.now + ms });
    this.fx.emit({ type: 'setTimer', kind, view, ms });
  }

  /** Arms `kind` unless it is armed already. */
  setOnce(kind: TimerKind, view: number, ms: number): void {
    if (!this.armed.has(kind)) this.set(kind, view, ms);
  }

  isArmed(kind: TimerKind): boolean {
    return this.armed.has(kind);
  }

  get(kind: TimerKind): ArmedTimer | undefined {
    return this.armed.get(kind);
  }

  /** Forgets `kind`: it fired, or is no longer wanted (its driver timer, if still pending, is then stale). */
  clear(kind: TimerKind): void {
    this.armed.delete(kind);
  }
}
