/**
 * The read side for the API and receipts: lookups and paged evidence queries over a LedgerStore, and Merkle
 * inclusion proofs. Read-only by construction: it holds no write path. Malformed arguments throw LedgerError
 * (LEDGER_INVALID_*), never anything that stops the node.
 */
import type { AnchorRecord } from '../core/anchor.ts';
import { type BlockHeader, type CommitCertificate, headerHash } from '../core/block.ts';
import { equalBytes } from '../core/bytes.ts';
import { InvariantError, invariant } from '../core/errors.ts';
import { decodeEvidence, type HashAlg } from '../core/evidence.ts';
import { type Genesis, genesisSuite } from '../core/genesis.ts';
import { type InclusionProof, inclusionProof } from '../core/merkle.ts';
import { decodeTx, type Tx } from '../core/tx.ts';
import type { ArchiveIndexEntry } from './archive-index.ts';
import type { CaseState } from './case-machine.ts';
import { decodeCaseState } from './case-state.ts';
import { CaseStats } from './case-stats.ts';
import type { ChainHead } from './chain.ts';
import { GovernanceState } from './governance-state.ts';
import { genesisHead } from './ledger-chain.ts';
import type {
  AnchorState,
  EvidenceEntry,
  LedgerStore,
  LedgerTx,
  Page,
  PageRequest,
  StoredBlock,
} from './store.ts';

/** Everything a receipt needs to prove a tx committed: verify `proof` of tx.env.hash against header.txRoot. */
export interface TxInclusion {
  header: BlockHeader;
  /** The header hash, which `cert` signs. */
  hash: Uint8Array;
  cert: CommitCertificate;
  proof: InclusionProof;
  tx: LedgerTx;
}

/**
 * The anchor that covers a block, with the header chain that links the block to it: what a receipt's anchor
 * needs. The token's imprint is `header`'s hash; `headers` runs from the asked height + 1 up to and
 * including `header` (empty when the block itself is anchored).
 */
export interface AnchorCoverage {
  record: AnchorRecord;
  /** The anchor tx, with the height and index of the block that recorded it. */
  tx: LedgerTx;
  /** The anchored block's header. */
  header: BlockHeader;
  headers: BlockHeader[];
}

/** How far anchoring lags the chain. Heights and times come from the ledger; no clock is read. */
export interface AnchorStatus {
  /** The highest anchored height; 0 when nothing is anchored. */
  anchoredHeight: number;
  /** That block's time; the genesis creation time at height 0, as for the head. */
  anchoredBlockTime: number;
  /** The highest height whose block records evidence. Anchoring is due while it exceeds anchoredHeight. */
  evidenceHeight: number;
  headHeight: number;
  headTime: number;
  /** Time of the oldest block above anchoredHeight that records evidence; undefined when there is none. */
  oldestUnanchoredEvidenceTime: number | undefined;
}

export class LedgerQueries {
  readonly #store: LedgerStore;
  readonly #genesisHead: ChainHead;
  readonly #genesis: Genesis;
  #gov: { snapshot: Uint8Array | undefined; state: GovernanceState } | undefined;
  #stats: { height: number; stats: Promise<CaseStats> } | undefined;

  constructor(store: LedgerStore, genesis: Genesis) {
    this.#store = store;
    this.#genesis = genesis;
    this.#genesisHead = genesisHead(genesis);
  }

