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
import { type Validator, type ValidatorSet, validatorSetHash } from '../../src/core/validators.ts';
import type { BuiltBlock, ChainHead } from '../../src/ledger/chain.ts';

export const SIM_GENESIS_HASH = sha256(utf8.encode('jrchain-sim-genesis'));
export const SIM_GENESIS_TIME = 1_780_000_000_000;

/** The simulation's stand-in for governance (ADR 006): a tx from this institution names the next set. */
export const SIM_GOV_INSTITUTION = 'sim-gov';

/** The member key ids of a reconfiguration tx, or undefined for any other tx. */
export function reconfigMembers(env: TxEnvelope): number[] | undefined {
  if (env.tx.institution !== SIM_GOV_INSTITUTION) return undefined;
  const text = new TextDecoder().decode(env.tx.payload);
  const m = /^reconfig ([0-9,]+)#/.exec(text);
  return m === null ? undefined : m[1]!.split(',').map(Number);
}

export interface SimEpoch {
  readonly epoch: number;
  readonly firstHeight: number;
  readonly set: ValidatorSet;
  readonly setHash: Uint8Array;
}

export interface StoredBlock {
  block: BuiltBlock;
  /** Undefined for blocks installed by state transfer from a peer that had them certified. */
  cert: CommitCertificate | undefined;
}

export class SimLedger {
  readonly blocks: StoredBlock[] = [];
  private readonly committed = new Set<string>();
  /** Epochs as the committed chain defines them; the last may start at head + 1. */
  readonly epochs: SimEpoch[];
  /** Every validator a reconfiguration may name, by key id. */
  private readonly keys: readonly Validator[];
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
    keys: readonly Validator[] = set.validators,
  ) {
    this.chainId = chainId;
    this.set = set;
    this.verify = verify;
    this.isValidTx = isValidTx;
    this.keys = keys;
    this.epochs = [{ epoch: 0, firstHeight: 1, set, setHash: validatorSetHash(set) }];
  }

  /** The epoch in force at `height` (>= 1), as far as the committed chain knows. */
  epochAt(height: number): SimEpoch {
    for (let i = this.epochs.length - 1; i >= 0; i--)
      if (this.epochs[i]!.firstHeight <= height) return this.epochs[i]!;
    return this.epochs[0]!;
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
      validatorSetHash: this.epochAt(head.height + 1).setHash,
    };
    return { header, hash: headerHash(header), txs, rejected };
  }

  /** Stores a block with its certificate; throws if it does not extend the head or the certificate is bad. */
  commit(block: BuiltBlock, cert: CommitCertificate): void {
    const head = this.head();
    if (block.header.height !== head.height + 1 || !equalBytes(block.header.prevHash, head.hash)) {
      throw new Error(`block ${block.header.height} does not extend head ${head.height}`);
    }
    verifyCommitCertificate(
      cert,
      block.header,
      this.epochAt(block.header.height).set,
      SIM_GENESIS_HASH,
      this.verify,
    );
    this.append(block, cert);
  }

  /**
   * State transfer: copies blocks (head, upTo] from a peer's ledger, checking each links to the previous and
   * its certificate against the set in force at its height. Stops after the last block of an epoch, so the
   * node switches its consensus instance there (ADR 006).
   */
  copyFrom(peer: SimLedger, upTo: number): StoredBlock[] {
    const copied: StoredBlock[] = [];
    for (let h = this.head().height + 1; h <= upTo; h++) {
      const b = peer.blocks[h - 1];
      if (b === undefined || !equalBytes(b.block.header.prevHash, this.head().hash)) break;
      const epoch = this.epochAt(h);
      if (!equalBytes(b.block.header.validatorSetHash, epoch.setHash))
        throw new Error(`block ${h} names another validator set`);
      if (b.cert) verifyCommitCertificate(b.cert, b.block.header, epoch.set, SIM_GENESIS_HASH, this.verify);
      this.append(b.block, b.cert);
      copied.push(b);
      if (this.epochAt(h + 1) !== epoch) break;
    }
    return copied;
  }

  private append(block: BuiltBlock, cert: CommitCertificate | undefined): void {
    this.blocks.push({ block, cert });
    for (const t of block.txs) this.committed.add(toHex(t.hash));
    const height = block.header.height;
    for (const t of block.txs) {
      const members = reconfigMembers(t);
      if (members === undefined) continue;
      const last = this.epochs[this.epochs.length - 1]!;
      const epoch = last.firstHeight > height ? last.epoch : last.epoch + 1;
      const set: ValidatorSet = { validators: members.map((k) => this.keys[k]!), epoch };
      const next = { epoch, firstHeight: height + 1, set, setHash: validatorSetHash(set) };
      if (last.firstHeight > height) this.epochs[this.epochs.length - 1] = next;
      else this.epochs.push(next);
    }
  }
}
