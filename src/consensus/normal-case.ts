/**
 * The normal case of PBFT, chain style, for sequence number n (= block height n):
 *   PRE-PREPARE(v, n, batch) → PREPARE(v, n, digest) → prepared (PRE-PREPARE + quorum−1 PREPAREs)
 *   → once n−1 is executed: `buildBlock` → `blockBuilt` → COMMIT(v, n, headerHash)
 *   → a quorum of matching COMMITs = the commit certificate → `commitBlock`.
 * Prepares pipeline across the watermark window; commits go in order. These are the acceptance rules an
 * auditor checks (docs/protocol.md, "Normal case"); when to propose and when to give up on a view are not here.
 */
import { type Batch, batchDigest } from '../core/batch.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { InvariantError } from '../core/errors.ts';
import type { CatchUp } from './catch-up.ts';
import { assembleCommitCertificate, primaryOf } from './certificates.ts';
import type { CoreState } from './core-state.ts';
import { DropReason, drop } from './errors.ts';
import type { Inbox } from './inbox.ts';
import type { LogEntry, Vote } from './log.ts';
import {
  type Commit,
  type PrePrepare,
  type Prepare,
  type PreparedCertificate,
  type SignatureShare,
  withSignature,
} from './messages.ts';
import type { TransferredBlock } from './types.ts';
import type { Watermarks } from './watermarks.ts';

export interface NormalCaseHooks {
  /** These txs are in blocks this replica now holds (committed or transferred): they are no longer pending. */
  txsCommitted(hashHexes: readonly string[]): void;
  /** A block was committed by consensus in the current view: the view works. */
  blockCommitted(): void;
}

export class NormalCase {
  private readonly state: CoreState;
  private readonly inbox: Pick<Inbox, 'admit'>;
  private readonly watermarks: Pick<Watermarks, 'sendCheckpoint'>;
  private readonly catchUp: Pick<CatchUp, 'target' | 'armCatchUp' | 'ensureFetch' | 'transferred'>;
  private readonly hooks: NormalCaseHooks;
  /** The block being built (a `buildBlock` without its `blockBuilt` yet). */
  private building: { seq: number; digestHex: string } | undefined;

  constructor(
    state: CoreState,
    inbox: NormalCase['inbox'],
    watermarks: NormalCase['watermarks'],
    catchUp: NormalCase['catchUp'],
    hooks: NormalCaseHooks,
  ) {
    this.state = state;
    this.inbox = inbox;
    this.watermarks = watermarks;
    this.catchUp = catchUp;
    this.hooks = hooks;
  }

  /** After a restart in the normal case: re-send this view's PREPAREs, fetch missing bodies, execute. */
  resume(): void {
    const s = this.state;
    // The guard shows what was signed: PREPAREs may have been lost in the crash.
    for (const e of s.log.sorted()) {
      const signed = s.guard.signedAt(e.seq);
      if (e.view !== s.view || !e.digest || signed?.view !== s.view || !signed.prepare) continue;
      if (equalBytes(signed.prepare, e.digest)) this.sendPrepare(e);
    }
    for (const e of s.log.sorted())
      if (e.view === s.view && e.digest && !e.batch) this.catchUp.ensureFetch(e);
    this.tryExecute();
  }

  // ---- PRE-PREPARE and PREPARE ---------------------------------------------------------------------------

  onPrePrepare(m: PrePrepare): void {
    const s = this.state;
    const now = this.inbox.admit(m, () => {
      if (m.from !== primaryOf(s.ctx, m.view))
        throw drop(DropReason.notPrimary, `PRE-PREPARE for view ${m.view} from ${m.from}`);
    });
    if (!now) return;
    if (m.seq <= s.lastExecuted) throw drop(DropReason.executed, `PRE-PREPARE for executed seq ${m.seq}`);
    const existing = s.log.get(m.seq);
    if (existing && existing.view === s.view && existing.digestHex !== undefined) {
      if (existing.digestHex === toHex(m.digest))
        throw drop(DropReason.duplicate, `PRE-PREPARE ${m.seq} again`);
      throw drop(DropReason.equivocation, `second PRE-PREPARE for (${m.view}, ${m.seq})`);
    }
    this.checkBatch(m);
    this.acceptPrePrepare(s.entry(m.seq), m.digest, m.signature, m.batch);
  }

  private checkBatch(m: PrePrepare): void {
    const s = this.state;
    const b = m.batch;
    if (b.proposer !== m.from || b.view !== m.view) {
      throw drop(DropReason.badBatch, `batch proposed by ${b.proposer} in view ${b.view}`);
    }
    if (b.txs.length === 0 || b.time === 0) throw drop(DropReason.badBatch, 'empty batch in the normal case');
    let bytes = 0;
    for (const t of b.txs) bytes += t.bytes.length;
    if (b.txs.length > s.params.maxBatchTxs || bytes > s.params.maxBatchBytes) {
      throw drop(DropReason.batchTooLarge, `batch of ${b.txs.length} txs, ${bytes} bytes`);
    }
    const seen = new Set<string>();
    for (const t of b.txs) {
      if (seen.has(t.hashHex)) throw drop(DropReason.duplicateTx, `tx ${t.hashHex.slice(0, 12)} twice`);
      seen.add(t.hashHex);
      const other = s.log.txElsewhere(t.hashHex, m.seq);
      if (other !== undefined) {
        throw drop(DropReason.txInFlight, `tx ${t.hashHex.slice(0, 12)} already at seq ${other}`);
      }
    }
    if (Math.abs(b.time - s.fx.now) > s.params.maxClockSkewMs) {
      throw drop(DropReason.clockSkew, `batch time ${b.time}, local time ${s.fx.now}`);
    }
  }

