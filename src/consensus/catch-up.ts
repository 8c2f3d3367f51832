/**
 * Catching up: state transfer to a certified target when others are provably ahead, peers' certified progress
 * (how a replica learns it is behind while the chain is quiet), and fetches of batch bodies it lacks. Targets
 * are always certified (a quorum checkpoint, f+1 matching CHECKPOINTs, or a commit certificate), so nothing
 * here can make a replica adopt a block no honest validator holds.
 */
import { type Batch, batchDigest } from '../core/batch.ts';
import type { CommitCertificate } from '../core/block.ts';
import { toHex } from '../core/bytes.ts';
import { verifyCheckpointProof, verifyCommitQuorum } from './certificates.ts';
import type { CheckpointTarget } from './checkpoint.ts';
import type { CoreState } from './core-state.ts';
import { DropReason, drop } from './errors.ts';
import type { LogEntry } from './log.ts';
import type { CheckpointProof } from './messages.ts';
import type { TimerTable } from './timers.ts';
import { type ReplicaOptions, TimerKind } from './types.ts';

export interface CatchUpHooks {
  /** Adopts a quorum-certified checkpoint (Watermarks.adoptStable). */
  adoptStable(proof: CheckpointProof): void;
  /** A commit certificate proves a quorum ran `view`, above ours: ask to move there (Pacemaker). */
  startViewChange(view: number): void;
}

export class CatchUp {
  private readonly state: CoreState;
  private readonly timers: TimerTable;
  private readonly opts: ReplicaOptions;
  private readonly hooks: CatchUpHooks;
  private transferTarget: CheckpointTarget | undefined;
  /** The highest head a peer proved with a commit certificate (peerProgress): a catch-up target. */
  private headHint: CheckpointTarget | undefined;

  constructor(state: CoreState, timers: TimerTable, opts: ReplicaOptions, hooks: CatchUpHooks) {
    this.state = state;
    this.timers = timers;
    this.opts = opts;
    this.hooks = hooks;
  }

  /** The outstanding state transfer, if any: execution and proposals wait for it. */
  get target(): CheckpointTarget | undefined {
    return this.transferTarget;
  }

  /** The ledger reached `seq` by a transfer: the transfer is over if that was its target. */
  transferred(seq: number): void {
    if (this.transferTarget && seq >= this.transferTarget.seq) this.transferTarget = undefined;
  }

  /**
   * The transfer stood down at `seq` (no peer could serve the next block; it writes nothing until asked
   * again). A transfer must not hold consensus hostage: the only peer holding the next block may be one that
   * lies. So the core forgets the transfer and executes by consensus again, if its log can hold the next seq
   * (above the stable checkpoint); only if it is still behind after catchUpDelayMs does it ask again. Below the
   * stable checkpoint consensus cannot help: the transfer stays outstanding and is asked again after retryMs.
   */
  onTransferStalled(seq: number): void {
    const s = this.state;
    const t = this.transferTarget;
    if (t === undefined || seq !== s.lastExecuted)
      throw drop(DropReason.staleResult, `transfer stalled at ${seq}, executed ${s.lastExecuted}`);
    if (s.lastExecuted < s.checkpoints.low) return;
    this.transferTarget = undefined;
    // The driver dropped the blocks it had built when the transfer was asked for: build them again.
    for (const e of s.log.sorted()) if (e.seq > s.lastExecuted) e.builtHashes.clear();
    this.timers.clear(TimerKind.catchUp);
    this.armCatchUp();
  }

  /**
   * The highest seq above what we executed that others provably reached: f+1 checkpoints, a commit quorum in
   * the log, or a peer's certified head.
   */
  bestTarget(): CheckpointTarget | undefined {
    const s = this.state;
    let best = s.checkpoints.target(s.lastExecuted, s.ctx.f + 1);
    const hint = this.headHint;
    if (hint && hint.seq > s.lastExecuted && (best === undefined || hint.seq > best.seq)) best = hint;
    for (const e of s.log.sorted()) {
      if (e.seq <= s.lastExecuted || (best && e.seq <= best.seq)) continue;
      const counts = new Map<string, number>();
      for (const v of e.commits.values()) {
        const c = (counts.get(v.valueHex) ?? 0) + 1;
        counts.set(v.valueHex, c);
        if (c >= s.ctx.q) best = { seq: e.seq, headerHash: v.value };
      }
    }
    return best;
  }

