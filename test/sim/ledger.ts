/**
 * A deterministic in-memory ledger with the semantics src/ledger/chain.ts asks for: buildBlock is pure and
 * leaves out txs that are invalid or already committed (so a tx is recorded at most once), commitBlock checks
 * the block extends the head and that its commit certificate verifies. Synchronous, for the simulation; the
 * driver tests wrap it in the async Chain interface.
 */

import type { SignatureVerifier } from '../../src/consensus/types.ts';
import { type Batch, isNullBatch } from '../../src/core/batch.ts';
import {
  type BlockHeader,
  type CommitCertificate,
  headerHash,
  verifyCommitCertificate,
} from '../../src/core/block.ts';
import { equalBytes, toHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/crypto.ts';
import { merkleRoot } from '../../src/core/merkle.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { type ValidatorSet, validatorSetHash } from '../../src/core/validators.ts';
import type { BuiltBlock, ChainHead } from '../../src/ledger/chain.ts';

export const SIM_GENESIS_HASH = sha256(utf8.encode('jrchain-sim-genesis'));
export const SIM_GENESIS_TIME = 1_780_000_000_000;

export interface StoredBlock {
  block: BuiltBlock;
  /** Undefined for blocks installed by state transfer from a peer that had them certified. */
  cert: CommitCertificate | undefined;
}

export class SimLedger {
  readonly blocks: StoredBlock[] = [];
  private readonly committed = new Set<string>();
  private readonly setHash: Uint8Array;
  readonly chainId: string;
  readonly set: ValidatorSet;
  readonly verify: SignatureVerifier;
  /** Validity beyond "not yet committed" (signature, known institution) as the driver would check it. */
  readonly isValidTx: (env: TxEnvelope) => boolean;

  constructor(
    chainId: string,
    set: ValidatorSet,
    verify: SignatureVerifier,
    isValidTx: (env: TxEnvelope) => boolean = () => true,
  ) {
    this.chainId = chainId;
    this.set = set;
    this.verify = verify;
    this.isValidTx = isValidTx;
    this.setHash = validatorSetHash(set);
  }

  head(): ChainHead {
    const top = this.blocks[this.blocks.length - 1];
    if (top === undefined) return { height: 0, hash: SIM_GENESIS_HASH, time: SIM_GENESIS_TIME };
    return { height: top.block.header.height, hash: top.block.hash, time: top.block.header.time };
  }

  hashAt(height: number): Uint8Array | undefined {
    return height === 0 ? SIM_GENESIS_HASH : this.blocks[height - 1]?.block.hash;
  }

  isCommitted(hashHex: string): boolean {
    return this.committed.has(hashHex);
  }

  /** Admission check, as Chain.checkTx: valid and not committed. */
  checkTx(env: TxEnvelope): boolean {
    return this.isValidTx(env) && !this.committed.has(env.hashHex);
  }

  build(batch: Batch): BuiltBlock {
    const head = this.head();
    const txs: TxEnvelope[] = [];
    const rejected = [];
    const seen = new Set<string>();
    for (const t of batch.txs) {
      if (this.committed.has(t.hashHex) || seen.has(t.hashHex)) {
        rejected.push({ hash: t.hash, code: 'TX_REPLAYED', message: 'already committed' });
      } else if (!this.isValidTx(t)) {
        rejected.push({ hash: t.hash, code: 'TX_INVALID', message: 'invalid' });
      } else {
        txs.push(t);
        seen.add(t.hashHex);
      }
    }
    const header: BlockHeader = {
      chainId: this.chainId,
      height: head.height + 1,
      prevHash: head.hash,
      txRoot: merkleRoot(txs.map((t) => t.hash)),
      txCount: txs.length,
      proposer: batch.proposer,
      view: batch.view,
      time: isNullBatch(batch) ? head.time : Math.max(head.time, batch.time),
      validatorSetHash: this.setHash,
    };
    return { header, hash: headerHash(header), txs, rejected };
  }

  /** Stores a block with its certificate; throws if it does not extend the head or the certificate is bad. */
  commit(block: BuiltBlock, cert: CommitCertificate): void {
    const head = this.head();
    if (block.header.height !== head.height + 1 || !equalBytes(block.header.prevHash, head.hash)) {
      throw new Error(`block ${block.header.height} does not extend head ${head.height}`);
    }
    verifyCommitCertificate(cert, block.header, this.set, this.verify);
    this.append(block, cert);
  }

  /** State transfer: copies blocks (head, upTo] from a peer's ledger, checking each links to the previous. */
  copyFrom(peer: SimLedger, upTo: number): StoredBlock[] {
    const copied: StoredBlock[] = [];
    for (let h = this.head().height + 1; h <= upTo; h++) {
      const b = peer.blocks[h - 1];
      if (b === undefined || !equalBytes(b.block.header.prevHash, this.head().hash)) break;
      if (b.cert) verifyCommitCertificate(b.cert, b.block.header, this.set, this.verify);
      this.append(b.block, b.cert);
      copied.push(b);
    }
    return copied;
  }

  private append(block: BuiltBlock, cert: CommitCertificate | undefined): void {
    this.blocks.push({ block, cert });
    for (const t of block.txs) this.committed.add(toHex(t.hash));
  }
}
