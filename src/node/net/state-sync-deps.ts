/**
 * What the state sync client (state-sync.ts) is given: its limits, and the node's parts it works with; and the
 * shapes of its own bookkeeping (targets, ranges in flight, rates). Kept apart so that state-sync.ts holds the
 * behaviour.
 */
import type { QuorumContext } from '../../consensus/certificates.ts';
import type { CheckpointProof } from '../../consensus/messages.ts';
import type { TransferredBlock } from '../../consensus/types.ts';
import type { CommitCertificate } from '../../core/block.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import type { BuiltBlock, Chain } from '../../ledger/chain.ts';
import type { Logger, P2PHost } from '../../p2p/index.ts';
import type { SyncErrorCode } from './errors.ts';
import type { RawSyncBlock } from './sync-messages.ts';
import type { ValidatorPeers } from './validator-peers.ts';

export interface StateSyncLimits {
  /** Blocks asked for per request (at most SYNC_MAX_BLOCKS); responses may hold fewer. */
  readonly blocksPerRequest: number;
  /** How often connected validators are asked for their status. */
  readonly statusIntervalMs: number;
  readonly requestTimeoutMs: number;
  /** How long a peer that served bad data is not asked again. */
  readonly faultyPeerCooldownMs: number;
  /** Wait before trying again when no peer could serve the next blocks. */
  readonly retryMs: number;
}

export const DEFAULT_STATE_SYNC_LIMITS: StateSyncLimits = Object.freeze({
  blocksPerRequest: 256,
  statusIntervalMs: 2_000,
  requestTimeoutMs: 10_000,
  faultyPeerCooldownMs: 60_000,
  retryMs: 500,
});

export interface SyncProgress {
  state: 'idle' | 'syncing';
  targetHeight?: number;
  /** Blocks and txs stored per second, over the current sync (or the last one while idle). */
  blocksPerSec?: number;
  txsPerSec?: number;
  lastError?: string;
}

/** The consensus driver as state sync sees it. */
export interface SyncConsensus {
  transferred(seq: number, headerHash: Uint8Array, blocks: readonly TransferredBlock[]): void;
  peerProgress(checkpoint: CheckpointProof | undefined, head: CommitCertificate | undefined): void;
  /**
   * A transfer the core asked for stood down at ledger height `head`: no peer could serve the next block. The
   * core may finish that height by consensus; resolves once it has taken this in.
   */
  stalled(head: number): Promise<void>;
  /** The core's stable checkpoint seq. */
  stableSeq(): number;
  /** The core's view (infinite when this node runs no consensus instance). */
  view(): number;
}

export interface StateSyncDeps {
  readonly host: P2PHost;
  readonly peers: ValidatorPeers;
  readonly chain: Pick<Chain, 'head' | 'buildBlock' | 'commitBlock'>;
  /** The genesis epoch's context: the chain id and signature scheme all epochs share. */
  readonly quorum: QuorumContext;
  /**
   * Validator-set epochs (ADR 006; a fixed set is epoch 0 that never ends). Each block is checked against the
   * set in force at its height, status proofs against the running instance's quorum context (none outside the
   * set), and a peer whose head this node cannot check (it is in a later epoch) is followed by a transfer
   * checked block by block.
   */
  readonly epochs: {
    setAt(height: number): ValidatorSet;
    /** The running consensus instance's context; undefined while this node is not in the set. */
    quorum(): QuorumContext | undefined;
    /**
     * Stops the running instance before this layer writes blocks it was not asked for (the core commits
     * nothing meanwhile); resolved once it is stopped. The next epoch's instance starts at the boundary.
     */
    suspend(): Promise<void>;
  };
  readonly consensus: SyncConsensus;
  /** A block sync stored (the ledger has it). */
  readonly onStored: (block: BuiltBlock) => void;
  /** A peer's data was refused, by code. */
  readonly onFault: (code: SyncErrorCode) => void;
  /** An error that is nobody's fault but ours (the ledger failed): sync stops. */
  readonly onFatal: (err: unknown) => void;
  readonly now: () => number;
  /**
   * Arms a one-shot timer for the wait between retries and returns its cancel (default: setTimeout). The
   * deterministic simulation passes its virtual clock's, so a seed replays the same waits.
   */
  readonly setTimer?: (ms: number, fire: () => void) => () => void;
  readonly logger: Logger;
}

/** The current transfer's progress, for its rate. */
export interface RunStats {
  readonly startedAt: number;
  blocks: number;
  txs: number;
}

export function rateOf(run: RunStats, now: number): { blocksPerSec: number; txsPerSec: number } {
  const seconds = Math.max(now - run.startedAt, 1) / 1000;
  return { blocksPerSec: run.blocks / seconds, txsPerSec: run.txs / seconds };
}

/** The client's timer when its deps give none. */
export function realTimer(ms: number, fire: () => void): () => void {
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
}

export interface Target {
  readonly seq: number;
  /** Undefined for a peer's head that this node could not check (another epoch): no final hash check. */
  readonly headerHash: Uint8Array | undefined;
  /** Asked for by the core (which then waits for it), not followed by this client on its own. */
  readonly byCore: boolean;
}

/**
 * A blocks request in flight, then the vouching for its signatures (it never rejects: #fetch and #vouched turn
 * failures into undefined and false).
 */
export interface Fetching {
  readonly peer: string;
  readonly from: number;
  readonly range: Promise<{ blocks: RawSyncBlock[] | undefined; vouched: boolean }>;
}