  /**
   * The governance registry as of the head (ADR 006): the genesis registry until a block changes it. Decoded
   * from the store's snapshot, once per snapshot.
   */
  governance(): GovernanceState {
    const snapshot = this.#store.governanceState();
    if (this.#gov === undefined || this.#gov.snapshot !== snapshot) {
      const state =
        snapshot === undefined
          ? GovernanceState.fromGenesis(this.#genesis)
          : GovernanceState.decode(snapshot, genesisSuite(this.#genesis));
      this.#gov = { snapshot, state };
    }
    return this.#gov.state;
  }

  /** A dispute case's state and timeline (docs/cases.md); undefined when no case has this id. */
  async case(caseId: string): Promise<CaseState | undefined> {
    const [bytes] = await this.#store.caseStates([caseId]);
    return bytes === undefined ? undefined : decodeCaseState(bytes);
  }

  /** Cases in the order they were opened. */
  async cases(page?: PageRequest): Promise<Page<CaseState>> {
    const p = await this.#store.cases(page);
    return { items: p.items.map(decodeCaseState), next: p.next };
  }

  /** The case statistics as of the head: counters kept at execution, read once per head. */
  caseStats(): Promise<CaseStats> {
    const height = this.head().height;
    if (this.#stats?.height !== height) {
      const stats = this.#store.caseStats().then((entries) => CaseStats.decode(entries));
      stats.catch(() => {
        if (this.#stats?.stats === stats) this.#stats = undefined;
      });
      this.#stats = { height, stats };
    }
    return this.#stats.stats;
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

  /**
   * The committed hash-renewal requests no anchor has stamped yet, in chain order (ADR 016): what a stamping
   * primary would put in its next hash renewal. Reads every request: they are few.
   */
  async unstampedHashRenewals(): Promise<LedgerTx[]> {
    const all = await this.#store.hashRenewalRequests();
    const stamped = await Promise.all(all.map((r) => this.#store.hashRenewalStampOf(r.env.hash)));
    return all.filter((_, i) => stamped[i] === undefined);
  }

  /** The committed hash-renewal requests in blocks `fromHeight` and above, in chain order (index 0x14). */
  hashRenewalRequestsFrom(fromHeight: number): Promise<LedgerTx[]> {
    return this.#store.hashRenewalRequestsFrom(fromHeight);
  }

  /** The anchor records that carry a hash-renewal stamp or stamp renewals, in order (index 0x13, ADR 018). */
  async stampAnchors(): Promise<AnchorRecord[]> {
    return (await this.#store.stampAnchors()).map((e) => e.anchor);
  }

  /** The committed hash-renewal request naming evidence tx `evidenceTx` (ADR 016), if any. */
  hashRenewalOf(evidenceTx: Uint8Array): Promise<LedgerTx | undefined> {
    return this.#store.hashRenewalOf(evidenceTx);
  }

  /** The committed anchor tx that stamped hash-renewal request `requestTx`, if any. */
  hashRenewalStampOf(requestTx: Uint8Array): Promise<LedgerTx | undefined> {
    return this.#store.hashRenewalStampOf(requestTx);
  }

  /** Every committed governance tx in blocks below `beforeHeight`, in chain order (for receipts). */
  governanceTxs(beforeHeight: number): Promise<LedgerTx[]> {
    return this.#store.governanceTxs(beforeHeight);
  }

  /** The institution's last committed audit head tx (ADR 015), if any. */
  auditHead(institution: string): Promise<LedgerTx | undefined> {
    return this.#store.auditHead(institution);
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

  /** The anchored and evidence heights as of the head; cheap (no reads). */
  anchorState(): AnchorState {
    return this.#store.anchorState();
  }

  /** The first anchor with anchored height >= `height`, with the headers linking them; undefined if none yet. */
  async anchorCovering(height: number): Promise<AnchorCoverage | undefined> {
    const entry = await this.#store.anchorCovering(height);
    if (entry === undefined) return undefined;
    const { anchor: record, ...tx } = entry;
    const headers = await this.#store.headers(height, record.height);
    const own = headers.shift();
    // headers now runs from height + 1; the anchored header is its last entry, or the block's own.
    const anchored = headers.at(-1) ?? own;
    invariant(
      anchored !== undefined &&
        headers.length === record.height - height &&
        equalBytes(headerHash(anchored, genesisSuite(this.#genesis)), record.headerHash),
      `anchor of block ${record.height} does not match the stored headers`,
    );
    return { record, tx, header: anchored, headers };
  }

  async anchorStatus(): Promise<AnchorStatus> {
    const head = this.head();
    const { anchoredHeight, evidenceHeight } = this.#store.anchorState();
    const [anchored] = anchoredHeight === 0 ? [] : await this.#store.headers(anchoredHeight, anchoredHeight);
    invariant(anchoredHeight === 0 || anchored !== undefined, `anchored block ${anchoredHeight} is missing`);
    return {
      anchoredHeight,
      anchoredBlockTime: anchored?.time ?? this.#genesisHead.time,
      evidenceHeight,
      headHeight: head.height,
      headTime: head.time,
      oldestUnanchoredEvidenceTime: await this.#oldestEvidenceTime(anchoredHeight + 1, evidenceHeight),
    };
  }

  /**
   * The time of the first block in from..to that records evidence. Block `to` does (it is the evidence
   * height), so the walk ends there at the latest; usually the first or second block already does.
   */
  async #oldestEvidenceTime(from: number, to: number): Promise<number | undefined> {
    for (let h = from; h <= to; h++) {
      const block = await this.#store.block(h);
      invariant(block !== undefined, `block ${h} at or below the evidence height ${to} is missing`);
      for (const hash of block.txHashes) {
        if ((await this.#store.tx(hash))?.env.tx.type === 'evidence') return block.header.time;
      }
    }
    return undefined;
  }

  /**
   * Every committed anchor record with anchored height >= `from`, in order, by walking the anchor index: one
   * read per anchor. Archive and renewal history (ADR 012) is built from these.
   */
  /** The archive index (archive-index.ts): the anchors that carry an archive timestamp or a renewal. */
  archiveIndex(from = 1): Promise<ArchiveIndexEntry[]> {
    return this.#store.archiveIndex(from);
  }

  async anchorsFrom(from: number): Promise<AnchorRecord[]> {
    const out: AnchorRecord[] = [];
    for (let h = from; ; ) {
      const entry = await this.#store.anchorCovering(h);
      if (entry === undefined) return out;
      out.push(entry.anchor);
      h = entry.anchor.height + 1;
    }
  }

  /**
   * The SHA-256 evidence hashes recorded in blocks from..to, in chain order: the leaves of the archive
   * timestamp (RFC 4998 hash tree) an anchor of block `to` carries (ADR 012).
   */
  async archiveLeaves(from: number, to: number): Promise<Uint8Array[]> {
    const leaves: Uint8Array[] = [];
    for (let h = from; h <= to; h++) {
      // The raw txs, decoded without their tx ids: only the evidence hashes are wanted here.
      const all = await this.#store.blockTxBytes(h);
      invariant(all !== undefined, `block ${h} at or below ${to} is missing`);
      for (const [i, bytes] of all.entries()) {
        const tx = storedTx(bytes, h, i);
        if (tx.type !== 'evidence') continue;
        const e = decodeEvidence(tx.payload);
        if (e.hashAlg === 'sha256') leaves.push(e.hash);
      }
    }
    return leaves;
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
      proof: inclusionProof(block.txHashes, tx.index, genesisSuite(this.#genesis)),
      tx,
    };
  }
}

/** A committed tx read back; one that does not decode means the store is corrupt. */
function storedTx(bytes: Uint8Array, height: number, index: number): Tx {
  try {
    return decodeTx(bytes);
  } catch (err) {
    throw new InvariantError(`stored tx ${height}/${index} does not decode: ${(err as Error).message}`);
  }
}