  /** The primary signs, broadcasts and accepts its own PRE-PREPARE for `batch` at `seq`. */
  propose(seq: number, batch: Batch): void {
    const s = this.state;
    const digest = batchDigest(batch, s.ctx.suite);
    s.fx.persist(...s.guard.authorizeVote('prePrepare', s.view, seq, digest));
    const m = withSignature<PrePrepare>(
      { type: 'prePrepare', chainId: s.ctx.chainId, from: s.self, view: s.view, seq, batch, digest },
      s.sign,
    );
    s.fx.broadcast(m);
    this.acceptPrePrepare(s.entry(seq), digest, m.signature, batch);
  }

  /** Accepts a PRE-PREPARE (fresh, re-issued or our own) for the current view; backups then PREPARE. */
  acceptPrePrepare(e: LogEntry, digest: Uint8Array, signature: Uint8Array, batch: Batch | undefined): void {
    const s = this.state;
    e.digest = digest;
    e.digestHex = toHex(digest);
    e.prePrepareSignature = signature;
    if (batch) s.setBody(e, batch);
    s.persistEntry(e);
    if (!s.isPrimary) this.sendPrepare(e);
    this.checkPrepared(e);
  }

  private sendPrepare(e: LogEntry): void {
    const s = this.state;
    const digest = e.digest!;
    s.fx.persist(...s.guard.authorizeVote('prepare', s.view, e.seq, digest));
    const m = withSignature<Prepare>(
      { type: 'prepare', chainId: s.ctx.chainId, from: s.self, view: s.view, seq: e.seq, digest },
      s.sign,
    );
    e.prepares.set(s.self, { value: digest, valueHex: e.digestHex!, signature: m.signature });
    s.fx.broadcast(m);
  }

  onPrepare(m: Prepare): void {
    const s = this.state;
    const now = this.inbox.admit(m, () => {
      if (m.from === primaryOf(s.ctx, m.view)) throw drop(DropReason.primaryVote, `PREPARE from the primary`);
    });
    if (!now) return;
    const e = s.entry(m.seq);
    this.addVote(e.prepares, m.from, m.digest, m.signature, 'PREPARE', m.seq);
    this.checkPrepared(e);
  }

  private addVote(
    votes: Map<number, Vote>,
    from: number,
    value: Uint8Array,
    signature: Uint8Array,
    what: string,
    seq: number,
  ): string {
    const valueHex = toHex(value);
    const prev = votes.get(from);
    if (prev) {
      if (prev.valueHex === valueHex) throw drop(DropReason.duplicate, `${what} ${seq} from ${from} again`);
      throw drop(DropReason.equivocation, `two ${what}s for (${this.state.view}, ${seq}) from ${from}`);
    }
    votes.set(from, { value, valueHex, signature });
    return valueHex;
  }

  private checkPrepared(e: LogEntry): void {
    const s = this.state;
    if (e.prepared || e.digestHex === undefined || e.view !== s.view) return;
    const shares: SignatureShare[] = [];
    for (const [validator, v] of e.prepares)
      if (v.valueHex === e.digestHex) shares.push({ validator, signature: v.signature });
    if (shares.length < s.ctx.q - 1) return;
    shares.sort((a, b) => a.validator - b.validator);
    e.prepared = true;
    const cert: PreparedCertificate = {
      view: e.view,
      seq: e.seq,
      digest: e.digest!,
      prePrepareSignature: e.prePrepareSignature!,
      prepares: shares.slice(0, s.ctx.q - 1),
    };
    e.preparedCert = cert;
    e.preparedBatch = undefined;
    s.releaseBodies(e);
    // Persisted before this replica's COMMIT can be sent: VIEW-CHANGEs after a restart must report it.
    s.persistEntry(e);
    if (e.seq <= s.lastExecuted) this.commitExecuted(e);
    else this.tryExecute();
  }

  // ---- COMMIT and execution ------------------------------------------------------------------------------

  onCommit(m: Commit): void {
    const s = this.state;
    if (!this.inbox.admit(m)) return;
    const e = s.entry(m.seq);
    const hex = this.addVote(e.commits, m.from, m.headerHash, m.signature, 'COMMIT', m.seq);
    this.tryExecute();
    // A commit certificate above what we executed proves we are behind.
    if (m.seq > s.lastExecuted && countMatching(e.commits, hex) >= s.ctx.q) this.catchUp.armCatchUp();
  }

