/**
 * What goes into and comes out of the pure consensus core (`Replica.step`). Every input carries `now`
 * (epoch ms, from the driver's clock or the simulation's virtual clock): the core never reads a clock.
 */
import type { Batch } from '../core/batch.ts';
import type { CommitCertificate } from '../core/block.ts';
import type { Domain } from '../core/crypto.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { DropReason } from './errors.ts';
import type { CheckpointProof, ConsensusMessage } from './messages.ts';
import type { PersistOp } from './persist.ts';

/** Checks a domain-separated signature. Production: `verifySignature` (Ed25519); the simulation: a cheap one. */
export type SignatureVerifier = (
  publicKey: Uint8Array,
  domain: Domain,
  body: Uint8Array,
  signature: Uint8Array,
) => boolean;

export const TimerKind = {
  /** Primary: propose what is pending once maxBatchWaitMs has passed. */
  batch: 'batch',
  /** No pending tx executed for requestTimeoutMs, or one is censored: suspect the primary (pacemaker.ts). */
  request: 'request',
  /** In a view change: re-send the VIEW-CHANGE, or move to the next view if its primary failed. */
  viewChange: 'viewChange',
  /** Behind the others: transfer state if still behind when it fires; re-request a stalled transfer. */
  catchUp: 'catchUp',
  /** Re-request batch bodies that are still missing. */
  fetch: 'fetch',
  /**
   * In the normal case, a validator has asked alone for a later view for a while: join it (pacemaker.ts,
   * onLoneViewChangeTimeout), so a replica that moved ahead alone is not left out until the next view change.
   */
  loneViewChange: 'loneViewChange',
} as const;
export type TimerKind = (typeof TimerKind)[keyof typeof TimerKind];

/** A block the state-transfer layer stored, reported so the core forgets its txs and knows its hash. */
export interface TransferredBlock {
  seq: number;
  headerHash: Uint8Array;
  txHashes: readonly Uint8Array[];
}

export type Input = { now: number } & (
  | { type: 'start' }
  /**
   * A decoded message from a peer. `verified`: the transport already checked the message's own signature
   * against its sender's key at the network edge, so the core skips that one check (signatures nested in
   * VIEW-CHANGE and NEW-VIEW messages are always checked here).
   */
  | { type: 'message'; message: ConsensusMessage; verified?: boolean }
  | { type: 'timeout'; kind: TimerKind; view: number; seq?: number }
  /** A valid tx entered this replica's mempool (the driver checked it with Chain.checkTx). */
  | { type: 'txArrived'; tx: TxEnvelope }
  /** Txs left the mempool without this core committing them (expired, evicted, committed via sync). */
  | { type: 'txRemoved'; hashes: readonly Uint8Array[] }
  /** Result of a `buildBlock` output: Chain.buildBlock(batch).hash. */
  | { type: 'blockBuilt'; seq: number; digest: Uint8Array; headerHash: Uint8Array }
  /** A batch body answering a `fetchBatch` output; the core checks its digest. */
  | { type: 'batchFetched'; batch: Batch }
  /**
   * The state-transfer layer stored certified blocks up to `seq` (the new chain head, with `headerHash`).
   * `blocks` lists what it stored (all of it or only the newest blocks): used to forget committed txs.
   */
  | { type: 'stateTransferred'; seq: number; headerHash: Uint8Array; blocks: readonly TransferredBlock[] }
  /**
   * The state-transfer layer stood down with its head at `seq`: no peer could serve the next block. It writes
   * nothing more until asked again, so the core may finish that seq by consensus (catch-up.ts).
   */
  | { type: 'transferStalled'; seq: number }
  /**
   * A peer's certified progress, from its sync status: its stable checkpoint with the quorum proof, and the
   * commit certificate of its head block (either may be absent). The core checks both itself.
   */
  | { type: 'peerProgress'; checkpoint?: CheckpointProof; head?: CommitCertificate }
);

export type Output =
  /** Make `ops` durable (fsync) before executing any later output of the same step. */
  | { type: 'persist'; ops: PersistOp[] }
  | { type: 'send'; to: number; message: ConsensusMessage }
  /** To every other validator. */
  | { type: 'broadcast'; message: ConsensusMessage }
  /** Arm (or re-arm, replacing) the single timer of this kind; fire a `timeout` input after `ms`. */
  | { type: 'setTimer'; kind: TimerKind; view: number; seq?: number; ms: number }
  /** Build block `seq` = head+1 from `batch` (Chain.buildBlock) and answer with `blockBuilt`. */
  | { type: 'buildBlock'; seq: number; digest: Uint8Array; batch: Batch }
  /** Store the block built for (seq, digest) with this certificate (Chain.commitBlock). */
  | {
      type: 'commitBlock';
      seq: number;
      digest: Uint8Array;
      headerHash: Uint8Array;
      certificate: CommitCertificate;
    }
  /** Fetch certified blocks up to `targetSeq`, whose header hash must be `headerHash`; answer `stateTransferred`. */
  | { type: 'stateTransfer'; targetSeq: number; headerHash: Uint8Array }
  /** Ask peers for the body of batch `digest` (needed at `seq`); answer with `batchFetched`. */
  | { type: 'fetchBatch'; seq: number; digest: Uint8Array }
  /** An input was ignored; `reason` is for metrics, `detail` for logs. */
  | { type: 'dropped'; reason: DropReason; detail: string };

/** Local tuning knobs (not protocol: each node may choose its own). */
export interface ReplicaOptions {
  /** How long to wait, once others are provably ahead, before transferring state instead of catching up. */
  catchUpDelayMs: number;
  /** Re-request interval for missing batch bodies and stalled state transfers. */
  retryMs: number;
  /** Most txs waiting in the core's pending set. */
  maxPendingTxs: number;
  /**
   * A primary with this many of its batches proposed and not yet executed holds back a partial batch until
   * one executes (full batches go at once). Larger: more pipelining; smaller: bigger blocks under load.
   */
  maxBatchesInFlight: number;
}

export const DEFAULT_REPLICA_OPTIONS: Readonly<ReplicaOptions> = Object.freeze({
  catchUpDelayMs: 1000,
  retryMs: 1000,
  maxPendingTxs: 100_000,
  maxBatchesInFlight: 2,
});

export type ReplicaStatus = 'normal' | 'viewChange';

/** A snapshot for /status, metrics and the simulation's invariant checks. */
export interface ReplicaStatusReport {
  view: number;
  status: ReplicaStatus;
  primary: number;
  lastExecuted: number;
  stableSeq: number;
  lowWatermark: number;
  highWatermark: number;
  transferTarget: number | undefined;
  pendingTxs: number;
  /** Request timeouts that made this replica suspect the primary, by cause (pacemaker.ts), since it started. */
  suspicions: Suspicions;
}

export interface Suspicions {
  /** No pending tx executed for requestTimeoutMs. */
  stall: number;
  /** The oldest unproposed tx overtaken by txs that arrived requestTimeoutMs after it. */
  censorship: number;
}

/** Sizes of every growing structure, so tests can assert they stay bounded. */
export interface ReplicaSizes {
  logEntries: number;
  checkpointVotes: number;
  pendingTxs: number;
  inFlightTxs: number;
  buffered: number;
  viewChanges: number;
  executedHashes: number;
  guardEntries: number;
}
