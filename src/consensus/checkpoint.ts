/**
 * CHECKPOINT votes and the stable checkpoint. A quorum of matching CHECKPOINT(seq, headerHash) makes seq
 * stable: the log below it is pruned and the watermarks move to (seq, seq+L]. f+1 matching votes above what
 * this replica executed prove (at least one honest replica vouches) that it is behind: a state-transfer target.
 *
 * Memory is bounded: votes are kept for multiples of K inside the window (at most L/K × n), plus, for votes
 * beyond the window, only each sender's highest one (at most n more).
 */
import { toHex } from '../core/bytes.ts';
import { DropReason, drop } from './errors.ts';
import type { CheckpointProof, SignatureShare } from './messages.ts';

interface CheckpointVote {
  hash: Uint8Array;
  hashHex: string;
  signature: Uint8Array;
}

export interface CheckpointTarget {
  seq: number;
  headerHash: Uint8Array;
}

export class CheckpointTracker {
  private stableProof: CheckpointProof;
  private readonly votes = new Map<number, Map<number, CheckpointVote>>();
  /** sender → seq of its vote above the high watermark. */
  private readonly ahead = new Map<number, number>();
  private readonly window: number;

  constructor(stable: CheckpointProof, window: number) {
    this.stableProof = stable;
    this.window = window;
  }

  get stable(): CheckpointProof {
    return this.stableProof;
  }

  get low(): number {
    return this.stableProof.seq;
  }

  get high(): number {
    return this.stableProof.seq + this.window;
  }

  get size(): number {
    let n = 0;
    for (const m of this.votes.values()) n += m.size;
    return n;
  }

  /**
   * Records a verified vote. Returns a proof if it completes a quorum above the stable checkpoint.
   * Throws a drop for stale, duplicate or conflicting votes.
   */
  add(
    from: number,
    seq: number,
    hash: Uint8Array,
    signature: Uint8Array,
    q: number,
  ): CheckpointProof | undefined {
    if (seq <= this.low) throw drop(DropReason.staleCheckpoint, `checkpoint ${seq} <= stable ${this.low}`);
    const hashHex = toHex(hash);
    if (seq > this.high) {
      const prev = this.ahead.get(from);
      if (prev !== undefined && prev >= seq) {
        throw drop(DropReason.duplicate, `sender ${from} already voted checkpoint ${prev} beyond the window`);
      }
      if (prev !== undefined) this.removeVote(prev, from);
      this.ahead.set(from, seq);
    }
    let bySender = this.votes.get(seq);
    if (bySender === undefined) {
      bySender = new Map();
      this.votes.set(seq, bySender);
    }
    const existing = bySender.get(from);
    if (existing) {
      if (existing.hashHex === hashHex)
        throw drop(DropReason.duplicate, `checkpoint ${seq} from ${from} again`);
      throw drop(DropReason.equivocation, `two checkpoints for ${seq} from ${from}`);
    }
    bySender.set(from, { hash, hashHex, signature });
    const matching: SignatureShare[] = [];
    for (const [v, vote] of bySender)
      if (vote.hashHex === hashHex) matching.push({ validator: v, signature: vote.signature });
    if (matching.length < q) return undefined;
    matching.sort((a, b) => a.validator - b.validator);
    return { seq, headerHash: hash, signatures: matching };
  }

  /** Moves the stable checkpoint up and prunes votes at or below it. */
  advance(proof: CheckpointProof): void {
    this.stableProof = proof;
    for (const seq of [...this.votes.keys()]) if (seq <= proof.seq) this.votes.delete(seq);
    for (const [sender, seq] of [...this.ahead]) if (seq <= this.high) this.ahead.delete(sender);
  }

  /** The highest seq above `executed` with at least `threshold` matching votes. */
  target(executed: number, threshold: number): CheckpointTarget | undefined {
    let best: CheckpointTarget | undefined;
    for (const [seq, bySender] of this.votes) {
      if (seq <= executed || (best && seq <= best.seq)) continue;
      const counts = new Map<string, { n: number; hash: Uint8Array }>();
      for (const vote of bySender.values()) {
        const c = counts.get(vote.hashHex) ?? { n: 0, hash: vote.hash };
        c.n++;
        counts.set(vote.hashHex, c);
        if (c.n >= threshold) best = { seq, headerHash: c.hash };
      }
    }
    return best;
  }

  private removeVote(seq: number, from: number): void {
    const m = this.votes.get(seq);
    if (!m) return;
    m.delete(from);
    if (m.size === 0) this.votes.delete(seq);
  }
}
