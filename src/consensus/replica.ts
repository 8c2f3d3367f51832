/**
 * The pure PBFT core. `step(input)` mutates only this object and returns outputs; it never reads a clock,
 * does I/O, sets timers or draws randomness, and iterates only insertion-ordered maps fed by its inputs, so
 * the same inputs always give the same outputs (the simulation depends on it). See docs/protocol.md.
 *
 * Flow for sequence number n (= block height n):
 *   PRE-PREPARE(v, n, batch) → PREPARE(v, n, digest) → prepared (PRE-PREPARE + quorum−1 PREPAREs)
 *   → once n−1 is executed: `buildBlock` → `blockBuilt` → COMMIT(v, n, headerHash)
 *   → a quorum of matching COMMITs = the commit certificate → `commitBlock`.
 * Prepares pipeline across the watermark window; commits go in order.
 */
import { type Batch, batchDigest, isNullBatch, nullBatch } from '../core/batch.ts';
import type { CommitCertificate } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { Domain, type Signer } from '../core/crypto.ts';
import { InvariantError } from '../core/errors.ts';
import { Limits } from '../core/limits.ts';
import { type ConsensusParams, validateConsensusParams } from '../core/params.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { ValidatorSet } from '../core/validators.ts';
import type { ChainHead } from '../ledger/chain.ts';
import {
  assembleCommitCertificate,
  makeQuorumContext,
  primaryOf,
  type QuorumContext,
  verifyCheckpointProof,
  verifyCommitQuorum,
  verifyFrom,
  verifyViewChange,
} from './certificates.ts';
import { type CheckpointTarget, CheckpointTracker } from './checkpoint.ts';
import { ConsensusError, ConsensusErrorCode, DropError, DropReason, drop } from './errors.ts';
import { SignGuard } from './guard.ts';
import { Log, type LogEntry, type Vote } from './log.ts';
import {
  type Checkpoint,
  type CheckpointProof,
  type Commit,
  type ConsensusMessage,
  MessageLimits,
  type NewView,
  type PrePrepare,
  type Prepare,
  type PreparedCertificate,
  prePrepareBody,
  type SignatureShare,
  signedPart,
  type ViewChange,
  withSignature,
} from './messages.ts';
import { PendingTxs } from './pending.ts';
import {
  encodeEntryRecord,
  encodeExecutedRecord,
  encodeStableRecord,
  encodeViewRecord,
  type PersistedState,
  type PersistOp,
  putBatch,
  putNewView,
  putViewChange,
  RecordKey,
} from './persist.ts';
import {
  DEFAULT_REPLICA_OPTIONS,
  type Input,
  type Output,
  type ReplicaOptions,
  type ReplicaSizes,
  type ReplicaStatus,
  type ReplicaStatusReport,
  type SignatureVerifier,
  TimerKind,
  type TransferredBlock,
} from './types.ts';
import { type NewViewPlan, planNewView, verifyNewView } from './view-change.ts';

export interface ReplicaConfig {
  chainId: string;
  validators: ValidatorSet;
  /** This replica's validator index. */
  self: number;
  params: ConsensusParams;
  /** Header hash of the genesis (the chain head at height 0). */
  genesisHash: Uint8Array;
  /**
   * Where this instance starts when it is not the genesis epoch (ADR 006): the last block of the previous
   * epoch and its header hash, this epoch's stable checkpoint without signatures. Default: (0, genesisHash).
   */
  base?: { seq: number; headerHash: Uint8Array } | undefined;
  signer: Signer;
  verify: SignatureVerifier;
  options?: Partial<ReplicaOptions>;
}

interface Executed {
  hash: Uint8Array;
  /** Digest of the batch executed, when this replica executed it itself. */
  digest: Uint8Array | undefined;
}

/** Request timeouts a lone request for a later view waits before the others join it (armLoneViewChangeTimer). */
export const LONE_VIEW_CHANGE_JOIN = 2;

const EMPTY_STATE: PersistedState = {
  view: undefined,
  guard: undefined,
  stable: undefined,
  viewChange: undefined,
  newView: undefined,
  votes: new Map(),
  entries: new Map(),
  executed: new Map(),
  batches: new Map(),
};

export class Replica {
  private readonly ctx: QuorumContext;
  private readonly self: number;
  private readonly params: ConsensusParams;
  private readonly opts: ReplicaOptions;
  private readonly signer: Signer;

  // Protocol state.
  private view = 0;
  private mode: ReplicaStatus = 'normal';
  private readonly guard: SignGuard;
  private readonly checkpoints: CheckpointTracker;
  private readonly pending = new PendingTxs();
  private readonly log = new Log((hashHex, indexed) => this.pending.setInFlight(hashHex, indexed));

  // Execution.
  private lastExecuted: number;
  private readonly executed = new Map<number, Executed>();
  private building: { seq: number; digestHex: string } | undefined;
  private transferTarget: CheckpointTarget | undefined;
  /** The highest head a peer proved with a commit certificate (peerProgress): a catch-up target. */
  private headHint: CheckpointTarget | undefined;
  /** Highest batch time seen, so the primary's proposed times never decrease. */
  private lastBatchTime: number;

  // View change.
  /** Each sender's VIEW-CHANGE for the highest view it asked for (at most n). */
  private readonly viewChanges = new Map<number, ViewChange>();
  private vcAttempts = 0;
  /** Timeout of the view change in progress: base × 2^attempts, capped. */
  private vcTimeoutMs: number;
  private vcQuorumSeen = false;
  /** The NEW-VIEW that started the current view, re-sent to replicas still asking for this view. */
  private newViewMsg: NewView | undefined;
  /** Each sender's highest view seen in a verified normal-case message above ours (at most n). */
  private readonly higherViews = new Map<number, number>();
  /** Messages for the view being entered (or the next one), verified, keyed by (type, sender, view, seq). */
  private readonly future = new Map<string, ConsensusMessage>();

  // Primary.
  private nextSeq: number;

  // The request timer (see onRequestTimeout).
  /** Start of the current progress period: pending went non-empty, a pending tx executed, or a view began. */
  private progressAt = 0;
  /** The latest arrival time (firstSeen) of any pending tx this replica has seen executed in this view. */
  private lastExecutedArrival = Number.NEGATIVE_INFINITY;
  /** The oldest free tx once it was seen overtaken by txs that arrived a request timeout after it. */
  private censorWatch: { hashHex: string; since: number } | undefined;

  // Armed timers (one per kind; arming again replaces).
  private batchTimerArmed = false;
  /**
   * The batch timer fired while `maxBatchesInFlight` of this primary's batches were still executing: the
   * partial batch goes out as soon as one of them executes (see maybePropose).
   */
  private batchDue = false;
  private requestTimerArmed = false;
  private loneViewChangeArmed = false;
  private catchUpArmed = false;
  private fetchArmed = false;

  // Per-step accumulators.
  private now = 0;
  /** The stable checkpoint moved in this step: messages kept above the old window may now be in it. */
  private windowMoved = false;
  /** The message of the current input when the transport already checked its signature. */
  private edgeVerified: ConsensusMessage | undefined;
  private out: Output[] = [];
  private ops: PersistOp[] = [];

