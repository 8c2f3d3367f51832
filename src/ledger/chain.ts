/**
 * The contract between consensus and the ledger. Consensus orders batches; the ledger turns the batch at
 * height head+1 into a block (deterministically, with no writes), and later commits it with its certificate
 * in one atomic write. Consensus signs the header hash of the built block in its COMMIT vote, so a commit
 * certificate covers exactly what is stored.
 */
import type { Batch } from '../core/batch.ts';
import type { BlockHeader, CommitCertificate } from '../core/block.ts';
import type { TxEnvelope } from '../core/tx.ts';

export interface ChainHead {
  /** 0 before the first block. */
  height: number;
  /** Header hash of the head block; the genesis hash at height 0. */
  hash: Uint8Array;
  /** Head block time; the genesis creation time at height 0. */
  time: number;
}

export interface TxRejection {
  hash: Uint8Array;
  /** An executor error code (TX_*). */
  code: string;
  message: string;
}

export interface BuiltBlock {
  header: BlockHeader;
  hash: Uint8Array;
  /** The txs the block records, in order; txRoot covers their hashes. */
  txs: TxEnvelope[];
  /** Txs of the batch that were invalid at execution (replayed, expired, ...) and are left out; batch order. */
  rejected: TxRejection[];
}

export interface BuildOptions {
  /**
   * f+1 validators vouch for the txs' signature bytes and a commit certificate for their bodies (state sync,
   * docs/protocol.md "Signatures at catch-up"): execution does not verify the signatures again. Every other
   * rule still runs.
   */
  readonly signaturesVouched?: boolean;
}

export interface CommitOptions {
  /**
   * The caller already checked this very certificate with verifyCommitCertificate against the set in force at
   * the block's height and this genesis (state sync does, before executing the block): not checked again.
   */
  readonly certificateVerified?: boolean;
}

export interface Chain {
  head(): ChainHead;
  /** Builds the block for height head().height + 1 from `batch`. Pure with respect to the stored ledger. */
  buildBlock(batch: Batch, options?: BuildOptions): Promise<BuiltBlock>;
  /** Atomically and durably stores the block, its certificate, its txs, indexes and state updates. */
  commitBlock(block: BuiltBlock, cert: CommitCertificate, options?: CommitOptions): Promise<void>;
  /** Admission check for the mempool and for txs in a proposed batch; undefined when the tx is acceptable. */
  checkTx(env: TxEnvelope, nowMs: number): Promise<TxRejection | undefined>;
  /**
   * checkTx for many txs, each judged as if alone (one tx does not make another a duplicate), at one time;
   * verdicts in input order. Lets the executor read the ledger once for all of them.
   */
  checkTxs(envs: readonly TxEnvelope[], nowMs: number): Promise<(TxRejection | undefined)[]>;
}
