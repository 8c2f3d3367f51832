/**
 * The pacemaker: when this replica gives up on a view, and how view changes progress. It owns the liveness
 * rules (none of them can break safety: a view change is always safe, view-changes.ts decides what it
 * carries): the request timer (a stalled or censoring primary), the view-change timer with capped backoff,
 * joining a later view once f+1 validators ask for one or show they run one, and joining a lone request for the
 * next view after a while. It also routes every timeout to the part that armed it (timers.ts).
 */
import { InvariantError } from '../core/errors.ts';
import type { CatchUp } from './catch-up.ts';
import type { CoreState } from './core-state.ts';
import { DropReason, drop } from './errors.ts';
import type { Commit, NewView, PrePrepare, Prepare, ViewChange } from './messages.ts';
import type { PendingTxs } from './pending.ts';
import type { Proposer } from './proposer.ts';
import type { TimerTable } from './timers.ts';
import { type Suspicions, TimerKind } from './types.ts';
import type { NewViewPlan } from './view-change.ts';
import type { ViewChanges } from './view-changes.ts';

/** Request timeouts a lone request for a later view waits before the others join it (armLoneViewChangeTimer). */
export const LONE_VIEW_CHANGE_JOIN = 2;

export class Pacemaker {
  private readonly state: CoreState;
  private readonly pending: PendingTxs;
  private readonly timers: TimerTable;
  private readonly views: ViewChanges;
  private readonly catchUp: Pick<
    CatchUp,
    'target' | 'bestTarget' | 'requestTransfer' | 'onCatchUpTimeout' | 'onFetchTimeout'
  >;
  private readonly proposer: Pick<Proposer, 'viewChanged' | 'onBatchTimeout'>;

  // The request timer (see onRequestTimeout).
  /** Start of the current progress period: pending went non-empty, a pending tx executed, or a view began. */
  private progressAt = 0;
  /** The latest arrival time (firstSeen) of any pending tx this replica has seen executed in this view. */
  private lastExecutedArrival = Number.NEGATIVE_INFINITY;
  /** The oldest free tx once it was seen overtaken by txs that arrived a request timeout after it. */
  private censorWatch: { hashHex: string; since: number } | undefined;

  // View changes.
  private vcAttempts = 0;
  /** Request timeouts that ended in a view change, by cause (status and bench reports). */
  readonly suspicions: Suspicions = { stall: 0, censorship: 0 };
  /** Timeout of the view change in progress: base × 2^attempts, capped. */
  private vcTimeoutMs: number;
  /** A quorum of VIEW-CHANGEs for the view being entered was seen (its timer then restarted). */
  private vcQuorumSeen = false;
  /** Each sender's highest view seen in a verified normal-case message above ours (at most n). */
  private readonly higherViews = new Map<number, number>();

  constructor(
    state: CoreState,
    pending: PendingTxs,
    timers: TimerTable,
    views: ViewChanges,
    catchUp: Pacemaker['catchUp'],
    proposer: Pacemaker['proposer'],
  ) {
    this.state = state;
    this.pending = pending;
    this.timers = timers;
    this.views = views;
    this.catchUp = catchUp;
    this.proposer = proposer;
    this.vcTimeoutMs = state.params.viewChangeTimeoutMs;
  }

  /** After a restart in a view change: re-send our VIEW-CHANGE and wait for the others again. */
  resumeViewChange(): void {
    const own = this.views.own();
    if (own === undefined) throw new InvariantError('in a view change without its own VIEW-CHANGE');
    this.state.fx.broadcast(own);
    this.armViewChangeTimer();
  }

  onTimeout(kind: TimerKind, view: number): void {
    const s = this.state;
    switch (kind) {
      case TimerKind.catchUp:
        this.catchUp.onCatchUpTimeout();
        return;
      case TimerKind.fetch:
        this.catchUp.onFetchTimeout();
        return;
    }
    if (view !== s.view) throw drop(DropReason.staleTimer, `${kind} timer for view ${view}, at ${s.view}`);
    switch (kind) {
      case TimerKind.batch:
        if (s.mode !== 'normal') throw drop(DropReason.staleTimer, 'batch timer during a view change');
        this.proposer.onBatchTimeout();
        return;
      case TimerKind.request:
        if (s.mode !== 'normal') throw drop(DropReason.staleTimer, 'request timer during a view change');
        this.onRequestTimeout();
        return;
      case TimerKind.viewChange:
        if (s.mode !== 'viewChange')
          throw drop(DropReason.staleTimer, 'view-change timer in the normal case');
        this.onViewChangeTimeout();
        return;
      case TimerKind.loneViewChange:
        this.onLoneViewChangeTimeout();
        return;
    }
  }

  // ---- the request timer ---------------------------------------------------------------------------------

  /** A tx entered the pending set; `first`: the set was empty (Castro & Liskov: the timer starts with it). */
  requestArrived(first: boolean): void {
    if (first) this.progressAt = this.state.fx.now;
    this.armRequestTimer();
  }