  private constructor(config: ReplicaConfig, head: ChainHead, state: PersistedState) {
    validateConfig(config);
    const p = config.params;
    this.ctx = makeQuorumContext(
      config.chainId,
      config.validators,
      p.checkpointInterval,
      p.watermarkWindow,
      config.base?.headerHash ?? config.genesisHash,
      config.verify,
      config.base?.seq ?? 0,
    );
    this.self = config.self;
    this.params = p;
    this.opts = { ...DEFAULT_REPLICA_OPTIONS, ...config.options };
    this.signer = config.signer;
    if (head.height < this.ctx.baseSeq) {
      throw new ConsensusError(
        ConsensusErrorCode.config,
        `the head ${head.height} is below this epoch's base ${this.ctx.baseSeq}`,
      );
    }
    this.guard = new SignGuard(state.guard, state.votes);
    const genesis: CheckpointProof = {
      seq: this.ctx.baseSeq,
      headerHash: this.ctx.genesisHash,
      signatures: [],
    };
    this.checkpoints = new CheckpointTracker(state.stable ?? genesis, p.watermarkWindow);
    this.lastExecuted = head.height;
    this.lastBatchTime = head.time;
    this.nextSeq = head.height + 1;
    this.vcTimeoutMs = p.viewChangeTimeoutMs;
    this.restoreFrom(state, head);
  }

  /** A replica with no persisted consensus state (first start). */
  static create(config: ReplicaConfig, head: ChainHead): Replica {
    return new Replica(config, head, EMPTY_STATE);
  }

  /** A replica restarted from its persisted records (`readPersisted`) and the ledger's head. */
  static restore(config: ReplicaConfig, state: PersistedState, head: ChainHead): Replica {
    return new Replica(config, head, state);
  }

  // ---- public API ----------------------------------------------------------------------------------------

  step(input: Input): Output[] {
    this.now = input.now;
    this.out = [];
    this.ops = [];
    this.guarded(() => this.dispatch(input));
    if (this.windowMoved) {
      this.windowMoved = false;
      this.replayAheadOfWindow();
    }
    this.maybePropose(false);
    const outputs =
      this.ops.length > 0 ? [{ type: 'persist', ops: this.ops } as Output, ...this.out] : this.out;
    this.out = [];
    this.ops = [];
    return outputs;
  }

  status(): ReplicaStatusReport {
    return {
      view: this.view,
      status: this.mode,
      primary: primaryOf(this.ctx, this.view),
      lastExecuted: this.lastExecuted,
      stableSeq: this.checkpoints.low,
      lowWatermark: this.checkpoints.low,
      highWatermark: this.checkpoints.high,
      transferTarget: this.transferTarget?.seq,
      pendingTxs: this.pending.size,
    };
  }

  sizes(): ReplicaSizes {
    return {
      logEntries: this.log.size,
      checkpointVotes: this.checkpoints.size,
      pendingTxs: this.pending.size,
      inFlightTxs: this.log.inFlightTxs,
      buffered: this.future.size,
      viewChanges: this.viewChanges.size,
      executedHashes: this.executed.size,
      guardEntries: this.guard.size,
    };
  }

  /** Chain id (of this epoch), set, quorum and base: what this instance checks proofs against. */
  quorumContext(): QuorumContext {
    return this.ctx;
  }

  /** The txs waiting to be committed, in arrival order: handed to the next epoch's instance (ADR 006). */
  pendingTxs(): TxEnvelope[] {
    return this.pending.envelopes();
  }

  /** The body of batch `digest` if this replica holds it (to answer peers' fetches). */
  batchFor(digest: Uint8Array): Batch | undefined {
    return this.log.findBody(toHex(digest));
  }

  /** The stable checkpoint and its proof. */
  stableCheckpoint(): CheckpointProof {
    return this.checkpoints.stable;
  }

