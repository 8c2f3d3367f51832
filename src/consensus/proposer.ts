/**
 * The primary's batching policy: which pending txs it proposes, when, and how many batches it keeps in
 * flight. None of it is a validity rule (backups accept any batch within the limits, normal-case.ts); it only
 * paces the primary. Also admits txs into the pending set the batches are drawn from.
 */
import type { Batch } from '../core/batch.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { CatchUp } from './catch-up.ts';
import type { CoreState } from './core-state.ts';
import { DropReason, drop } from './errors.ts';
import type { NormalCase } from './normal-case.ts';
import type { PendingTxs } from './pending.ts';
import type { TimerTable } from './timers.ts';
import { type ReplicaOptions, TimerKind } from './types.ts';

export class Proposer {
  private readonly state: CoreState;
  private readonly pending: PendingTxs;
  private readonly timers: TimerTable;
  private readonly opts: ReplicaOptions;
  private readonly normal: Pick<NormalCase, 'propose'>;
  private readonly catchUp: Pick<CatchUp, 'target'>;
  /**
   * The batch timer fired while `maxBatchesInFlight` of this primary's batches were still executing: the
   * partial batch goes out as soon as one of them executes (see maybePropose).
   */
  private partialDue = false;

  constructor(
    state: CoreState,
    pending: PendingTxs,
    timers: TimerTable,
    opts: ReplicaOptions,
    normal: Proposer['normal'],
    catchUp: Proposer['catchUp'],
  ) {
    this.state = state;
    this.pending = pending;
    this.timers = timers;
    this.opts = opts;
    this.normal = normal;
    this.catchUp = catchUp;
  }

  /** Admits a tx to the pending set; returns whether the set was empty before (a request period starts). */
  admit(tx: TxEnvelope): boolean {
    const s = this.state;
    if (this.pending.has(tx.hashHex)) throw drop(DropReason.txKnown, `tx ${tx.hashHex.slice(0, 12)} pending`);
    const at = s.log.txSeq(tx.hashHex);
    if (at !== undefined && at <= s.lastExecuted) {
      throw drop(DropReason.txKnown, `tx ${tx.hashHex.slice(0, 12)} executed at ${at}`);
    }
    if (this.pending.size >= this.opts.maxPendingTxs) throw drop(DropReason.mempoolFull, 'pending set full');
    const first = this.pending.size === 0;
    this.pending.add(tx, s.fx.now, at !== undefined);
    return first;
  }

  /** The view changed: the batch timer and a due partial batch belong to the old view. */
  viewChanged(): void {
    this.timers.clear(TimerKind.batch);
    this.partialDue = false;
  }

  onBatchTimeout(): void {
    this.timers.clear(TimerKind.batch);
    this.maybePropose(true);
  }

  /**
   * The primary proposes full batches at once, and a partial one when the batch timer fires (`force`) — unless
   * `maxBatchesInFlight` of its batches are proposed and not yet executed: the partial batch then waits for one
   * of them to execute (`partialDue`), and meanwhile takes in the txs that keep arriving. Under load, batches
   * so grow with the time a block takes, and the per-block cost (votes, signatures, fsyncs, the commit write)
   * is shared by more txs; with little load a tx still waits at most maxBatchWaitMs for its batch.
   */
  maybePropose(force: boolean): void {
    const s = this.state;
    if (s.mode !== 'normal' || !s.isPrimary) return;
    // A primary that is catching up does not know which txs the others already committed.
    if (this.catchUp.target !== undefined) return;
    const p = s.params;
    if (this.pending.freeCount === 0) this.partialDue = false;
    while (s.nextSeq <= s.checkpoints.high && this.pending.freeCount > 0) {
      const full = this.pending.freeCount >= p.maxBatchTxs || this.pending.freeBytes >= p.maxBatchBytes;
      if (!full && !force && !this.partialDue) {
        this.timers.setOnce(TimerKind.batch, s.view, p.maxBatchWaitMs);
        return;
      }
      if (!full && s.nextSeq - 1 - s.lastExecuted >= this.opts.maxBatchesInFlight) {
        this.partialDue = true;
        return;
      }
      // Until every live entry has its body, the primary cannot tell which txs are already in flight.
      if (this.missingBodies()) return;
      const txs = this.pending.takeBatch(p.maxBatchTxs, p.maxBatchBytes);
      const batch: Batch = { proposer: s.self, view: s.view, time: Math.max(s.fx.now, s.lastBatchTime), txs };
      this.normal.propose(s.nextSeq, batch);
      s.nextSeq++;
      force = false;
      this.partialDue = false;
    }
  }

  private missingBodies(): boolean {
    const s = this.state;
    for (const e of s.log.values()) {
      if (e.view === s.view && e.digest && !e.batch && e.seq > s.lastExecuted) return true;
    }
    return false;
  }
}