  /**
   * Txs committed (by this replica or a state transfer) leave the pending set. Executing any tx this replica
   * was waiting for is progress: the request timer restarts, so a primary that keeps committing a backlog is
   * not suspected however long the backlog is.
   */
  txsCommitted(hashHexes: readonly string[]): void {
    let progressed = false;
    for (const hex of hashHexes) {
      const firstSeen = this.pending.remove(hex);
      if (firstSeen === undefined) continue;
      progressed = true;
      if (firstSeen > this.lastExecutedArrival) this.lastExecutedArrival = firstSeen;
    }
    if (progressed) this.progressAt = this.state.fx.now;
  }

  /** A block committed in the current view: the view works, the next view change starts from the base timeout. */
  blockCommitted(): void {
    this.vcAttempts = 0;
  }

  private armRequestTimer(at?: number): void {
    const s = this.state;
    if (this.timers.isArmed(TimerKind.request) || s.mode !== 'normal' || this.pending.size === 0) return;
    const deadline = at ?? this.progressAt + s.params.requestTimeoutMs;
    this.timers.set(TimerKind.request, s.view, Math.max(1, deadline - s.fx.now));
  }

  /**
   * When this replica suspects the primary: no pending tx executed for requestTimeoutMs (a stalled primary),
   * or the oldest tx the primary has not proposed has been overtaken, for requestTimeoutMs, by executed txs
   * that arrived here at least requestTimeoutMs after it (a censoring primary: a fair one proposes in arrival
   * order, so only relay delays above the timeout could explain it). Checked when the timer fires, so the timer
   * fires at most once per requestTimeoutMs while blocks commit.
   */
  private requestDeadline(): number {
    const t = this.state.params.requestTimeoutMs;
    let deadline = this.progressAt + t;
    const oldest = this.pending.oldestFree();
    if (oldest === undefined || this.lastExecutedArrival < oldest.firstSeen + t) {
      this.censorWatch = undefined;
    } else {
      if (this.censorWatch?.hashHex !== oldest.hashHex)
        this.censorWatch = { hashHex: oldest.hashHex, since: this.state.fx.now };
      deadline = Math.min(deadline, this.censorWatch.since + t);
    }
    return deadline;
  }

  private onRequestTimeout(): void {
    const s = this.state;
    this.timers.clear(TimerKind.request);
    if (this.pending.size === 0) return;
    const deadline = this.requestDeadline();
    if (s.fx.now < deadline) {
      this.armRequestTimer(deadline);
      return;
    }
    // Behind the others is not the primary's fault: catch up first, suspect it only if that does not help.
    // The primary applies the same rule to itself: if its own batches do not commit, nobody follows it (it may
    // have been deposed while cut off), and its VIEW-CHANGE gets it the NEW-VIEW of the view the others are in.
    const target = this.catchUp.target ?? this.catchUp.bestTarget();
    if (target) {
      this.catchUp.requestTransfer(target);
      this.timers.set(TimerKind.request, s.view, s.params.requestTimeoutMs);
      return;
    }
    if (s.fx.now >= this.progressAt + s.params.requestTimeoutMs) this.suspicions.stall++;
    else this.suspicions.censorship++;
    this.startViewChange(s.view + 1);
  }

  /** A new view gives its primary a fresh requestTimeoutMs for everything pending. */
  private restartRequestClock(): void {
    const now = this.state.fx.now;
    this.pending.restartClocks(now);
    this.progressAt = now;
    this.lastExecutedArrival = Number.NEGATIVE_INFINITY;
    this.censorWatch = undefined;
  }

  // ---- view changes --------------------------------------------------------------------------------------

  /**
   * Validly signed normal-case messages for views above ours from f+1 validators prove that at least one
   * honest replica entered a later view, so ours is over (we missed its NEW-VIEW, e.g. while cut off). Ask to
   * move on: replicas in the later view answer our VIEW-CHANGE with their NEW-VIEW.
   */
  noteHigherView(m: PrePrepare | Prepare | Commit): void {
    const s = this.state;
    if ((this.higherViews.get(m.from) ?? -1) >= m.view) return;
    s.verifySig(m);
    this.higherViews.set(m.from, m.view);
    let count = 0;
    for (const v of this.higherViews.values()) if (v > s.view) count++;
    if (count >= s.ctx.f + 1) this.startViewChange(s.view + 1);
  }

  startViewChange(newView: number): void {
    this.views.begin(newView);
    this.vcQuorumSeen = false;
    this.proposer.viewChanged();
    this.timers.clear(TimerKind.request);
    this.timers.clear(TimerKind.loneViewChange);
    // Exponential backoff with a cap; reset once a block executes in a view.
    const p = this.state.params;
    this.vcTimeoutMs = Math.min(
      p.viewChangeTimeoutMs * 2 ** Math.min(this.vcAttempts, 30),
      p.viewChangeTimeoutMaxMs,
    );
    this.vcAttempts++;
    this.armViewChangeTimer();
    this.afterViewChangeVote(newView);
  }