  // ---- dispatch ------------------------------------------------------------------------------------------

  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof DropError)) throw err;
      this.out.push({ type: 'dropped', reason: err.code, detail: err.message });
    }
  }

  private dispatch(input: Input): void {
    switch (input.type) {
      case 'start':
        this.onStart();
        return;
      case 'message':
        this.edgeVerified = input.verified ? input.message : undefined;
        try {
          this.onMessage(input.message);
        } finally {
          this.edgeVerified = undefined;
        }
        return;
      case 'timeout':
        this.onTimeout(input.kind, input.view);
        return;
      case 'txArrived':
        this.onTxArrived(input.tx);
        return;
      case 'txRemoved':
        for (const h of input.hashes) this.pending.remove(toHex(h));
        return;
      case 'blockBuilt':
        this.onBlockBuilt(input.seq, input.digest, input.headerHash);
        return;
      case 'batchFetched':
        this.onBatchFetched(input.batch);
        return;
      case 'stateTransferred':
        this.onStateTransferred(input.seq, input.headerHash, input.blocks);
        return;
      case 'peerProgress':
        this.onPeerProgress(input.checkpoint, input.head);
        return;
    }
  }

  private onStart(): void {
    const stable = this.checkpoints.stable;
    if (stable.seq > this.lastExecuted)
      this.requestTransfer({ seq: stable.seq, headerHash: stable.headerHash });
    if (this.mode === 'viewChange') {
      const own = this.viewChanges.get(this.self);
      if (own === undefined) throw new InvariantError('in a view change without its own VIEW-CHANGE');
      this.broadcast(own);
      this.armViewChangeTimer();
      return;
    }
    // Re-send this view's own PREPAREs (the guard shows what was signed): they may have been lost in the crash.
    for (const e of this.log.sorted()) {
      const signed = this.guard.signedAt(e.seq);
      if (e.view !== this.view || !e.digest || signed?.view !== this.view || !signed.prepare) continue;
      if (equalBytes(signed.prepare, e.digest)) this.sendPrepare(e);
    }
    for (const e of this.log.sorted()) if (e.view === this.view && e.digest && !e.batch) this.ensureFetch(e);
    this.tryExecute();
  }

  private onMessage(m: ConsensusMessage): void {
    if (m.chainId !== this.ctx.chainId) throw drop(DropReason.wrongChain, `message for chain ${m.chainId}`);
    if (m.from >= this.ctx.n) throw drop(DropReason.unknownSender, `sender ${m.from} of ${this.ctx.n}`);
    if (m.from === this.self) throw drop(DropReason.fromSelf, `${m.type} from this replica`);
    switch (m.type) {
      case 'prePrepare':
        this.onPrePrepare(m);
        return;
      case 'prepare':
        this.onPrepare(m);
        return;
      case 'commit':
        this.onCommit(m);
        return;
      case 'checkpoint':
        this.onCheckpoint(m);
        return;
      case 'viewChange':
        this.onViewChange(m);
        return;
      case 'newView':
        this.onNewView(m);
        return;
    }
  }

  private verifySig(m: ConsensusMessage): void {
    if (m === this.edgeVerified) return;
    const { domain, body } = signedPart(m);
    if (!verifyFrom(this.ctx, m.from, domain, body, m.signature)) {
      throw drop(DropReason.badSignature, `${m.type} from ${m.from}: bad signature`);
    }
  }

  /**
   * Where a normal-case message for `view` goes: 'now' for the current view, 'buffer' for the view being
   * entered (or the next one); throws for stale or far-future views.
   */
  private route(m: PrePrepare | Prepare | Commit): 'now' | 'buffer' {
    if (m.view < this.view) throw drop(DropReason.staleView, `${m.type} for view ${m.view}, at ${this.view}`);
    if (m.view === this.view && this.mode === 'normal') return 'now';
    if (m.view > this.view && this.mode === 'normal') this.noteHigherView(m);
    if (m.view <= this.view + 1) return 'buffer';
    throw drop(DropReason.futureView, `${m.type} for view ${m.view}, at ${this.view}`);
  }

  /**
   * Validly signed normal-case messages for views above ours from f+1 validators prove that at least one
   * honest replica entered a later view, so ours is over (we missed its NEW-VIEW, e.g. while cut off). Ask to
   * move on: replicas in the later view answer our VIEW-CHANGE with their NEW-VIEW.
   */
  private noteHigherView(m: PrePrepare | Prepare | Commit): void {
    if ((this.higherViews.get(m.from) ?? -1) >= m.view) return;
    this.verifySig(m);
    this.higherViews.set(m.from, m.view);
    let count = 0;
    for (const v of this.higherViews.values()) if (v > this.view) count++;
    if (count >= this.ctx.f + 1) this.startViewChange(this.view + 1);
  }

  /**
   * Refines `where` with the watermarks. A current-view message up to one checkpoint interval above the window
   * is kept ('buffer') and replayed once the window moves: its sender saw the checkpoint become stable a moment
   * before this replica did, and PBFT does not retransmit normal-case messages, so dropping it could leave the
   * seq without a quorum until a view change. Anything else outside (h, H] is dropped.
   */
  private checkWindow(seq: number, type: string, where: 'now' | 'buffer'): 'now' | 'buffer' {
    const { low, high } = this.checkpoints;
    if (seq > low && seq <= high) return where;
    if (where === 'now' && seq > high && seq <= high + this.ctx.k) return 'buffer';
    // Above the window the sender is ahead of us: the driver may look for a reason to catch up.
    throw drop(
      seq > high ? DropReason.aboveWindow : DropReason.outsideWindow,
      `${type} seq ${seq} outside (${low}, ${high}]`,
    );
  }

  /** Replays kept current-view messages that the window, having moved, now covers. */
  private replayAheadOfWindow(): void {
    if (this.mode !== 'normal') return;
    const { low, high } = this.checkpoints;
    for (const [key, m] of [...this.future]) {
      if (!('seq' in m) || !('view' in m) || m.view !== this.view || m.seq <= low || m.seq > high) continue;
      this.future.delete(key);
      this.guarded(() => this.onMessage(m));
    }
  }

  private buffer(m: PrePrepare | Prepare | Commit): void {
    const key = `${m.type}:${m.from}:${m.view}:${m.seq}`;
    if (this.future.has(key)) throw drop(DropReason.duplicate, `buffered ${m.type} again`);
    this.future.set(key, m);
  }

  // ---- normal case ---------------------------------------------------------------------------------------

  private onPrePrepare(m: PrePrepare): void {
    const where = this.route(m);
    if (m.from !== primaryOf(this.ctx, m.view)) {
      throw drop(DropReason.notPrimary, `PRE-PREPARE for view ${m.view} from ${m.from}`);
    }
    const place = this.checkWindow(m.seq, m.type, where);
    this.verifySig(m);
    if (place === 'buffer') {
      this.buffer(m);
      return;
    }
    if (m.seq <= this.lastExecuted) throw drop(DropReason.executed, `PRE-PREPARE for executed seq ${m.seq}`);
    const existing = this.log.get(m.seq);
    if (existing && existing.view === this.view && existing.digestHex !== undefined) {
      if (existing.digestHex === toHex(m.digest))
        throw drop(DropReason.duplicate, `PRE-PREPARE ${m.seq} again`);
      throw drop(DropReason.equivocation, `second PRE-PREPARE for (${m.view}, ${m.seq})`);
    }
    this.checkBatch(m);
    const e = this.entry(m.seq);
    this.acceptPrePrepare(e, m.digest, m.signature, m.batch);
  }

  private checkBatch(m: PrePrepare): void {
    const b = m.batch;
    if (b.proposer !== m.from || b.view !== m.view) {
      throw drop(DropReason.badBatch, `batch proposed by ${b.proposer} in view ${b.view}`);
    }
    if (b.txs.length === 0 || b.time === 0) throw drop(DropReason.badBatch, 'empty batch in the normal case');
    let bytes = 0;
    for (const t of b.txs) bytes += t.bytes.length;
    if (b.txs.length > this.params.maxBatchTxs || bytes > this.params.maxBatchBytes) {
      throw drop(DropReason.batchTooLarge, `batch of ${b.txs.length} txs, ${bytes} bytes`);
    }
    const seen = new Set<string>();
    for (const t of b.txs) {
      if (seen.has(t.hashHex)) throw drop(DropReason.duplicateTx, `tx ${t.hashHex.slice(0, 12)} twice`);
      seen.add(t.hashHex);
      const other = this.log.txElsewhere(t.hashHex, m.seq);
      if (other !== undefined) {
        throw drop(DropReason.txInFlight, `tx ${t.hashHex.slice(0, 12)} already at seq ${other}`);
      }
    }
    if (Math.abs(b.time - this.now) > this.params.maxClockSkewMs) {
      throw drop(DropReason.clockSkew, `batch time ${b.time}, local time ${this.now}`);
    }
  }

  /** The log entry for seq, moved to the current view. */
  private entry(seq: number): LogEntry {
    const e = this.log.getOrCreate(seq, this.view);
    if (e.view < this.view) {
      this.log.moveToView(e, this.view);
      this.releaseBodies(e);
    }
    return e;
  }

  /** Accepts a PRE-PREPARE (fresh, re-issued or our own) for the current view; backups then PREPARE. */
  private acceptPrePrepare(
    e: LogEntry,
    digest: Uint8Array,
    signature: Uint8Array,
    batch: Batch | undefined,
  ): void {
    e.digest = digest;
    e.digestHex = toHex(digest);
    e.prePrepareSignature = signature;
    if (batch) this.setBody(e, batch);
    this.persistEntry(e);
    if (this.self !== primaryOf(this.ctx, this.view)) this.sendPrepare(e);
    this.checkPrepared(e);
  }

  private setBody(e: LogEntry, batch: Batch): void {
    this.log.setBatch(e, batch);
    e.fetching = false;
    if (!isNullBatch(batch) && batch.time > this.lastBatchTime) this.lastBatchTime = batch.time;
    const hex = e.digestHex!;
    if (!e.persistedBodies.has(hex)) {
      e.persistedBodies.add(hex);
      this.ops.push(putBatch(e.seq, batch, e.digest!));
    }
    this.releaseBodies(e);
  }

  /** Deletes stored bodies the entry no longer holds. */
  private releaseBodies(e: LogEntry): void {
    const held = e.bodies();
    for (const hex of [...e.persistedBodies]) {
      if (!held.has(hex)) {
        e.persistedBodies.delete(hex);
        this.ops.push({ op: 'del', key: RecordKey.batch(e.seq, hex) });
      }
    }
  }

  private onPrepare(m: Prepare): void {
    const where = this.route(m);
    if (m.from === primaryOf(this.ctx, m.view))
      throw drop(DropReason.primaryVote, `PREPARE from the primary`);
    const place = this.checkWindow(m.seq, m.type, where);
    this.verifySig(m);
    if (place === 'buffer') {
      this.buffer(m);
      return;
    }
    const e = this.entry(m.seq);
    this.addVote(e.prepares, m.from, m.digest, m.signature, 'PREPARE', m.seq);
    this.checkPrepared(e);
  }

  private onCommit(m: Commit): void {
    const where = this.route(m);
    const place = this.checkWindow(m.seq, m.type, where);
    this.verifySig(m);
    if (place === 'buffer') {
      this.buffer(m);
      return;
    }
    const e = this.entry(m.seq);
    const hex = this.addVote(e.commits, m.from, m.headerHash, m.signature, 'COMMIT', m.seq);
    this.tryExecute();
    // A commit certificate above what we executed proves we are behind.
    if (m.seq > this.lastExecuted && this.countMatching(e.commits, hex) >= this.ctx.q) this.armCatchUp();
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
      throw drop(DropReason.equivocation, `two ${what}s for (${this.view}, ${seq}) from ${from}`);
    }
    votes.set(from, { value, valueHex, signature });
    return valueHex;
  }

  private countMatching(votes: Map<number, Vote>, valueHex: string): number {
    let n = 0;
    for (const v of votes.values()) if (v.valueHex === valueHex) n++;
    return n;
  }

  private checkPrepared(e: LogEntry): void {
    if (e.prepared || e.digestHex === undefined || e.view !== this.view) return;
    const shares: SignatureShare[] = [];
    for (const [validator, v] of e.prepares)
      if (v.valueHex === e.digestHex) shares.push({ validator, signature: v.signature });
    if (shares.length < this.ctx.q - 1) return;
    shares.sort((a, b) => a.validator - b.validator);
    e.prepared = true;
    const cert: PreparedCertificate = {
      view: e.view,
      seq: e.seq,
      digest: e.digest!,
      prePrepareSignature: e.prePrepareSignature!,
      prepares: shares.slice(0, this.ctx.q - 1),
    };
    e.preparedCert = cert;
    e.preparedBatch = undefined;
    this.releaseBodies(e);
    // Persisted before this replica's COMMIT can be sent: VIEW-CHANGEs after a restart must report it.
    this.persistEntry(e);
    if (e.seq <= this.lastExecuted) this.commitExecuted(e);
    else this.tryExecute();
  }

  /** In a new view, a seq this replica already executed is committed again with the hash it executed. */
  private commitExecuted(e: LogEntry): void {
    const ex = this.executed.get(e.seq);
    if (ex === undefined || e.commits.has(this.self)) return;
    this.sendCommit(e, ex.hash);
  }

  private sendCommit(e: LogEntry, hash: Uint8Array): void {
    this.ops.push(...this.guard.authorizeVote('commit', this.view, e.seq, hash));
    const m = withSignature<Commit>(
      {
        type: 'commit',
        chainId: this.ctx.chainId,
        from: this.self,
        view: this.view,
        seq: e.seq,
        headerHash: hash,
      },
      this.sign,
    );
    e.commits.set(this.self, { value: hash, valueHex: toHex(hash), signature: m.signature });
    this.broadcast(m);
  }

  /** Executes in order: build the next prepared block, COMMIT it, and commit it on a quorum of COMMITs. */
  private tryExecute(): void {
    while (this.mode === 'normal' && this.transferTarget === undefined && this.building === undefined) {
      const e = this.log.get(this.lastExecuted + 1);
      if (e === undefined || !e.prepared || e.view !== this.view) return;
      const hash = e.builtHashes.get(e.digestHex!);
      if (hash === undefined) {
        if (e.batch === undefined) {
          this.ensureFetch(e);
          return;
        }
        this.building = { seq: e.seq, digestHex: e.digestHex! };
        this.out.push({ type: 'buildBlock', seq: e.seq, digest: e.digest!, batch: e.batch });
        return;
      }
      if (!e.commits.has(this.self)) this.sendCommit(e, hash);
      const hashHex = toHex(hash);
      const shares: SignatureShare[] = [];
      for (const [validator, v] of e.commits)
        if (v.valueHex === hashHex) shares.push({ validator, signature: v.signature });
      if (shares.length < this.ctx.q) return;
      const certificate = assembleCommitCertificate(e.seq, this.view, hash, shares);
      this.out.push({ type: 'commitBlock', seq: e.seq, digest: e.digest!, headerHash: hash, certificate });
      this.onExecuted(e.seq, hash, e.batch!, e.digest!);
    }
  }

  private onExecuted(seq: number, hash: Uint8Array, batch: Batch, digest: Uint8Array): void {
    this.lastExecuted = seq;
    this.recordExecuted(seq, hash, digest);
    this.trimExecuted();
    this.forgetExecuted(batch.txs.map((t) => t.hashHex));
    this.vcAttempts = 0;
    if (seq % this.ctx.k === 0) this.sendCheckpoint(seq, hash);
  }

  /** Remembers (and persists, inside the window) the header hash of an executed block. */
  private recordExecuted(seq: number, hash: Uint8Array, digest: Uint8Array | undefined): void {
    this.executed.set(seq, { hash, digest });
    if (seq > this.checkpoints.high) return;
    this.ops.push({
      op: 'put',
      key: RecordKey.executed(seq),
      value: encodeExecutedRecord({ seq, headerHash: hash, digest }),
    });
  }

  /** Executed hashes are kept inside the window, plus the head's (at most L+1). */
  private trimExecuted(): void {
    for (const k of [...this.executed.keys()]) {
      const inWindow = k > this.checkpoints.low && k <= this.checkpoints.high;
      if (!inWindow && k !== this.lastExecuted) this.executed.delete(k);
    }
  }

  private onBlockBuilt(seq: number, digest: Uint8Array, headerHash: Uint8Array): void {
    const b = this.building;
    const hex = toHex(digest);
    if (b === undefined || b.seq !== seq || b.digestHex !== hex) {
      throw drop(DropReason.staleResult, `built block ${seq} was not requested`);
    }
    this.building = undefined;
    // The block for (seq, digest) depends only on the chain up to seq−1, so the hash stays valid across views.
    this.log.get(seq)?.builtHashes.set(hex, headerHash);
    this.tryExecute();
  }

  // ---- checkpoints and state transfer -------------------------------------------------------------------

  private sendCheckpoint(seq: number, hash: Uint8Array): void {
    if (seq <= this.checkpoints.low) return;
    this.ops.push(...this.guard.authorizeCheckpoint(seq, hash));
    const m = withSignature<Checkpoint>(
      { type: 'checkpoint', chainId: this.ctx.chainId, from: this.self, seq, headerHash: hash },
      this.sign,
    );
    this.broadcast(m);
    const proof = this.checkpoints.add(this.self, seq, hash, m.signature, this.ctx.q);
    if (proof) this.adoptStable(proof);
  }

  private onCheckpoint(m: Checkpoint): void {
    if (m.seq % this.ctx.k !== 0 || m.seq <= this.ctx.baseSeq) {
      throw drop(DropReason.badCheckpoint, `checkpoint at ${m.seq}, interval ${this.ctx.k}`);
    }
    if (m.seq <= this.checkpoints.low) throw drop(DropReason.staleCheckpoint, `checkpoint ${m.seq}`);
    this.verifySig(m);
    const proof = this.checkpoints.add(m.from, m.seq, m.headerHash, m.signature, this.ctx.q);
    if (proof) this.adoptStable(proof);
    const weak = this.checkpoints.target(this.lastExecuted, this.ctx.f + 1);
    if (weak === undefined) return;
    // Beyond the window this replica cannot catch up by itself; inside it, give it a moment first.
    if (weak.seq > this.checkpoints.high) this.requestTransfer(weak);
    else this.armCatchUp();
  }

  /** Makes a quorum-certified checkpoint stable: prune, move the watermarks, transfer state if behind. */
  private adoptStable(proof: CheckpointProof): void {
    if (proof.seq <= this.checkpoints.low) return;
    const mine = proof.seq <= this.lastExecuted ? this.executed.get(proof.seq) : undefined;
    if (mine && !equalBytes(mine.hash, proof.headerHash)) {
      this.out.push({
        type: 'dropped',
        reason: DropReason.conflictingCheckpoint,
        detail: `quorum checkpoint ${proof.seq} contradicts the executed block`,
      });
      return;
    }
    this.checkpoints.advance(proof);
    this.windowMoved = true;
    for (const e of this.log.pruneTo(proof.seq)) {
      this.ops.push({ op: 'del', key: RecordKey.entry(e.seq) });
      for (const hex of e.persistedBodies) this.ops.push({ op: 'del', key: RecordKey.batch(e.seq, hex) });
    }
    this.ops.push(...this.guard.prune(proof.seq));
    for (const seq of [...this.executed.keys()]) {
      if (seq <= proof.seq) this.ops.push({ op: 'del', key: RecordKey.executed(seq) });
    }
    this.trimExecuted();
    for (const [key, m] of [...this.future]) if ('seq' in m && m.seq <= proof.seq) this.future.delete(key);
    this.ops.push({ op: 'put', key: RecordKey.stable, value: encodeStableRecord(proof) });
    if (this.nextSeq <= proof.seq) this.nextSeq = proof.seq + 1;
    if (this.lastExecuted < proof.seq) this.requestTransfer({ seq: proof.seq, headerHash: proof.headerHash });
  }

  /**
   * The highest seq above what we executed that others provably reached: f+1 checkpoints, a commit quorum in
   * the log, or a peer's certified head.
   */
  private catchUpTarget(): CheckpointTarget | undefined {
    let best = this.checkpoints.target(this.lastExecuted, this.ctx.f + 1);
    const hint = this.headHint;
    if (hint && hint.seq > this.lastExecuted && (best === undefined || hint.seq > best.seq)) best = hint;
    for (const e of this.log.sorted()) {
      if (e.seq <= this.lastExecuted || (best && e.seq <= best.seq)) continue;
      const counts = new Map<string, number>();
      for (const v of e.commits.values()) {
        const c = (counts.get(v.valueHex) ?? 0) + 1;
        counts.set(v.valueHex, c);
        if (c >= this.ctx.q) best = { seq: e.seq, headerHash: v.value };
      }
    }
    return best;
  }

  private requestTransfer(target: CheckpointTarget): void {
    if (this.transferTarget && this.transferTarget.seq >= target.seq) return;
    this.transferTarget = target;
    this.out.push({ type: 'stateTransfer', targetSeq: target.seq, headerHash: target.headerHash });
    this.catchUpArmed = false;
    this.armCatchUp(this.opts.retryMs);
  }

  private onStateTransferred(seq: number, headerHash: Uint8Array, blocks: readonly TransferredBlock[]): void {
    if (seq <= this.lastExecuted) {
      throw drop(DropReason.staleResult, `state transferred to ${seq}, executed ${this.lastExecuted}`);
    }
    const target = this.transferTarget;
    const stored = blocks.filter((b) => b.seq <= seq);
    if (!stored.some((b) => b.seq === seq)) stored.push({ seq, headerHash, txHashes: [] });
    let vouch: TransferredBlock | undefined;
    for (const b of stored) {
      this.forgetExecuted(b.txHashes.map((h) => toHex(h)));
      if (target && b.seq === target.seq && !equalBytes(b.headerHash, target.headerHash)) {
        throw new InvariantError('state transfer stored a block that contradicts the certified target', {
          seq: b.seq,
        });
      }
      if (b.seq > this.checkpoints.low && (b.seq <= this.checkpoints.high || b.seq === seq)) {
        this.recordExecuted(b.seq, b.headerHash, undefined);
      }
      if (b.seq % this.ctx.k === 0 && (vouch === undefined || b.seq > vouch.seq)) vouch = b;
    }
    this.lastExecuted = seq;
    this.trimExecuted();
    if (target && seq >= target.seq) this.transferTarget = undefined;
    if (this.building && this.building.seq <= seq) this.building = undefined;
    if (this.nextSeq <= seq) this.nextSeq = seq + 1;
    // Vouch for the newest checkpoint we now hold: others may need our vote to make it stable.
    if (vouch) this.sendCheckpoint(vouch.seq, vouch.headerHash);
    this.tryExecute();
  }

  /**
   * A peer's certified progress. Its stable checkpoint is adopted like any quorum proof; its head's commit
   * certificate is a catch-up target like a commit quorum in the log (at once beyond the window or when a
   * transfer is outstanding, else after catchUpDelayMs if still behind). This is how a replica learns it is behind while the chain is quiet:
   * with no new blocks, no CHECKPOINT or COMMIT would ever reach it.
   */
  private onPeerProgress(checkpoint: CheckpointProof | undefined, head: CommitCertificate | undefined): void {
    let used = false;
    if (checkpoint !== undefined && checkpoint.seq > this.checkpoints.low) {
      verifyCheckpointProof(this.ctx, checkpoint, DropReason.badCheckpoint);
      this.adoptStable(checkpoint);
      used = true;
    }
    const known = Math.max(this.lastExecuted, this.headHint?.seq ?? 0);
    if (head !== undefined && head.height > known) {
      verifyCommitQuorum(this.ctx, head, DropReason.badCertificate);
      this.headHint = { seq: head.height, headerHash: head.headerHash };
      // Already transferring (e.g. up to the checkpoint just adopted): extend the transfer rather than wait.
      if (head.height > this.checkpoints.high || this.transferTarget !== undefined)
        this.requestTransfer(this.headHint);
      else this.armCatchUp();
      used = true;
    }
    // A commit certificate of a later view proves a quorum ran that view. A replica still in an earlier one
    // missed the view change (it was restarting, or switching epochs, and the chain has been quiet since, so no
    // later-view message reaches it): it asks for that view, and the others answer with its NEW-VIEW.
    if (head !== undefined && head.view > this.view) {
      if (!used) verifyCommitQuorum(this.ctx, head, DropReason.badCertificate);
      this.startViewChange(head.view);
      used = true;
    }
    if (!used) throw drop(DropReason.staleResult, 'peer progress at or below what this replica knows');
  }

  private armCatchUp(ms = this.opts.catchUpDelayMs): void {
    if (this.catchUpArmed) return;
    this.catchUpArmed = true;
    this.setTimer(TimerKind.catchUp, ms);
  }

  private onCatchUpTimeout(): void {
    this.catchUpArmed = false;
    if (this.transferTarget) {
      // A transfer that has not completed: ask again (the transfer layer may have lost its peers).
      this.out.push({
        type: 'stateTransfer',
        targetSeq: this.transferTarget.seq,
        headerHash: this.transferTarget.headerHash,
      });
      this.armCatchUp(this.opts.retryMs);
      return;
    }
    const target = this.catchUpTarget();
    if (target) this.requestTransfer(target);
  }

  // ---- batch bodies --------------------------------------------------------------------------------------

  private ensureFetch(e: LogEntry): void {
    if (e.fetching || e.batch || e.digest === undefined || e.seq <= this.lastExecuted) return;
    e.fetching = true;
    this.out.push({ type: 'fetchBatch', seq: e.seq, digest: e.digest });
    if (!this.fetchArmed) {
      this.fetchArmed = true;
      this.setTimer(TimerKind.fetch, this.opts.retryMs);
    }
  }

  private onFetchTimeout(): void {
    this.fetchArmed = false;
    for (const e of this.log.sorted()) {
      if (e.fetching && !e.batch) {
        e.fetching = false;
        this.ensureFetch(e);
      }
    }
  }

  private onBatchFetched(batch: Batch): void {
    const digest = batchDigest(batch);
    const hex = toHex(digest);
    let used = false;
    for (const e of this.log.sorted()) {
      if (e.digestHex === hex && e.batch === undefined) {
        this.setBody(e, batch);
        used = true;
      }
    }
    if (!used) throw drop(DropReason.staleResult, `fetched batch ${hex.slice(0, 12)} is not needed`);
    this.tryExecute();
  }

  // ---- requests and the primary --------------------------------------------------------------------------

  private onTxArrived(tx: TxEnvelope): void {
    if (this.pending.has(tx.hashHex)) throw drop(DropReason.txKnown, `tx ${tx.hashHex.slice(0, 12)} pending`);
    const at = this.log.txSeq(tx.hashHex);
    if (at !== undefined && at <= this.lastExecuted) {
      throw drop(DropReason.txKnown, `tx ${tx.hashHex.slice(0, 12)} executed at ${at}`);
    }
    if (this.pending.size >= this.opts.maxPendingTxs) throw drop(DropReason.mempoolFull, 'pending set full');
    // The first request waited for starts a progress period (Castro & Liskov: the timer starts with it).
    if (this.pending.size === 0) this.progressAt = this.now;
    this.pending.add(tx, this.now, at !== undefined);
    this.armRequestTimer();
  }

  /**
   * Txs committed (by this replica or a state transfer) leave the pending set. Executing any tx this replica
   * was waiting for is progress: the request timer restarts, so a primary that keeps committing a backlog is
   * not suspected however long the backlog is.
   */
  private forgetExecuted(hashHexes: readonly string[]): void {
    let progressed = false;
    for (const hex of hashHexes) {
      const firstSeen = this.pending.remove(hex);
      if (firstSeen === undefined) continue;
      progressed = true;
      if (firstSeen > this.lastExecutedArrival) this.lastExecutedArrival = firstSeen;
    }
    if (progressed) this.progressAt = this.now;
  }

  private armRequestTimer(at?: number): void {
    if (this.requestTimerArmed || this.mode !== 'normal' || this.pending.size === 0) return;
    this.requestTimerArmed = true;
    const deadline = at ?? this.progressAt + this.params.requestTimeoutMs;
    this.setTimer(TimerKind.request, Math.max(1, deadline - this.now));
  }

  /**
   * When this replica suspects the primary: no pending tx executed for requestTimeoutMs (a stalled primary),
   * or the oldest tx the primary has not proposed has been overtaken, for requestTimeoutMs, by executed txs
   * that arrived here at least requestTimeoutMs after it (a censoring primary: a fair one proposes in arrival
   * order, so only relay delays above the timeout could explain it). Checked when the timer fires, so the timer
   * fires at most once per requestTimeoutMs while blocks commit.
   */
  private requestDeadline(): number {
    const t = this.params.requestTimeoutMs;
    let deadline = this.progressAt + t;
    const oldest = this.pending.oldestFree();
    if (oldest === undefined || this.lastExecutedArrival < oldest.firstSeen + t) {
      this.censorWatch = undefined;
    } else {
      if (this.censorWatch?.hashHex !== oldest.hashHex)
        this.censorWatch = { hashHex: oldest.hashHex, since: this.now };
      deadline = Math.min(deadline, this.censorWatch.since + t);
    }
    return deadline;
  }

  private onRequestTimeout(): void {
    this.requestTimerArmed = false;
    if (this.pending.size === 0) return;
    const deadline = this.requestDeadline();
    if (this.now < deadline) {
      this.armRequestTimer(deadline);
      return;
    }
    // Behind the others is not the primary's fault: catch up first, suspect it only if that does not help.
    // The primary applies the same rule to itself: if its own batches do not commit, nobody follows it (it may
    // have been deposed while cut off), and its VIEW-CHANGE gets it the NEW-VIEW of the view the others are in.
    const target = this.transferTarget ?? this.catchUpTarget();
    if (target) {
      this.requestTransfer(target);
      this.requestTimerArmed = true;
      this.setTimer(TimerKind.request, this.params.requestTimeoutMs);
      return;
    }
    this.startViewChange(this.view + 1);
  }

  /**
   * The primary proposes full batches at once, and a partial one when the batch timer fires (`force`) — unless
   * `maxBatchesInFlight` of its batches are proposed and not yet executed: the partial batch then waits for one
   * of them to execute (`batchDue`), and meanwhile takes in the txs that keep arriving. Under load, batches so
   * grow with the time a block takes, and the per-block cost (votes, signatures, fsyncs, the commit write) is
   * shared by more txs; with little load a tx still waits at most maxBatchWaitMs for its batch.
   */
  private maybePropose(force: boolean): void {
    if (this.mode !== 'normal' || this.self !== primaryOf(this.ctx, this.view)) return;
    // A primary that is catching up does not know which txs the others already committed.
    if (this.transferTarget !== undefined) return;
    const p = this.params;
    if (this.pending.freeCount === 0) this.batchDue = false;
    while (this.nextSeq <= this.checkpoints.high && this.pending.freeCount > 0) {
      const full = this.pending.freeCount >= p.maxBatchTxs || this.pending.freeBytes >= p.maxBatchBytes;
      if (!full && !force && !this.batchDue) {
        if (!this.batchTimerArmed) {
          this.batchTimerArmed = true;
          this.setTimer(TimerKind.batch, p.maxBatchWaitMs);
        }
        return;
      }
      if (!full && this.nextSeq - 1 - this.lastExecuted >= this.opts.maxBatchesInFlight) {
        this.batchDue = true;
        return;
      }
      // Until every live entry has its body, the primary cannot tell which txs are already in flight.
      if (this.missingBodies()) return;
      this.propose(this.nextSeq, this.pending.takeBatch(p.maxBatchTxs, p.maxBatchBytes));
      this.nextSeq++;
      force = false;
      this.batchDue = false;
    }
  }

  private missingBodies(): boolean {
    for (const e of this.log.values()) {
      if (e.view === this.view && e.digest && !e.batch && e.seq > this.lastExecuted) return true;
    }
    return false;
  }

  private propose(seq: number, txs: Batch['txs']): void {
    const time = Math.max(this.now, this.lastBatchTime);
    const batch: Batch = { proposer: this.self, view: this.view, time, txs };
    const digest = batchDigest(batch);
    this.ops.push(...this.guard.authorizeVote('prePrepare', this.view, seq, digest));
    const m = withSignature<PrePrepare>(
      { type: 'prePrepare', chainId: this.ctx.chainId, from: this.self, view: this.view, seq, batch, digest },
      this.sign,
    );
    this.broadcast(m);
    this.acceptPrePrepare(this.entry(seq), digest, m.signature, batch);
  }

  // ---- view change ---------------------------------------------------------------------------------------

  private armViewChangeTimer(): void {
    this.setTimer(TimerKind.viewChange, this.vcTimeoutMs);
  }

  private startViewChange(newView: number): void {
    if (newView <= this.view)
      throw new InvariantError('view change must move forward', { newView, view: this.view });
    this.ops.push(...this.guard.authorizeViewChange(newView));
    this.view = newView;
    this.mode = 'viewChange';
    this.vcQuorumSeen = false;
    this.newViewMsg = undefined;
    this.batchTimerArmed = false;
    this.batchDue = false;
    this.requestTimerArmed = false;
    this.loneViewChangeArmed = false;
    const prepared = this.log
      .sorted()
      .filter((e) => e.preparedCert && e.seq > this.checkpoints.low)
      .map((e) => e.preparedCert!);
    const vc = withSignature<ViewChange>(
      {
        type: 'viewChange',
        chainId: this.ctx.chainId,
        from: this.self,
        newView,
        checkpoint: this.checkpoints.stable,
        prepared,
      },
      this.sign,
    );
    this.viewChanges.set(this.self, vc);
    this.ops.push(putViewChange(vc), this.viewOp());
    for (const [key, m] of [...this.future]) if ('view' in m && m.view < newView) this.future.delete(key);
    this.broadcast(vc);
    // Exponential backoff with a cap; reset once a block executes in a view.
    const p = this.params;
    this.vcTimeoutMs = Math.min(
      p.viewChangeTimeoutMs * 2 ** Math.min(this.vcAttempts, 30),
      p.viewChangeTimeoutMaxMs,
    );
    this.vcAttempts++;
    this.armViewChangeTimer();
    this.afterViewChangeVote(newView);
  }

  private onViewChange(m: ViewChange): void {
    if (this.mode === 'normal' && m.newView <= this.view) {
      // The sender is still trying to reach a view at or below ours: it missed the NEW-VIEW of our view.
      this.verifySig(m);
      this.helpLaggard(m.from);
      return;
    }
    if (m.newView < this.view)
      throw drop(DropReason.staleView, `VIEW-CHANGE to ${m.newView}, at ${this.view}`);
    const prev = this.viewChanges.get(m.from);
    if (prev && prev.newView > m.newView)
      throw drop(DropReason.staleView, `older VIEW-CHANGE from ${m.from}`);
    const again = prev !== undefined && prev.newView === m.newView && equalBytes(prev.signature, m.signature);
    if (again) throw drop(DropReason.duplicate, `VIEW-CHANGE from ${m.from} again`);
    verifyViewChange(this.ctx, m);
    if (prev && prev.newView === m.newView) {
      throw drop(DropReason.equivocation, `two VIEW-CHANGEs to ${m.newView} from ${m.from}`);
    }
    this.viewChanges.set(m.from, m);
    // Join a higher view once f+1 replicas ask for one: at least one of them is honest.
    const higher = [...this.viewChanges.values()].filter((vc) => vc.newView > this.view);
    if (higher.length >= this.ctx.f + 1) {
      this.startViewChange(Math.min(...higher.map((vc) => vc.newView)));
      return;
    }
    if (this.mode === 'viewChange') this.afterViewChangeVote(m.newView);
    else this.armLoneViewChangeTimer();
  }

  private helpLaggard(to: number): void {
    if (this.newViewMsg === undefined || to === this.newViewMsg.from)
      throw drop(DropReason.staleView, `VIEW-CHANGE to a view at or below ours (${this.view})`);
    this.out.push({ type: 'send', to, message: this.newViewMsg });
  }

  /** After a VIEW-CHANGE for `view` is recorded: note a quorum (restarting the timer), act if primary. */
  private afterViewChangeVote(view: number): void {
    if (this.mode !== 'viewChange' || view !== this.view) return;
    const count = [...this.viewChanges.values()].filter((vc) => vc.newView === this.view).length;
    if (count < this.ctx.q) return;
    if (!this.vcQuorumSeen) {
      this.vcQuorumSeen = true;
      this.armViewChangeTimer();
    }
    if (this.self === primaryOf(this.ctx, this.view)) this.sendNewView();
  }

  private onViewChangeTimeout(): void {
    if (this.vcQuorumSeen) {
      this.startViewChange(this.view + 1);
      return;
    }
    // No quorum yet: our VIEW-CHANGE may have been lost. Re-send it rather than racing ahead alone.
    const own = this.viewChanges.get(this.self);
    if (own && own.newView === this.view) this.broadcast(own);
    this.armViewChangeTimer();
  }

  private sendNewView(): void {
    const vcs = [...this.viewChanges.values()]
      .filter((vc) => vc.newView === this.view)
      .sort((a, b) => a.from - b.from)
      .slice(0, this.ctx.q);
    const plan = planNewView(this.ctx, this.view, vcs);
    this.ops.push(...this.guard.authorizeNewView(this.view));
    const prePrepares = plan.entries.map((p) => {
      this.ops.push(...this.guard.authorizeVote('prePrepare', this.view, p.seq, p.digest));
      const signature = this.signer.sign(
        Domain.prePrepare,
        prePrepareBody(this.ctx.chainId, this.view, p.seq, p.digest),
      );
      return { seq: p.seq, digest: p.digest, signature };
    });
    const nv = withSignature<NewView>(
      {
        type: 'newView',
        chainId: this.ctx.chainId,
        from: this.self,
        view: this.view,
        viewChanges: vcs,
        prePrepares,
      },
      this.sign,
    );
    this.broadcast(nv);
    this.enterNewView(nv, plan);
  }

  private onNewView(m: NewView): void {
    if (m.view < this.view || (m.view === this.view && this.mode === 'normal')) {
      throw drop(DropReason.staleView, `NEW-VIEW for ${m.view}, at ${this.view} (${this.mode})`);
    }
    this.enterNewView(m, verifyNewView(this.ctx, m));
  }

  /** Enters `nv.view`: adopt its checkpoint, accept its re-issued PRE-PREPAREs, replay buffered messages. */
  private enterNewView(nv: NewView, plan: NewViewPlan): void {
    this.view = nv.view;
    this.mode = 'normal';
    this.newViewMsg = nv;
    this.vcQuorumSeen = false;
    this.batchTimerArmed = false;
    this.batchDue = false;
    this.requestTimerArmed = false;
    // Persisted so that after a restart it can still be sent to replicas that missed it.
    this.ops.push(this.viewOp(), putNewView(nv), { op: 'del', key: RecordKey.viewChange });
    for (const [from, vc] of [...this.viewChanges])
      if (vc.newView <= this.view) this.viewChanges.delete(from);
    if (plan.checkpoint.seq > this.checkpoints.low) this.adoptStable(plan.checkpoint);
    // Collect bodies before entries move views (a body of a batch that was not prepared is released).
    const bodies = new Map<string, Batch>();
    for (const e of this.log.sorted()) for (const [hex, b] of e.bodies()) bodies.set(hex, b);
    for (const e of this.log.sorted()) {
      this.log.moveToView(e, this.view);
      this.releaseBodies(e);
    }
    const primary = primaryOf(this.ctx, this.view);
    for (let i = 0; i < plan.entries.length; i++) {
      const p = plan.entries[i]!;
      if (p.seq <= this.checkpoints.low) continue;
      if (p.seq > this.checkpoints.high) break;
      const ex = this.executed.get(p.seq);
      const hex = toHex(p.digest);
      if (ex?.digest !== undefined && !equalBytes(ex.digest, p.digest)) {
        this.out.push({
          type: 'dropped',
          reason: DropReason.conflictsCommitted,
          detail: `NEW-VIEW re-issues seq ${p.seq} with a batch other than the one executed`,
        });
        continue;
      }
      const body = p.isNull ? nullBatch(primary, this.view) : bodies.get(hex);
      const e = this.entry(p.seq);
      this.acceptPrePrepare(e, p.digest, nv.prePrepares[i]!.signature, body);
      if (!e.batch) this.ensureFetch(e);
    }
    const last = plan.entries.length > 0 ? plan.entries[plan.entries.length - 1]!.seq : plan.checkpoint.seq;
    this.nextSeq = Math.max(last, this.checkpoints.low, this.lastExecuted) + 1;
    this.pending.restartClocks(this.now);
    this.progressAt = this.now;
    this.lastExecutedArrival = Number.NEGATIVE_INFINITY;
    this.censorWatch = undefined;
    // Checkpoint votes may have been lost with the old view; without them the window can stay full for good.
    this.resendLatestCheckpoint();
    for (const [key, m] of [...this.future]) {
      if (!('view' in m) || m.view > this.view) continue;
      this.future.delete(key);
      if (m.view === this.view) this.guarded(() => this.onMessage(m));
    }
    this.tryExecute();
    this.armRequestTimer();
    this.loneViewChangeArmed = false;
    this.armLoneViewChangeTimer();
  }

  /**
   * In the normal case, while fewer than f+1 validators ask for a later view: after LONE_VIEW_CHANGE_JOIN
   * request timeouts, join the next view. A replica whose NEW-VIEW was lost (say, to a one-way link failure)
   * moves on to the next view alone and, since PBFT never lets it go back, would otherwise sit out until the
   * next view change, leaving the others without any fault tolerance. A view change is always safe; the cost
   * is liveness only: f Byzantine validators can force one view change per this period, not more.
   */
  private armLoneViewChangeTimer(): void {
    if (this.mode !== 'normal' || this.loneViewChangeArmed || !this.someoneAsksForLaterView()) return;
    this.loneViewChangeArmed = true;
    this.setTimer(TimerKind.loneViewChange, LONE_VIEW_CHANGE_JOIN * this.params.requestTimeoutMs);
  }

  private someoneAsksForLaterView(): boolean {
    for (const vc of this.viewChanges.values()) if (vc.newView > this.view) return true;
    return false;
  }

  private onLoneViewChangeTimeout(): void {
    this.loneViewChangeArmed = false;
    if (this.mode !== 'normal')
      throw drop(DropReason.staleTimer, 'lone view-change timer during a view change');
    if (!this.someoneAsksForLaterView())
      throw drop(DropReason.staleTimer, 'no validator asks for a later view any more');
    // One view at a time: a Byzantine validator asking for a far view cannot make the others skip ahead.
    this.startViewChange(this.view + 1);
  }

  private resendLatestCheckpoint(): void {
    const top = this.lastExecuted - (this.lastExecuted % this.ctx.k);
    if (top <= this.checkpoints.low) return;
    const hash = this.guard.signedAt(top)?.checkpoint;
    if (hash === undefined) return;
    this.broadcast(
      withSignature<Checkpoint>(
        { type: 'checkpoint', chainId: this.ctx.chainId, from: this.self, seq: top, headerHash: hash },
        this.sign,
      ),
    );
  }

  // ---- timers --------------------------------------------------------------------------------------------

  private onTimeout(kind: TimerKind, view: number): void {
    switch (kind) {
      case TimerKind.catchUp:
        this.onCatchUpTimeout();
        return;
      case TimerKind.fetch:
        this.onFetchTimeout();
        return;
    }
    if (view !== this.view)
      throw drop(DropReason.staleTimer, `${kind} timer for view ${view}, at ${this.view}`);
    switch (kind) {
      case TimerKind.batch:
        if (this.mode !== 'normal') throw drop(DropReason.staleTimer, 'batch timer during a view change');
        this.batchTimerArmed = false;
        this.maybePropose(true);
        return;
      case TimerKind.request:
        if (this.mode !== 'normal') throw drop(DropReason.staleTimer, 'request timer during a view change');
        this.onRequestTimeout();
        return;
      case TimerKind.viewChange:
        if (this.mode !== 'viewChange')
          throw drop(DropReason.staleTimer, 'view-change timer in the normal case');
        this.onViewChangeTimeout();
        return;
      case TimerKind.loneViewChange:
        this.onLoneViewChangeTimeout();
        return;
    }
  }

  private setTimer(kind: TimerKind, ms: number): void {
    this.out.push({ type: 'setTimer', kind, view: this.view, ms });
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  private readonly sign = (domain: Parameters<Signer['sign']>[0], body: Uint8Array): Uint8Array =>
    this.signer.sign(domain, body);

  private sendPrepare(e: LogEntry): void {
    const digest = e.digest!;
    this.ops.push(...this.guard.authorizeVote('prepare', this.view, e.seq, digest));
    const m = withSignature<Prepare>(
      { type: 'prepare', chainId: this.ctx.chainId, from: this.self, view: this.view, seq: e.seq, digest },
      this.sign,
    );
    e.prepares.set(this.self, { value: digest, valueHex: e.digestHex!, signature: m.signature });
    this.broadcast(m);
  }

  private broadcast(message: ConsensusMessage): void {
    this.out.push({ type: 'broadcast', message });
  }

  private viewOp(): PersistOp {
    return {
      op: 'put',
      key: RecordKey.view,
      value: encodeViewRecord({ view: this.view, status: this.mode }),
    };
  }

  private persistEntry(e: LogEntry): void {
    const accepted =
      e.digest && e.prePrepareSignature ? { digest: e.digest, signature: e.prePrepareSignature } : undefined;
    this.ops.push({
      op: 'put',
      key: RecordKey.entry(e.seq),
      value: encodeEntryRecord({ seq: e.seq, view: e.view, accepted, preparedCert: e.preparedCert }),
    });
  }

  private restoreFrom(state: PersistedState, head: ChainHead): void {
    if (state.view) {
      this.view = state.view.view;
      this.mode = state.view.status;
    }
    const low = this.checkpoints.low;
    for (const rec of state.entries.values()) {
      if (rec.seq <= low || rec.seq > this.checkpoints.high) continue;
      const e = this.log.getOrCreate(rec.seq, rec.view);
      const bodies = state.batches.get(rec.seq) ?? new Map<string, Batch>();
      for (const hex of bodies.keys()) e.persistedBodies.add(hex);
      e.preparedCert = rec.preparedCert;
      if (rec.accepted) {
        e.digest = rec.accepted.digest;
        e.digestHex = toHex(rec.accepted.digest);
        e.prePrepareSignature = rec.accepted.signature;
        const body = bodies.get(e.digestHex);
        if (body) this.log.setBatch(e, body);
        if (body && !isNullBatch(body) && body.time > this.lastBatchTime) this.lastBatchTime = body.time;
        e.prepared =
          rec.preparedCert !== undefined &&
          rec.preparedCert.view === rec.view &&
          equalBytes(rec.preparedCert.digest, rec.accepted.digest);
      }
      if (rec.preparedCert && e.digestHex !== toHex(rec.preparedCert.digest)) {
        e.preparedBatch = bodies.get(toHex(rec.preparedCert.digest));
      }
      if (e.view < this.view) this.log.moveToView(e, this.view);
      if (e.view === this.view && e.digest && e.seq > this.nextSeq - 1) this.nextSeq = e.seq + 1;
    }
    for (const x of state.executed.values()) {
      if (x.seq > low && x.seq < head.height)
        this.executed.set(x.seq, { hash: x.headerHash, digest: x.digest });
    }
    if (head.height > low) {
      const x = state.executed.get(head.height);
      const digest = x && equalBytes(x.headerHash, head.hash) ? x.digest : undefined;
      this.executed.set(head.height, { hash: head.hash, digest });
    }
    if (this.mode === 'viewChange') {
      if (state.viewChange === undefined || state.viewChange.newView !== this.view) {
        throw new ConsensusError(
          ConsensusErrorCode.corruptState,
          'view change in progress without its VIEW-CHANGE',
        );
      }
      this.viewChanges.set(this.self, state.viewChange);
    } else if (state.newView?.view === this.view) {
      this.newViewMsg = state.newView;
    }
  }
}

function validateConfig(c: ReplicaConfig): void {
  const fail = (msg: string) => new ConsensusError(ConsensusErrorCode.config, msg);
  validateConsensusParams(c.params);
  const n = c.validators.validators.length;
  if (!Number.isInteger(c.self) || c.self < 0 || c.self >= n)
    throw fail(`self ${c.self} is not a validator index`);
  if (!equalBytes(c.validators.validators[c.self]!.publicKey, c.signer.publicKey)) {
    throw fail('the signer key is not the key of validator self');
  }
  if (c.params.watermarkWindow > MessageLimits.preparedCertificates) {
    throw fail(`watermarkWindow above ${MessageLimits.preparedCertificates}`);
  }
  if (c.params.maxBatchBytes < Limits.txBytes)
    throw fail(`maxBatchBytes below one maximal tx (${Limits.txBytes})`);
  const inFlight = c.options?.maxBatchesInFlight;
  if (inFlight !== undefined && !(Number.isSafeInteger(inFlight) && inFlight >= 1))
    throw fail('options.maxBatchesInFlight must be a positive integer');
}
