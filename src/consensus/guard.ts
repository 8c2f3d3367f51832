/**
 * The last-signed guard (CometBFT privval style, adapted to PBFT's pipelined window). Before the core signs
 * anything it asks the guard, which refuses:
 * - any PRE-PREPARE/PREPARE/COMMIT in a view below one it already voted in, or below a view it asked to move
 *   to with a VIEW-CHANGE (a replica never returns to a view it left);
 * - a second, different value for the same (view, seq, phase);
 * - a VIEW-CHANGE or NEW-VIEW for a view at or below one it already signed;
 * - a second, different CHECKPOINT hash for the same seq.
 * Signing the same value again is allowed (Ed25519 is deterministic, so it is the same signature).
 * Every approval returns the persist operations that record it; the core emits them before the send.
 * A refusal means the core itself tried to double-sign: an InvariantError that stops the node.
 */
import { equalBytes } from '../core/bytes.ts';
import { InvariantError } from '../core/errors.ts';
import {
  encodeGuardRecord,
  encodeVoteRecord,
  type GuardRecord,
  type PersistOp,
  RecordKey,
  type VoteRecord,
} from './persist.ts';

export type VotePhase = 'prePrepare' | 'prepare' | 'commit';

export class SignGuard {
  private readonly g: GuardRecord;
  private readonly votes: Map<number, VoteRecord>;

  constructor(guard?: GuardRecord, votes?: Map<number, VoteRecord>) {
    this.g = guard ? { ...guard } : { voteView: 0, viewChangeView: 0, newViewView: 0 };
    this.votes = votes ? new Map(votes) : new Map();
  }

  get state(): Readonly<GuardRecord> {
    return this.g;
  }

  get size(): number {
    return this.votes.size;
  }

  /** What this replica signed at seq in the highest view it signed there. */
  signedAt(seq: number): Readonly<VoteRecord> | undefined {
    return this.votes.get(seq);
  }

  authorizeVote(phase: VotePhase, view: number, seq: number, value: Uint8Array): PersistOp[] {
    if (view < this.g.voteView || view < this.g.viewChangeView) {
      throw new InvariantError('refusing to sign in a view below one already signed', {
        phase,
        view,
        seq,
        voteView: this.g.voteView,
        viewChangeView: this.g.viewChangeView,
      });
    }
    const ops: PersistOp[] = [];
    if (view > this.g.voteView) {
      this.g.voteView = view;
      ops.push(this.guardOp());
    }
    const prev = this.votes.get(seq);
    let rec: VoteRecord;
    if (prev === undefined || prev.view < view) {
      rec = {
        seq,
        view,
        prePrepare: undefined,
        prepare: undefined,
        commit: undefined,
        checkpoint: prev?.checkpoint,
      };
    } else if (prev.view === view) {
      const signed = prev[phase];
      if (signed !== undefined) {
        if (!equalBytes(signed, value)) {
          throw new InvariantError('refusing to sign two different values for one (view, seq, phase)', {
            phase,
            view,
            seq,
          });
        }
        return ops;
      }
      rec = { ...prev };
    } else {
      throw new InvariantError('refusing to sign at a seq in a view below one already signed there', {
        phase,
        view,
        seq,
        signedView: prev.view,
      });
    }
    rec[phase] = value;
    this.votes.set(seq, rec);
    ops.push({ op: 'put', key: RecordKey.vote(seq), value: encodeVoteRecord(rec) });
    return ops;
  }

  authorizeCheckpoint(seq: number, headerHash: Uint8Array): PersistOp[] {
    const prev = this.votes.get(seq);
    if (prev?.checkpoint !== undefined) {
      if (!equalBytes(prev.checkpoint, headerHash)) {
        throw new InvariantError('refusing to sign two different checkpoints for one seq', { seq });
      }
      return [];
    }
    const rec: VoteRecord = prev
      ? { ...prev, checkpoint: headerHash }
      : {
          seq,
          view: this.g.voteView,
          prePrepare: undefined,
          prepare: undefined,
          commit: undefined,
          checkpoint: headerHash,
        };
    this.votes.set(seq, rec);
    return [{ op: 'put', key: RecordKey.vote(seq), value: encodeVoteRecord(rec) }];
  }

  authorizeViewChange(newView: number): PersistOp[] {
    if (newView <= this.g.viewChangeView || newView <= this.g.voteView) {
      throw new InvariantError('refusing to sign a VIEW-CHANGE for a view already passed', {
        newView,
        viewChangeView: this.g.viewChangeView,
        voteView: this.g.voteView,
      });
    }
    this.g.viewChangeView = newView;
    return [this.guardOp()];
  }

  authorizeNewView(view: number): PersistOp[] {
    if (view <= this.g.newViewView || view < this.g.voteView) {
      throw new InvariantError('refusing to sign a second NEW-VIEW for a view', { view });
    }
    this.g.newViewView = view;
    return [this.guardOp()];
  }

  /** Forgets seqs at or below the stable checkpoint: the core never signs there again. */
  prune(stableSeq: number): PersistOp[] {
    const ops: PersistOp[] = [];
    for (const seq of [...this.votes.keys()]) {
      if (seq <= stableSeq) {
        this.votes.delete(seq);
        ops.push({ op: 'del', key: RecordKey.vote(seq) });
      }
    }
    return ops;
  }

  private guardOp(): PersistOp {
    return { op: 'put', key: RecordKey.guard, value: encodeGuardRecord(this.g) };
  }
}
