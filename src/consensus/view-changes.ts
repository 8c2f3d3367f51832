/**
 * The safety side of a view change: what a VIEW-CHANGE carries (the stable checkpoint and every prepared
 * certificate above it), which VIEW-CHANGEs count, the NEW-VIEW a new primary builds from a quorum of them
 * (view-change.ts plans and verifies it), and entering the new view (adopt its checkpoint, accept its
 * re-issued PRE-PREPAREs, never one that contradicts a block executed here). When to ask for a view change,
 * and when to give up on one, is the pacemaker's business (pacemaker.ts).
 */
import { type Batch, nullBatch } from '../core/batch.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { Domain } from '../core/crypto.ts';
import { InvariantError } from '../core/errors.ts';
import type { CatchUp } from './catch-up.ts';
import { primaryOf, verifyViewChange } from './certificates.ts';
import type { CoreState } from './core-state.ts';
import { ConsensusError, ConsensusErrorCode, DropReason, drop } from './errors.ts';
import type { Inbox } from './inbox.ts';
import { type NewView, prePrepareBody, type ViewChange, withSignature } from './messages.ts';
import type { NormalCase } from './normal-case.ts';
import { type PersistedState, putNewView, putViewChange, RecordKey } from './persist.ts';
import { type NewViewPlan, planNewView, verifyNewView } from './view-change.ts';
import type { Watermarks } from './watermarks.ts';

export class ViewChanges {
  private readonly state: CoreState;
  private readonly inbox: Pick<Inbox, 'dropViewsBelow' | 'replayView'>;
  private readonly watermarks: Pick<Watermarks, 'adoptStable' | 'resendLatestCheckpoint'>;
  private readonly normal: Pick<NormalCase, 'acceptPrePrepare' | 'tryExecute'>;
  private readonly catchUp: Pick<CatchUp, 'ensureFetch'>;
  /** Each sender's VIEW-CHANGE for the highest view it asked for (at most n). */
  private readonly requests = new Map<number, ViewChange>();
  /** The NEW-VIEW that started the current view, re-sent to replicas still asking for this view. */
  private newViewMsg: NewView | undefined;

  constructor(
    state: CoreState,
    inbox: ViewChanges['inbox'],
    watermarks: ViewChanges['watermarks'],
    normal: ViewChanges['normal'],
    catchUp: ViewChanges['catchUp'],
  ) {
    this.state = state;
    this.inbox = inbox;
    this.watermarks = watermarks;
    this.normal = normal;
    this.catchUp = catchUp;
  }

  get size(): number {
    return this.requests.size;
  }

  /** After a restart: this replica's VIEW-CHANGE if in a view change, else the NEW-VIEW of its view. */
  restore(state: PersistedState): void {
    const s = this.state;
    if (s.mode === 'viewChange') {
      if (state.viewChange === undefined || state.viewChange.newView !== s.view) {
        throw new ConsensusError(
          ConsensusErrorCode.corruptState,
          'view change in progress without its VIEW-CHANGE',
        );
      }
      this.requests.set(s.self, state.viewChange);
    } else if (state.newView?.view === s.view) {
      this.newViewMsg = state.newView;
    }
  }

  /** This replica's own VIEW-CHANGE (for the view it is changing to, or asked for last). */
  own(): ViewChange | undefined {
    return this.requests.get(this.state.self);
  }

  /** The views above ours that validators ask for, one per validator. */
  laterViews(): number[] {
    const views: number[] = [];
    for (const vc of this.requests.values()) if (vc.newView > this.state.view) views.push(vc.newView);
    return views;
  }

  /** How many validators (this one included) asked for `view`. */
  votesFor(view: number): number {
    let count = 0;
    for (const vc of this.requests.values()) if (vc.newView === view) count++;
    return count;
  }

  /** Starts a view change to `newView`: sign, persist and broadcast VIEW-CHANGE with the prepared certificates. */
  begin(newView: number): void {
    const s = this.state;
    if (newView <= s.view)
      throw new InvariantError('view change must move forward', { newView, view: s.view });
    s.fx.persist(...s.guard.authorizeViewChange(newView));
    s.view = newView;
    s.mode = 'viewChange';
    this.newViewMsg = undefined;
    const prepared = s.log
      .sorted()
      .filter((e) => e.preparedCert && e.seq > s.checkpoints.low)
      .map((e) => e.preparedCert!);
    const vc = withSignature<ViewChange>(
      {
        type: 'viewChange',
        chainId: s.ctx.chainId,
        from: s.self,
        newView,
        checkpoint: s.checkpoints.stable,
        prepared,
      },
      s.sign,
    );
    this.requests.set(s.self, vc);
    s.fx.persist(putViewChange(vc), s.viewOp());
    this.inbox.dropViewsBelow(newView);
    s.fx.broadcast(vc);
  }