  private armViewChangeTimer(): void {
    this.timers.set(TimerKind.viewChange, this.state.view, this.vcTimeoutMs);
  }

  onViewChange(m: ViewChange): void {
    if (!this.views.record(m)) return;
    const s = this.state;
    // Join a higher view once f+1 replicas ask for one: at least one of them is honest.
    const later = this.views.laterViews();
    if (later.length >= s.ctx.f + 1) {
      this.startViewChange(Math.min(...later));
      return;
    }
    if (s.mode === 'viewChange') this.afterViewChangeVote(m.newView);
    else this.armLoneViewChangeTimer();
  }

  /** After a VIEW-CHANGE for `view` is recorded: note a quorum (restarting the timer), act if primary. */
  private afterViewChangeVote(view: number): void {
    const s = this.state;
    if (s.mode !== 'viewChange' || view !== s.view) return;
    if (this.views.votesFor(s.view) < s.ctx.q) return;
    if (!this.vcQuorumSeen) {
      this.vcQuorumSeen = true;
      this.armViewChangeTimer();
    }
    if (s.isPrimary) {
      const { nv, plan } = this.views.sendNewView();
      this.enter(nv, plan);
    }
  }

  private onViewChangeTimeout(): void {
    const s = this.state;
    this.timers.clear(TimerKind.viewChange);
    if (this.vcQuorumSeen || this.quorumLeftForLater()) {
      this.startViewChange(s.view + 1);
      return;
    }
    // No quorum yet: our VIEW-CHANGE may have been lost. Re-send it rather than racing ahead alone.
    const own = this.views.own();
    if (own && own.newView === s.view) s.fx.broadcast(own);
    this.armViewChangeTimer();
  }

  /**
   * A quorum asked for this view or a later one, but fewer than a quorum for this view and fewer than f+1 for
   * later ones: the replicas that moved on cannot come back (PBFT never returns to a view), so waiting here
   * waits for ever. Moving to the next view joins them (a view change is always safe).
   */
  private quorumLeftForLater(): boolean {
    const s = this.state;
    return this.views.votesFor(s.view) + this.views.laterViews().length >= s.ctx.q;
  }

  onNewView(m: NewView): void {
    this.enter(m, this.views.acceptNewView(m));
  }

  /** Enters `nv.view`: its safety steps (view-changes.ts) with this view's timers and request clock fresh. */
  private enter(nv: NewView, plan: NewViewPlan): void {
    this.vcQuorumSeen = false;
    this.proposer.viewChanged();
    this.timers.clear(TimerKind.request);
    this.timers.clear(TimerKind.viewChange);
    this.views.enter(nv, plan);
    this.restartRequestClock();
    this.views.resume();
    this.armRequestTimer();
    this.timers.clear(TimerKind.loneViewChange);
    this.armLoneViewChangeTimer();
  }

  // ---- joining a lone request for a later view -----------------------------------------------------------

  /**
   * In the normal case, while fewer than f+1 validators ask for a later view: after LONE_VIEW_CHANGE_JOIN
   * request timeouts, join a lone request for the next view. A replica whose NEW-VIEW was lost (say, to a
   * one-way link failure) moves on to the next view alone and, since PBFT never lets it go back, would otherwise
   * sit out until the next view change, leaving the others without any fault tolerance. Only the next view
   * counts: while the others run view v, an honest replica that moved ahead alone asks for v+1 (to get further
   * it needs a quorum for v+1, which holds honest validators that left v). A request for a farther view is
   * Byzantine, and joining it one view at a time let a single such VIEW-CHANGE force a view change every period
   * until that view was reached (issue 14). A view change is always safe; the cost is liveness only: f
   * Byzantine validators can still force one view change per period, each with a new VIEW-CHANGE.
   */
  private armLoneViewChangeTimer(): void {
    const s = this.state;
    if (
      s.mode !== 'normal' ||
      this.timers.isArmed(TimerKind.loneViewChange) ||
      !this.someoneAsksForNextView()
    )
      return;
    this.timers.set(TimerKind.loneViewChange, s.view, LONE_VIEW_CHANGE_JOIN * s.params.requestTimeoutMs);
  }

  private someoneAsksForNextView(): boolean {
    return this.views.votesFor(this.state.view + 1) > 0;
  }

  private onLoneViewChangeTimeout(): void {
    const s = this.state;
    this.timers.clear(TimerKind.loneViewChange);
    if (s.mode !== 'normal') throw drop(DropReason.staleTimer, 'lone view-change timer during a view change');
    if (!this.someoneAsksForNextView())
      throw drop(DropReason.staleTimer, 'no validator asks for the next view any more');
    this.startViewChange(s.view + 1);
  }
}
