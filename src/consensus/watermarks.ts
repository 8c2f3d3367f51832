/**
 * CHECKPOINT messages and the stable checkpoint: every K executed seqs a replica signs CHECKPOINT(seq,
 * headerHash); a quorum of matching ones makes seq stable, which prunes the log, its records and the guard at
 * or below it and moves the window (h, H] to (seq, seq+L]. A quorum proof is adopted even by a replica that
 * has not executed that far (it then transfers state), never one that contradicts a block it executed.
 */
import { equalBytes } from '../core/bytes.ts';
import type { CheckpointTarget } from './checkpoint.ts';
import type { CoreState } from './core-state.ts';
import { DropReason, drop } from './errors.ts';
import type { Inbox } from './inbox.ts';
import { type Checkpoint, type CheckpointProof, withSignature } from './messages.ts';
import { encodeStableRecord, RecordKey } from './persist.ts';

/** What the watermarks ask of catch-up when checkpoints show this replica is behind. */
export interface BehindSignal {
  /** Transfer state up to this certified target now. */
  requestTransfer(target: CheckpointTarget): void;
  /** Others are ahead: transfer state if still behind after a while. */
  armCatchUp(): void;
}

export class Watermarks {
  private readonly state: CoreState;
  private readonly inbox: Inbox;
  private readonly behind: BehindSignal;

  constructor(state: CoreState, inbox: Inbox, behind: BehindSignal) {
    this.state = state;
    this.inbox = inbox;
    this.behind = behind;
  }

  /** Signs and broadcasts CHECKPOINT(seq, hash) for a block this replica holds, and counts its own vote. */
  sendCheckpoint(seq: number, hash: Uint8Array): void {
    const s = this.state;
    if (seq <= s.checkpoints.low) return;
    s.fx.persist(...s.guard.authorizeCheckpoint(seq, hash));
    const m = withSignature<Checkpoint>(
      { type: 'checkpoint', chainId: s.ctx.chainId, from: s.self, seq, headerHash: hash },
      s.sign,
    );
    s.fx.broadcast(m);
    const proof = s.checkpoints.add(s.self, seq, hash, m.signature, s.ctx.q);
    if (proof) this.adoptStable(proof);
  }

  onCheckpoint(m: Checkpoint): void {
    const s = this.state;
    if (m.seq % s.ctx.k !== 0 || m.seq <= s.ctx.baseSeq) {
      throw drop(DropReason.badCheckpoint, `checkpoint at ${m.seq}, interval ${s.ctx.k}`);
    }
    if (m.seq <= s.checkpoints.low) throw drop(DropReason.staleCheckpoint, `checkpoint ${m.seq}`);
    s.verifySig(m);
    const proof = s.checkpoints.add(m.from, m.seq, m.headerHash, m.signature, s.ctx.q);
    if (proof) this.adoptStable(proof);
    const weak = s.checkpoints.target(s.lastExecuted, s.ctx.f + 1);
    if (weak === undefined) return;
    // Beyond the window this replica cannot catch up by itself; inside it, give it a moment first.
    if (weak.seq > s.checkpoints.high) this.behind.requestTransfer(weak);
    else this.behind.armCatchUp();
  }

  /** Makes a quorum-certified checkpoint stable: prune, move the watermarks, transfer state if behind. */
  adoptStable(proof: CheckpointProof): void {
    const s = this.state;
    if (proof.seq <= s.checkpoints.low) return;
    const mine = proof.seq <= s.lastExecuted ? s.executed.get(proof.seq) : undefined;
    if (mine && !equalBytes(mine.hash, proof.headerHash)) {
      s.fx.dropped(
        DropReason.conflictingCheckpoint,
        `quorum checkpoint ${proof.seq} contradicts the executed block`,
      );
      return;
    }
    s.checkpoints.advance(proof);
    for (const e of s.log.pruneTo(proof.seq)) {
      s.fx.persist({ op: 'del', key: RecordKey.entry(e.seq) });
      for (const hex of e.persistedBodies) s.fx.persist({ op: 'del', key: RecordKey.batch(e.seq, hex) });
    }
    s.fx.persist(...s.guard.prune(proof.seq));
    for (const seq of [...s.executed.keys()]) {
      if (seq <= proof.seq) s.fx.persist({ op: 'del', key: RecordKey.executed(seq) });
    }
    s.trimExecuted();
    this.inbox.windowMovedTo(proof.seq);
    s.fx.persist({ op: 'put', key: RecordKey.stable, value: encodeStableRecord(proof) });
    if (s.nextSeq <= proof.seq) s.nextSeq = proof.seq + 1;
    if (s.lastExecuted < proof.seq)
      this.behind.requestTransfer({ seq: proof.seq, headerHash: proof.headerHash });
  }

  /** Re-sends this replica's newest CHECKPOINT above the stable one (votes may be lost with an old view). */
  resendLatestCheckpoint(): void {
    const s = this.state;
    const top = s.lastExecuted - (s.lastExecuted % s.ctx.k);
    if (top <= s.checkpoints.low) return;
    const hash = s.guard.signedAt(top)?.checkpoint;
    if (hash === undefined) return;
    s.fx.broadcast(
      withSignature<Checkpoint>(
        { type: 'checkpoint', chainId: s.ctx.chainId, from: s.self, seq: top, headerHash: hash },
        s.sign,
      ),
    );
  }
}