  /**
   * Checks and records a VIEW-CHANGE; returns false when instead it came from a replica that missed the
   * NEW-VIEW of our view (it is sent that NEW-VIEW).
   */
  record(m: ViewChange): boolean {
    const s = this.state;
    if (s.mode === 'normal' && m.newView <= s.view) {
      // The sender is still trying to reach a view at or below ours: it missed the NEW-VIEW of our view.
      s.verifySig(m);
      this.helpLaggard(m.from);
      return false;
    }
    if (m.newView < s.view) throw drop(DropReason.staleView, `VIEW-CHANGE to ${m.newView}, at ${s.view}`);
    const prev = this.requests.get(m.from);
    if (prev && prev.newView > m.newView)
      throw drop(DropReason.staleView, `older VIEW-CHANGE from ${m.from}`);
    const again = prev !== undefined && prev.newView === m.newView && equalBytes(prev.signature, m.signature);
    if (again) throw drop(DropReason.duplicate, `VIEW-CHANGE from ${m.from} again`);
    verifyViewChange(s.ctx, m);
    if (prev && prev.newView === m.newView) {
      throw drop(DropReason.equivocation, `two VIEW-CHANGEs to ${m.newView} from ${m.from}`);
    }
    this.requests.set(m.from, m);
    return true;
  }

  private helpLaggard(to: number): void {
    if (this.newViewMsg === undefined || to === this.newViewMsg.from)
      throw drop(DropReason.staleView, `VIEW-CHANGE to a view at or below ours (${this.state.view})`);
    this.state.fx.send(to, this.newViewMsg);
  }

  /** The new primary, with a quorum of VIEW-CHANGEs for its view: sign and broadcast the NEW-VIEW. */
  sendNewView(): { nv: NewView; plan: NewViewPlan } {
    const s = this.state;
    const vcs = [...this.requests.values()]
      .filter((vc) => vc.newView === s.view)
      .sort((a, b) => a.from - b.from)
      .slice(0, s.ctx.q);
    const plan = planNewView(s.ctx, s.view, vcs);
    s.fx.persist(...s.guard.authorizeNewView(s.view));
    const prePrepares = plan.entries.map((p) => {
      s.fx.persist(...s.guard.authorizeVote('prePrepare', s.view, p.seq, p.digest));
      const signature = s.sign(Domain.prePrepare, prePrepareBody(s.ctx.chainId, s.view, p.seq, p.digest));
      return { seq: p.seq, digest: p.digest, signature };
    });
    const nv = withSignature<NewView>(
      { type: 'newView', chainId: s.ctx.chainId, from: s.self, view: s.view, viewChanges: vcs, prePrepares },
      s.sign,
    );
    s.fx.broadcast(nv);
    return { nv, plan };
  }

  /** Checks a NEW-VIEW from a peer: for a view we have not entered, and recomputed from its VIEW-CHANGEs. */
  acceptNewView(m: NewView): NewViewPlan {
    const s = this.state;
    if (m.view < s.view || (m.view === s.view && s.mode === 'normal')) {
      throw drop(DropReason.staleView, `NEW-VIEW for ${m.view}, at ${s.view} (${s.mode})`);
    }
    return verifyNewView(s.ctx, m);
  }

  /** Enters `nv.view`: adopt its checkpoint and accept its re-issued PRE-PREPAREs. */
  enter(nv: NewView, plan: NewViewPlan): void {
    const s = this.state;
    s.view = nv.view;
    s.mode = 'normal';
    this.newViewMsg = nv;
    // Persisted so that after a restart it can still be sent to replicas that missed it.
    s.fx.persist(s.viewOp(), putNewView(nv), { op: 'del', key: RecordKey.viewChange });
    for (const [from, vc] of [...this.requests]) if (vc.newView <= s.view) this.requests.delete(from);
    if (plan.checkpoint.seq > s.checkpoints.low) this.watermarks.adoptStable(plan.checkpoint);
    // Collect bodies before entries move views (a body of a batch that was not prepared is released).
    const bodies = new Map<string, Batch>();
    for (const e of s.log.sorted()) for (const [hex, b] of e.bodies()) bodies.set(hex, b);
    for (const e of s.log.sorted()) {
      s.log.moveToView(e, s.view);
      s.releaseBodies(e);
    }
    const primary = primaryOf(s.ctx, s.view);
    for (let i = 0; i < plan.entries.length; i++) {
      const p = plan.entries[i]!;
      if (p.seq <= s.checkpoints.low) continue;
      if (p.seq > s.checkpoints.high) break;
      const ex = s.executed.get(p.seq);
      if (ex?.digest !== undefined && !equalBytes(ex.digest, p.digest)) {
        s.fx.dropped(
          DropReason.conflictsCommitted,
          `NEW-VIEW re-issues seq ${p.seq} with a batch other than the one executed`,
        );
        continue;
      }
      const body = p.isNull ? nullBatch(primary, s.view) : bodies.get(toHex(p.digest));
      const e = s.entry(p.seq);
      this.normal.acceptPrePrepare(e, p.digest, nv.prePrepares[i]!.signature, body);
      if (!e.batch) this.catchUp.ensureFetch(e);
    }
    const last = plan.entries.length > 0 ? plan.entries[plan.entries.length - 1]!.seq : plan.checkpoint.seq;
    s.nextSeq = Math.max(last, s.checkpoints.low, s.lastExecuted) + 1;
  }

  /** The normal case of the entered view starts: re-send our checkpoint, replay kept messages, execute. */
  resume(): void {
    // Checkpoint votes may have been lost with the old view; without them the window can stay full for good.
    this.watermarks.resendLatestCheckpoint();
    this.inbox.replayView();
    this.normal.tryExecute();
  }
}
