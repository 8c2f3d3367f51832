/**
 * Everything the consensus driver depends on, in one place. Each has one production implementation elsewhere
 * (libp2p transport and state sync: the p2p issue; LevelDB store: the ledger/node issue; `systemClock` and
 * `SystemTimers` in src/core/clock.ts) plus test doubles. The ledger side is `Chain` from src/ledger/chain.ts.
 */

import type { ConsensusParams } from '../core/params.ts';
import type { ValidatorSet } from '../core/validators.ts';
import type { BuiltBlock } from '../ledger/chain.ts';
import type { DropReason } from './errors.ts';
import type { ConsensusMessage } from './messages.ts';
import type { PersistOp } from './persist.ts';

export type { Chain } from '../ledger/chain.ts';

/** Consensus traffic between validators. Best effort: the protocol tolerates loss, delay and duplication. */
export interface Transport {
  /** Sends an encoded consensus message to validator `to`. */
  send(to: number, bytes: Uint8Array): void;
  /** Sends an encoded consensus message to every other validator. */
  broadcast(bytes: Uint8Array): void;
  /**
   * Registers the single inbound handler. The transport enforces its own frame size limit; the driver decodes
   * (strictly, with MessageLimits), and the core checks signatures, so a relayed message is as good as a direct one.
   * A transport that validates at the network edge leaves this out and calls ConsensusDriver.receive with
   * decoded, signature-checked messages instead.
   */
  onMessage?(handler: (bytes: Uint8Array) => void): void;
  /**
   * How this transport puts a message on the wire, if not `encodeMessage` (the p2p transport names a
   * PRE-PREPARE's txs by hash; the receiving side hands the driver the whole message again).
   */
  encode?(message: ConsensusMessage): Uint8Array;
}

/** Time for the driver (src/core/clock.ts); the core only ever sees it as the `now` and timeouts of its inputs. */
export type { Clock, Timers } from '../core/clock.ts';

/** The consensus core's durable records (persist.ts). */
export interface ConsensusStore {
  /** Every record, as written. */
  load(): Promise<Array<readonly [string, Uint8Array]>>;
  /** Applies all ops atomically and durably (fsync) before resolving. */
  write(ops: readonly PersistOp[]): Promise<void>;
}

/**
 * Brings the ledger up to a certified block when this replica has fallen behind. It fetches blocks and their
 * commit certificates from peers up to `targetSeq`, checks the header hash there is `headerHash`, stores them
 * with Chain.commitBlock-equivalent writes, and reports with ConsensusDriver.stateTransferred (possibly in
 * several steps). It writes to the ledger only while a request is outstanding: the core builds and commits
 * nothing meanwhile, so the two never race on the ledger head. A repeated request for the same target means the
 * previous one made no progress. When no peer can serve the next block it stands down (writes nothing more) and
 * says so with ConsensusDriver.transferStalled, so the core can finish that block by consensus.
 */
export interface StateSync {
  requestTransfer(targetSeq: number, headerHash: Uint8Array): void;
}

/**
 * Fetches batch bodies a NEW-VIEW re-issued by digest only. Peers answer from ConsensusDriver.batchFor; the
 * result goes to ConsensusDriver.batchFetched (the core checks the digest, so any peer may answer).
 */
export interface BatchFetcher {
  fetch(seq: number, digest: Uint8Array): void;
}

/** Observability hooks: every drop by reason, every commit, and a fatal error that stopped the driver. */
/**
 * The validator-set epochs of the committed chain (ADR 006), for a driver that follows reconfiguration: the
 * ledger (LedgerChain.epochAt) in production, the simulated ledger in tests.
 */
export interface EpochSource {
  /** The epoch in force at `height` (>= 1), as far as the committed chain knows. */
  epochAt(height: number): EpochInfo;
  /** The header hash of committed block `height` (the genesis hash for 0). */
  headerHash(height: number): Promise<Uint8Array>;
}

export interface EpochInfo {
  readonly epoch: number;
  readonly firstHeight: number;
  readonly set: ValidatorSet;
  readonly params: ConsensusParams;
}

export interface ConsensusEvents {
  onDrop?(reason: DropReason, detail: string): void;
  /**
   * The driver started the instance of a new epoch (ADR 006): `self` is this validator's index in its set, or
   * undefined when this key is not in it (the node then only follows the chain).
   */
  onEpoch?(epoch: EpochInfo, self: number | undefined): void;
  /** A block this replica committed through consensus (not state transfer), after the ledger stored it. */
  onCommit?(seq: number, headerHash: Uint8Array, block: BuiltBlock): void;
  onFatal?(error: unknown): void;
}