  requestTransfer(target: CheckpointTarget): void {
    if (this.transferTarget && this.transferTarget.seq >= target.seq) return;
    this.transferTarget = target;
    this.state.fx.emit({ type: 'stateTransfer', targetSeq: target.seq, headerHash: target.headerHash });
    this.timers.set(TimerKind.catchUp, this.state.view, this.opts.retryMs);
  }

  /** Others are ahead: transfer state if still behind after catchUpDelayMs. */
  armCatchUp(): void {
    this.timers.setOnce(TimerKind.catchUp, this.state.view, this.opts.catchUpDelayMs);
  }

  onCatchUpTimeout(): void {
    this.timers.clear(TimerKind.catchUp);
    const t = this.transferTarget;
    if (t) {
      // A transfer that has not completed: ask again (the transfer layer may have lost its peers).
      this.state.fx.emit({ type: 'stateTransfer', targetSeq: t.seq, headerHash: t.headerHash });
      this.timers.setOnce(TimerKind.catchUp, this.state.view, this.opts.retryMs);
      return;
    }
    const target = this.bestTarget();
    if (target) this.requestTransfer(target);
  }

  /**
   * A peer's certified progress. Its stable checkpoint is adopted like any quorum proof; its head's commit
   * certificate is a catch-up target like a commit quorum in the log (at once beyond the window or when a
   * transfer is outstanding, else after catchUpDelayMs if still behind). This is how a replica learns it is
   * behind while the chain is quiet: with no new blocks, no CHECKPOINT or COMMIT would ever reach it.
   */
  onPeerProgress(checkpoint: CheckpointProof | undefined, head: CommitCertificate | undefined): void {
    const s = this.state;
    let used = false;
    if (checkpoint !== undefined && checkpoint.seq > s.checkpoints.low) {
      verifyCheckpointProof(s.ctx, checkpoint, DropReason.badCheckpoint);
      this.hooks.adoptStable(checkpoint);
      used = true;
    }
    const known = Math.max(s.lastExecuted, this.headHint?.seq ?? 0);
    if (head !== undefined && head.height > known) {
      verifyCommitQuorum(s.ctx, head, DropReason.badCertificate);
      this.headHint = { seq: head.height, headerHash: head.headerHash };
      // Already transferring (e.g. up to the checkpoint just adopted): extend the transfer rather than wait.
      if (head.height > s.checkpoints.high || this.transferTarget !== undefined)
        this.requestTransfer(this.headHint);
      else this.armCatchUp();
      used = true;
    }
    // A commit certificate of a later view proves a quorum ran that view. A replica still in an earlier one
    // missed the view change (it was restarting, or switching epochs, and the chain has been quiet since, so no
    // later-view message reaches it): it asks for that view, and the others answer with its NEW-VIEW.
    if (head !== undefined && head.view > s.view) {
      if (!used) verifyCommitQuorum(s.ctx, head, DropReason.badCertificate);
      this.hooks.startViewChange(head.view);
      used = true;
    }
    if (!used) throw drop(DropReason.staleResult, 'peer progress at or below what this replica knows');
  }

  // ---- batch bodies --------------------------------------------------------------------------------------

  /** Asks peers for the body of the entry's accepted batch (re-asked every retryMs until it arrives). */
  ensureFetch(e: LogEntry): void {
    if (e.fetching || e.batch || e.digest === undefined || e.seq <= this.state.lastExecuted) return;
    e.fetching = true;
    this.state.fx.emit({ type: 'fetchBatch', seq: e.seq, digest: e.digest });
    this.timers.setOnce(TimerKind.fetch, this.state.view, this.opts.retryMs);
  }

  onFetchTimeout(): void {
    this.timers.clear(TimerKind.fetch);
    for (const e of this.state.log.sorted()) {
      if (e.fetching && !e.batch) {
        e.fetching = false;
        this.ensureFetch(e);
      }
    }
  }

  /** A fetched body: accepted for every entry waiting for its digest. */
  onBatchFetched(batch: Batch): void {
    const hex = toHex(batchDigest(batch, this.state.ctx.suite));
    let used = false;
    for (const e of this.state.log.sorted()) {
      if (e.digestHex === hex && e.batch === undefined) {
        this.state.setBody(e, batch);
        used = true;
      }
    }
    if (!used) throw drop(DropReason.staleResult, `fetched batch ${hex.slice(0, 12)} is not needed`);
  }
}
