/**
 * A batch is what the PBFT primary proposes for one sequence number; executing it yields the block at
 * height = seq. The digest binds the proposer, the view it was proposed in, the proposed time and the tx
 * hashes in order. A null batch (no txs, time 0) fills gaps after a view change and yields an empty block
 * whose time is the previous block's.
 */
import { Writer } from './codec.ts';
import { Domain, HASH_LENGTH } from './crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from './crypto-suite.ts';
import type { TxEnvelope } from './tx.ts';

export interface Batch {
  /** Validator index of the primary that proposed it. */
  proposer: number;
  /** View in which it was first proposed. */
  view: number;
  /** Proposed block time (epoch ms); 0 for a null batch. */
  time: number;
  txs: readonly TxEnvelope[];
}

/** The batch's digest under the chain's suite (ADR 014): SHA-256 or SM3, like every consensus hash. */
export function batchDigest(b: Batch, suite: CryptoSuite = ED25519_SHA256): Uint8Array {
  return batchDigestOf(
    b.proposer,
    b.view,
    b.time,
    b.txs.map((t) => t.hash),
    suite,
  );
}

/** The digest from the tx hashes alone: a PRE-PREPARE that names its txs by hash is checked before they arrive. */
export function batchDigestOf(
  proposer: number,
  view: number,
  time: number,
  hashes: readonly Uint8Array[],
  suite: CryptoSuite = ED25519_SHA256,
): Uint8Array {
  const w = new Writer(32 + hashes.length * HASH_LENGTH);
  w.varint(proposer).varint(view).varint(time).varint(hashes.length);
  for (const h of hashes) w.fixed(h, HASH_LENGTH);
  return suite.taggedHash(Domain.batch, w.finish());
}

export function nullBatch(proposer: number, view: number): Batch {
  return { proposer, view, time: 0, txs: [] };
}

export function isNullBatch(b: Batch): boolean {
  return b.txs.length === 0 && b.time === 0;
}
