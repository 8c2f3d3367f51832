/**
 * The read side for the API and receipts: lookups and paged evidence queries over a LedgerStore, and Merkle
 * inclusion proofs. Read-only by construction: it holds no write path. Malformed arguments throw LedgerError
 * (LEDGER_INVALID_*), never anything that stops the node.
 */
import type { BlockHeader, CommitCertificate } from '../core/block.ts';
import { equalBytes } from '../core/bytes.ts';
import { invariant } from '../core/errors.ts';
import type { HashAlg } from '../core/evidence.ts';
import type { Genesis } from '../core/genesis.ts';
import { type InclusionProof, inclusionProof } from '../core/merkle.ts';
import type { ChainHead } from './chain.ts';
import { genesisHead } from './ledger-chain.ts';
import type { EvidenceEntry, LedgerStore, LedgerTx, Page, PageRequest, StoredBlock } from './store.ts';

/** Everything a receipt needs to prove a tx committed: verify `proof` of tx.env.hash against header.txRoot. */
export interface TxInclusion {
  header: BlockHeader;
  /** The header hash, which `cert` signs. */
  hash: Uint8Array;
  cert: CommitCertificate;
  proof: InclusionProof;
  tx: LedgerTx;
}

export class LedgerQueries {
  readonly #store: LedgerStore;
  readonly #genesisHead: ChainHead;

  constructor(store: LedgerStore, genesis: Genesis) {
    this.#store = store;
    this.#genesisHead = genesisHead(genesis);
  }

  /** The last committed block, or height 0 with the genesis hash and time. */
  head(): ChainHead {
    return this.#store.head() ?? this.#genesisHead;
  }

  tx(hash: Uint8Array): Promise<LedgerTx | undefined> {
    return this.#store.tx(hash);
  }

  block(height: number): Promise<StoredBlock | undefined> {
    return this.#store.block(height);
  }

  evidenceByHash(hashAlg: HashAlg, hash: Uint8Array, page?: PageRequest): Promise<Page<EvidenceEntry>> {
    return this.#store.evidenceByHash(hashAlg, hash, page);
  }

  evidenceByCase(caseId: string, page?: PageRequest): Promise<Page<EvidenceEntry>> {
    return this.#store.evidenceByCase(caseId, page);
  }

  /** Records of `institution` in blocks with fromMs <= block time < toMs. */
  evidenceByInstitution(
    institution: string,
    fromMs: number,
    toMs: number,
    page?: PageRequest,
  ): Promise<Page<EvidenceEntry>> {
    return this.#store.evidenceByInstitution(institution, fromMs, toMs, page);
  }

  /** The proof that the tx is in its block, with the header and certificate; undefined if not committed. */
  async inclusionProof(txHash: Uint8Array): Promise<TxInclusion | undefined> {
    const tx = await this.#store.tx(txHash);
    if (tx === undefined) return undefined;
    const block = await this.#store.block(tx.height);
    invariant(block !== undefined, `committed tx points at missing block ${tx.height}`);
    invariant(
      equalBytes(block.txHashes[tx.index] ?? new Uint8Array(0), tx.env.hash),
      `block ${tx.height} does not list tx ${tx.index} where the index says`,
    );
    return {
      header: block.header,
      hash: block.hash,
      cert: block.cert,
      proof: inclusionProof(block.txHashes, tx.index),
      tx,
    };
  }
}