  /** In a new view, a seq this replica already executed is committed again with the hash it executed. */
  private commitExecuted(e: LogEntry): void {
    const ex = this.state.executed.get(e.seq);
    if (ex === undefined || e.commits.has(this.state.self)) return;
    this.sendCommit(e, ex.hash);
  }

  private sendCommit(e: LogEntry, hash: Uint8Array): void {
    const s = this.state;
    s.fx.persist(...s.guard.authorizeVote('commit', s.view, e.seq, hash));
    const m = withSignature<Commit>(
      { type: 'commit', chainId: s.ctx.chainId, from: s.self, view: s.view, seq: e.seq, headerHash: hash },
      s.sign,
    );
    e.commits.set(s.self, { value: hash, valueHex: toHex(hash), signature: m.signature });
    s.fx.broadcast(m);
  }

  /** Executes in order: build the next prepared block, COMMIT it, and commit it on a quorum of COMMITs. */
  tryExecute(): void {
    const s = this.state;
    while (s.mode === 'normal' && this.catchUp.target === undefined && this.building === undefined) {
      const e = s.log.get(s.lastExecuted + 1);
      if (e === undefined || !e.prepared || e.view !== s.view) return;
      const hash = e.builtHashes.get(e.digestHex!);
      if (hash === undefined) {
        if (e.batch === undefined) {
          this.catchUp.ensureFetch(e);
          return;
        }
        this.building = { seq: e.seq, digestHex: e.digestHex! };
        s.fx.emit({ type: 'buildBlock', seq: e.seq, digest: e.digest!, batch: e.batch });
        return;
      }
      if (!e.commits.has(s.self)) this.sendCommit(e, hash);
      const hashHex = toHex(hash);
      const shares: SignatureShare[] = [];
      for (const [validator, v] of e.commits)
        if (v.valueHex === hashHex) shares.push({ validator, signature: v.signature });
      if (shares.length < s.ctx.q) return;
      const certificate = assembleCommitCertificate(e.seq, s.view, hash, shares);
      s.fx.emit({ type: 'commitBlock', seq: e.seq, digest: e.digest!, headerHash: hash, certificate });
      this.onExecuted(e.seq, hash, e.batch!, e.digest!);
    }
  }

  private onExecuted(seq: number, hash: Uint8Array, batch: Batch, digest: Uint8Array): void {
    const s = this.state;
    s.lastExecuted = seq;
    s.recordExecuted(seq, hash, digest);
    s.trimExecuted();
    this.hooks.txsCommitted(batch.txs.map((t) => t.hashHex));
    this.hooks.blockCommitted();
    if (seq % s.ctx.k === 0) this.watermarks.sendCheckpoint(seq, hash);
  }

  onBlockBuilt(seq: number, digest: Uint8Array, headerHash: Uint8Array): void {
    const b = this.building;
    const hex = toHex(digest);
    if (b === undefined || b.seq !== seq || b.digestHex !== hex) {
      throw drop(DropReason.staleResult, `built block ${seq} was not requested`);
    }
    this.building = undefined;
    // The block for (seq, digest) depends only on the chain up to seq−1, so the hash stays valid across views.
    this.state.log.get(seq)?.builtHashes.set(hex, headerHash);
    this.tryExecute();
  }

  /** The state-transfer layer stored certified blocks up to `seq`: they count as executed. */
  onStateTransferred(seq: number, headerHash: Uint8Array, blocks: readonly TransferredBlock[]): void {
    const s = this.state;
    if (seq <= s.lastExecuted) {
      throw drop(DropReason.staleResult, `state transferred to ${seq}, executed ${s.lastExecuted}`);
    }
    const target = this.catchUp.target;
    const stored = blocks.filter((b) => b.seq <= seq);
    if (!stored.some((b) => b.seq === seq)) stored.push({ seq, headerHash, txHashes: [] });
    let vouch: TransferredBlock | undefined;
    for (const b of stored) {
      this.hooks.txsCommitted(b.txHashes.map((h) => toHex(h)));
      if (target && b.seq === target.seq && !equalBytes(b.headerHash, target.headerHash)) {
        throw new InvariantError('state transfer stored a block that contradicts the certified target', {
          seq: b.seq,
        });
      }
      if (b.seq > s.checkpoints.low && (b.seq <= s.checkpoints.high || b.seq === seq)) {
        s.recordExecuted(b.seq, b.headerHash, undefined);
      }
      if (b.seq % s.ctx.k === 0 && (vouch === undefined || b.seq > vouch.seq)) vouch = b;
    }
    s.lastExecuted = seq;
    s.trimExecuted();
    this.catchUp.transferred(seq);
    if (this.building && this.building.seq <= seq) this.building = undefined;
    if (s.nextSeq <= seq) s.nextSeq = seq + 1;
    // Vouch for the newest checkpoint we now hold: others may need our vote to make it stable.
    if (vouch) this.watermarks.sendCheckpoint(vouch.seq, vouch.headerHash);
    this.tryExecute();
  }
}

function countMatching(votes: Map<number, Vote>, valueHex: string): number {
  let n = 0;
  for (const v of votes.values()) if (v.valueHex === valueHex) n++;
  return n;
}
