/**
 * What one step of the core produces. Every part of the core writes its outputs and persist ops here, in
 * order; `finish` puts the persist ops first, in one `persist` output, so the driver makes them durable before
 * it sends anything of the same step. `now` is the step's input time: the only clock the core knows.
 */
import { DropError, type DropReason } from './errors.ts';
import type { ConsensusMessage } from './messages.ts';
import type { PersistOp } from './persist.ts';
import type { Output } from './types.ts';

export class Effects {
  now = 0;
  private out: Output[] = [];
  private ops: PersistOp[] = [];

  begin(now: number): void {
    this.now = now;
    this.out = [];
    this.ops = [];
  }

  emit(output: Output): void {
    this.out.push(output);
  }

  persist(...ops: PersistOp[]): void {
    this.ops.push(...ops);
  }

  /** To every other validator. */
  broadcast(message: ConsensusMessage): void {
    this.out.push({ type: 'broadcast', message });
  }

  send(to: number, message: ConsensusMessage): void {
    this.out.push({ type: 'send', to, message });
  }

  dropped(reason: DropReason, detail: string): void {
    this.out.push({ type: 'dropped', reason, detail });
  }

  /** Runs `fn`; a drop it throws becomes a `dropped` output (bad input never escapes a step). */
  guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof DropError)) throw err;
      this.dropped(err.code, err.message);
    }
  }

  /** The step's outputs, persist ops first. */
  finish(): Output[] {
    const outputs: Output[] =
      this.ops.length > 0 ? [{ type: 'persist', ops: this.ops }, ...this.out] : this.out;
    this.out = [];
    this.ops = [];
    return outputs;
  }
}
