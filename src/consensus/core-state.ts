/**
 * The protocol state the parts of the core share: view and mode, the message log, the double-sign guard, the
 * stable checkpoint and watermarks, what was executed, and the primitives that keep the log and its persisted
 * records in step. Rules live in the parts (normal-case.ts, watermarks.ts, view-changes.ts); this holds what
 * they agree on, and rebuilds it from the persisted records after a restart.
 */
import { type Batch, isNullBatch } from '../core/batch.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import type { Signer } from '../core/crypto.ts';
import type { ConsensusParams } from '../core/params.ts';
import type { ChainHead } from '../ledger/chain.ts';
import { primaryOf, type QuorumContext, verifyFrom } from './certificates.ts';
import { CheckpointTracker } from './checkpoint.ts';
import type { Effects } from './effects.ts';
import { DropReason, drop } from './errors.ts';
import { SignGuard } from './guard.ts';
import { Log, type LogEntry } from './log.ts';
import { type CheckpointProof, type ConsensusMessage, signedPart } from './messages.ts';
import {
  encodeEntryRecord,
  encodeExecutedRecord,
  encodeViewRecord,
  type PersistedState,
  type PersistOp,
  putBatch,
  RecordKey,
} from './persist.ts';
import type { ReplicaStatus } from './types.ts';

export interface Executed {
  hash: Uint8Array;
  /** Digest of the batch executed, when this replica executed it itself. */
  digest: Uint8Array | undefined;
}

export interface CoreInit {
  ctx: QuorumContext;
  self: number;
  params: ConsensusParams;
  signer: Signer;
  fx: Effects;
  /** Hears every tx entering or leaving the log's index of live batches (see Log). */
  onTxIndex: (hashHex: string, indexed: boolean) => void;
  /** The persisted records to restart from (empty on a first start) and the ledger's head. */
  state: PersistedState;
  head: ChainHead;
}

export class CoreState {
  readonly ctx: QuorumContext;
  readonly self: number;
  readonly params: ConsensusParams;
  readonly fx: Effects;
  private readonly signer: Signer;

  view = 0;
  mode: ReplicaStatus = 'normal';
  readonly guard: SignGuard;
  readonly checkpoints: CheckpointTracker;
  readonly log: Log;
  lastExecuted: number;
  /** Header hashes of executed blocks inside the window, plus the head's. */
  readonly executed = new Map<number, Executed>();
  /** The next seq this replica proposes as primary: above every seq used in this view. */
  nextSeq: number;
  /** Highest batch time seen, so the primary's proposed times never decrease. */
  lastBatchTime: number;
  /** The message of the current input when the transport already checked its signature. */
  edgeVerified: ConsensusMessage | undefined;

  constructor(init: CoreInit) {
    const { ctx, params, state, head } = init;
    this.ctx = ctx;
    this.self = init.self;
    this.params = params;
    this.signer = init.signer;
    this.fx = init.fx;
    this.log = new Log(init.onTxIndex);
    this.guard = new SignGuard(state.guard, state.votes);
    const genesis: CheckpointProof = { seq: ctx.baseSeq, headerHash: ctx.genesisHash, signatures: [] };
    this.checkpoints = new CheckpointTracker(state.stable ?? genesis, params.watermarkWindow);
    this.lastExecuted = head.height;
    this.lastBatchTime = head.time;
    this.nextSeq = head.height + 1;
    this.restoreFrom(state, head);
  }

  readonly sign = (domain: Parameters<Signer['sign']>[0], body: Uint8Array): Uint8Array =>
    this.signer.sign(domain, body);

  get isPrimary(): boolean {
    return this.self === primaryOf(this.ctx, this.view);
  }

  verifySig(m: ConsensusMessage): void {
    if (m === this.edgeVerified) return;
    const { domain, body } = signedPart(m);
    if (!verifyFrom(this.ctx, m.from, domain, body, m.signature)) {
      throw drop(DropReason.badSignature, `${m.type} from ${m.from}: bad signature`);
    }
  }

  /** The log entry for seq, moved to the current view. */
  entry(seq: number): LogEntry {
    const e = this.log.getOrCreate(seq, this.view);
    if (e.view < this.view) {
      this.log.moveToView(e, this.view);
      this.releaseBodies(e);
    }
    return e;
  }

  setBody(e: LogEntry, batch: Batch): void {
    this.log.setBatch(e, batch);
    e.fetching = false;
    if (!isNullBatch(batch) && batch.time > this.lastBatchTime) this.lastBatchTime = batch.time;
    const hex = e.digestHex!;
    if (!e.persistedBodies.has(hex)) {
      e.persistedBodies.add(hex);
      this.fx.persist(putBatch(e.seq, batch, e.digest!));
    }
    this.releaseBodies(e);
  }

  /** Deletes stored bodies the entry no longer holds. */
  releaseBodies(e: LogEntry): void {
    const held = e.bodies();
    for (const hex of [...e.persistedBodies]) {
      if (!held.has(hex)) {
        e.persistedBodies.delete(hex);
        this.fx.persist({ op: 'del', key: RecordKey.batch(e.seq, hex) });
      }
    }
  }

  persistEntry(e: LogEntry): void {
    const accepted =
      e.digest && e.prePrepareSignature ? { digest: e.digest, signature: e.prePrepareSignature } : undefined;
    this.fx.persist({
      op: 'put',
      key: RecordKey.entry(e.seq),
      value: encodeEntryRecord({ seq: e.seq, view: e.view, accepted, preparedCert: e.preparedCert }),
    });
  }

  viewOp(): PersistOp {
    return {
      op: 'put',
      key: RecordKey.view,
      value: encodeViewRecord({ view: this.view, status: this.mode }),
    };
  }

  /** Remembers (and persists, inside the window) the header hash of an executed block. */
  recordExecuted(seq: number, hash: Uint8Array, digest: Uint8Array | undefined): void {
    this.executed.set(seq, { hash, digest });
    if (seq > this.checkpoints.high) return;
    this.fx.persist({
      op: 'put',
      key: RecordKey.executed(seq),
      value: encodeExecutedRecord({ seq, headerHash: hash, digest }),
    });
  }

  /** Executed hashes are kept inside the window, plus the head's (at most L+1). */
  trimExecuted(): void {
    for (const k of [...this.executed.keys()]) {
      const inWindow = k > this.checkpoints.low && k <= this.checkpoints.high;
      if (!inWindow && k !== this.lastExecuted) this.executed.delete(k);
    }
  }

  /** View and mode, log entries with their bodies and prepared certificates, executed hashes. */
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
  }
}
