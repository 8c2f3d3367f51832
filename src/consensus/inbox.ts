/**
 * Where a normal-case message (PRE-PREPARE, PREPARE, COMMIT) goes before its rules are applied: handled now,
 * kept for later, or dropped. Kept: messages for the view being entered (or the next one), and current-view
 * messages up to one checkpoint interval above the window; both are verified before they are kept, replayed
 * when the view is entered or the window moves, and bounded (one per type, sender, view and seq).
 */
import type { CoreState } from './core-state.ts';
import { DropReason, drop } from './errors.ts';
import type { Commit, ConsensusMessage, PrePrepare, Prepare } from './messages.ts';

type NormalCaseMessage = PrePrepare | Prepare | Commit;
type Placement = 'now' | 'buffer';

export interface InboxHooks {
  /** A normal-case message for a view above ours arrived in the normal case (the pacemaker counts them). */
  higherView(m: NormalCaseMessage): void;
  /** Handles a kept message as if it had just arrived. */
  deliver(m: ConsensusMessage): void;
}

export class Inbox {
  private readonly state: CoreState;
  private readonly hooks: InboxHooks;
  /** Kept messages, verified, keyed by (type, sender, view, seq). */
  private readonly future = new Map<string, ConsensusMessage>();
  /** The stable checkpoint moved in this step: messages kept above the old window may now be in it. */
  private moved = false;

  constructor(state: CoreState, hooks: InboxHooks) {
    this.state = state;
    this.hooks = hooks;
  }

  get size(): number {
    return this.future.size;
  }

  /**
   * Admits a normal-case message by view and window; `senderRule` (its type's rule on who may send it) runs
   * once the view is known. Returns true when it is for now; one for later is verified and kept.
   */
  admit(m: NormalCaseMessage, senderRule?: () => void): boolean {
    const where = this.route(m);
    senderRule?.();
    const place = this.checkWindow(m.seq, m.type, where);
    this.state.verifySig(m);
    if (place === 'now') return true;
    this.buffer(m);
    return false;
  }

  /**
   * Where a normal-case message for `view` goes: 'now' for the current view, 'buffer' for the view being
   * entered (or the next one); throws for stale or far-future views.
   */
  private route(m: NormalCaseMessage): Placement {
    const s = this.state;
    if (m.view < s.view) throw drop(DropReason.staleView, `${m.type} for view ${m.view}, at ${s.view}`);
    if (m.view === s.view && s.mode === 'normal') return 'now';
    if (m.view > s.view && s.mode === 'normal') this.hooks.higherView(m);
    if (m.view <= s.view + 1) return 'buffer';
    throw drop(DropReason.futureView, `${m.type} for view ${m.view}, at ${s.view}`);
  }

  /**
   * Refines `where` with the watermarks. A current-view message up to one checkpoint interval above the window
   * is kept ('buffer') and replayed once the window moves: its sender saw the checkpoint become stable a moment
   * before this replica did, and PBFT does not retransmit normal-case messages, so dropping it could leave the
   * seq without a quorum until a view change. Anything else outside (h, H] is dropped.
   */
  private checkWindow(seq: number, type: string, where: Placement): Placement {
    const { low, high } = this.state.checkpoints;
    if (seq > low && seq <= high) return where;
    if (where === 'now' && seq > high && seq <= high + this.state.ctx.k) return 'buffer';
    // Above the window the sender is ahead of us: the driver may look for a reason to catch up.
    throw drop(
      seq > high ? DropReason.aboveWindow : DropReason.outsideWindow,
      `${type} seq ${seq} outside (${low}, ${high}]`,
    );
  }

  private buffer(m: NormalCaseMessage): void {
    const key = `${m.type}:${m.from}:${m.view}:${m.seq}`;
    if (this.future.has(key)) throw drop(DropReason.duplicate, `buffered ${m.type} again`);
    this.future.set(key, m);
  }

  /** The window moved to above `stableSeq`: forget what it passed; replay what it covers at the step's end. */
  windowMovedTo(stableSeq: number): void {
    this.moved = true;
    for (const [key, m] of [...this.future]) if ('seq' in m && m.seq <= stableSeq) this.future.delete(key);
  }

  /** At the end of a step in which the window moved: replays kept current-view messages it now covers. */
  replayIfWindowMoved(): void {
    if (!this.moved) return;
    this.moved = false;
    const s = this.state;
    if (s.mode !== 'normal') return;
    const { low, high } = s.checkpoints;
    for (const [key, m] of [...this.future]) {
      if (!('seq' in m) || !('view' in m) || m.view !== s.view || m.seq <= low || m.seq > high) continue;
      this.future.delete(key);
      this.state.fx.guarded(() => this.hooks.deliver(m));
    }
  }

  /** A view change to `newView` started: messages of earlier views are void. */
  dropViewsBelow(newView: number): void {
    for (const [key, m] of [...this.future]) if ('view' in m && m.view < newView) this.future.delete(key);
  }

  /** The current view was entered: replays what was kept for it, forgets what was kept for earlier ones. */
  replayView(): void {
    for (const [key, m] of [...this.future]) {
      if (!('view' in m) || m.view > this.state.view) continue;
      this.future.delete(key);
      if (m.view === this.state.view) this.state.fx.guarded(() => this.hooks.deliver(m));
    }
  }
}
