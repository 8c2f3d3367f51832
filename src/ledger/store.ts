/**
 * The ledger store: committed blocks, their txs and evidence indexes, the per-institution nonce state, and a
 * small durable namespace for the consensus engine. Two implementations: LevelLedgerStore (level-store.ts,
 * the only module that imports `level`) and MemoryLedgerStore; test/unit/ledger/store-compliance.ts runs the
 * same suite against both.
 *
 * The store does not judge txs; the executor (LedgerChain) does. The store only refuses blocks that would
 * break the chain's shape (height, prevHash, tx count) or the anchor index's order, with an InvariantError.
 */
import type { AnchorRecord } from '../core/anchor.ts';
import type { BlockHeader, CommitCertificate } from '../core/block.ts';
import { equalBytes } from '../core/bytes.ts';
import { invariant } from '../core/errors.ts';
import type { EvidenceRecord, HashAlg } from '../core/evidence.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { ArchiveIndexEntry } from './archive-index.ts';
import type { ChainHead } from './chain.ts';
import type { TxRecord } from './records.ts';

/** Read-only views: callers must not mutate what a store returns. */
export interface LedgerTx {
  readonly env: TxEnvelope;
  readonly height: number;
  /** Position in the block, from 0. */
  readonly index: number;
  /** Time of the block that recorded the tx. */
  readonly blockTime: number;
}

export interface EvidenceEntry extends LedgerTx {
  readonly evidence: EvidenceRecord;
}

/** A committed anchor tx with its decoded record. */
export interface AnchorEntry extends LedgerTx {
  readonly anchor: AnchorRecord;
}

export interface StoredBlock {
  readonly header: BlockHeader;
  readonly hash: Uint8Array;
  readonly cert: CommitCertificate;
  /** In block order; header.txRoot is their Merkle root. */
  readonly txHashes: readonly Uint8Array[];
}

/**
 * What the ledger knows about anchoring, kept with the head and written in the same atomic step. Anchoring is
 * needed only while `evidenceHeight > anchoredHeight`: blocks that hold only anchors (or nothing) need none,
 * which keeps an anchor's own block from calling for another anchor forever.
 */
export interface AnchorState {
  /** The highest anchored block height; 0 while no anchor is committed. */
  readonly anchoredHeight: number;
  /** The highest height whose block records evidence; 0 while none does. */
  readonly evidenceHeight: number;
}

export const NO_ANCHOR_STATE: AnchorState = Object.freeze({ anchoredHeight: 0, evidenceHeight: 0 });

/** The anchor state after `write` is committed on top of `prev`. */
export function nextAnchorState(prev: AnchorState, write: BlockWrite): AnchorState {
  let { anchoredHeight, evidenceHeight } = prev;
  for (const r of write.records) {
    if (r.type === 'anchor') anchoredHeight = r.anchor.height;
    else evidenceHeight = write.header.height;
  }
  return { anchoredHeight, evidenceHeight };
}

/** What commitBlock writes. `records[i]` is the decoded payload of `txs[i]`. */
export interface BlockWrite {
  readonly header: BlockHeader;
  readonly hash: Uint8Array;
  readonly cert: CommitCertificate;
  readonly txs: readonly TxEnvelope[];
  readonly records: readonly TxRecord[];
  /**
   * The encoded governance registry as of this block, present only when the block changed it (ADR 006). Stored
   * in the same atomic write, so the registry never disagrees with the head.
   */
  readonly governance?: Uint8Array | undefined;
  /** The cases whose state this block changed, each once, with its state after the block (docs/cases.md). */
  readonly cases?: readonly CaseWrite[] | undefined;
  /** The case statistics groups this block changed, encoded (src/ledger/case-stats.ts). */
  readonly caseStats?: readonly (readonly [string, Uint8Array])[] | undefined;
}

export interface CaseWrite {
  readonly caseId: string;
  /** The encoded case state (src/ledger/case-state.ts). */
  readonly state: Uint8Array;
  /** Where the case's open event is, when this block opened it: the list of cases is in this order. */
  readonly opened?: { readonly height: number; readonly index: number } | undefined;
}

export interface PageRequest {
  /** 1..PAGE_LIMIT_MAX; PAGE_LIMIT_DEFAULT when omitted. */
  limit?: number | undefined;
  /** The `next` of the previous page, unchanged. */
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Present when more items may follow; pass it back as `cursor`. */
  next?: string | undefined;
}

export interface NonceKey {
  readonly institution: string;
  readonly nonce: number;
}

/** One operation of an atomic consensus write. */
export type ConsensusKvOp =
  | { readonly op: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly op: 'del'; readonly key: Uint8Array };

/**
 * Durable keyed bytes for the consensus engine's own state (votes, view, checkpoints). Every put, delete and
 * write is flushed (`sync: true`) before the promise resolves, so "persist before you send" holds.
 */
export interface ConsensusKv {
  /** Keys are 1..CONSENSUS_KEY_MAX_BYTES bytes. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  delete(key: Uint8Array): Promise<void>;
  /** Every record, in byte order of the keys (a restarted engine reads its whole state once). */
  entries(): Promise<Array<readonly [Uint8Array, Uint8Array]>>;
  /**
   * Applies `ops` in order as one atomic, durable write: after a crash either all of them hold or none.
   * Every key is checked first, so a bad key writes nothing.
   */
  write(ops: readonly ConsensusKvOp[]): Promise<void>;
}

export const CONSENSUS_KEY_MAX_BYTES = 255;

export interface LedgerStore {
  readonly consensus: ConsensusKv;

  /** The last committed block; undefined while the store is empty. */
  head(): ChainHead | undefined;

  /** The anchored and evidence heights as of the head. */
  anchorState(): AnchorState;

  /** The newest governance registry snapshot (`BlockWrite.governance`); undefined while no block wrote one. */
  governanceState(): Uint8Array | undefined;

  /**
   * Writes the block, its certificate, txs, tx index, evidence indexes, nonce state, anchor index, anchor
   * state and the new head in one atomic, durable step. Evidence txs are indexed and use up their nonce; anchor txs go to the
   * anchor index only. Throws InvariantError (writing nothing) unless height = head + 1, prevHash = head hash
   * (from height 2 on), the tx count matches the header, and the block's anchors name strictly increasing
   * heights above the anchored height and below its own height.
   */
  commitBlock(write: BlockWrite): Promise<void>;

  block(height: number): Promise<StoredBlock | undefined>;
  /** The txs of block `height`, in block order; undefined when that block is not committed. Serves sync. */
  blockTxs(height: number): Promise<TxEnvelope[] | undefined>;
  /** blockTxs undecoded: the txs' canonical bytes, which sync serves as they are. */
  blockTxBytes(height: number): Promise<Uint8Array[] | undefined>;
  /**
   * The headers of blocks fromHeight..toHeight (inclusive) that are committed, in order: the range is cut at
   * the head. Throws LEDGER_INVALID_ARGUMENT unless 1 <= fromHeight <= toHeight (safe integers).
   */
  headers(fromHeight: number, toHeight: number): Promise<BlockHeader[]>;
  tx(hash: Uint8Array): Promise<LedgerTx | undefined>;
  /** The committed `hash-renewal` tx naming this evidence tx (there is at most one), or undefined. */
  hashRenewalOf(evidenceTx: Uint8Array): Promise<LedgerTx | undefined>;
  /** The committed anchor tx whose hash renewal stamped the `hash-renewal` tx `requestTx`, or undefined. */
  hashRenewalStampOf(requestTx: Uint8Array): Promise<LedgerTx | undefined>;
  /** Every committed `hash-renewal` tx, in chain order (few: the primary looks for unstamped ones). */
  hashRenewalRequests(): Promise<LedgerTx[]>;
  /** The committed `hash-renewal` txs in blocks `fromHeight` and above, in chain order (index 0x14). */
  hashRenewalRequestsFrom(fromHeight: number): Promise<LedgerTx[]>;
  /**
   * The committed anchors that carry a hash-renewal stamp or stamp renewals (index 0x13, ADR 018), in chain
   * order: what a renewed document's new chain is built from.
   */
  stampAnchors(): Promise<AnchorEntry[]>;
  /** For each key, whether a committed tx already used that (institution, nonce). */
  noncesUsed(keys: readonly NonceKey[]): Promise<boolean[]>;

  /** Every record with this document hash (any institution, any case), in chain order. */
  evidenceByHash(hashAlg: HashAlg, hash: Uint8Array, page?: PageRequest): Promise<Page<EvidenceEntry>>;
  /** Every record of the case, in chain order. */
  evidenceByCase(caseId: string, page?: PageRequest): Promise<Page<EvidenceEntry>>;
  /** Records the institution submitted in blocks with fromMs <= block time < toMs, in chain order. */
  evidenceByInstitution(
    institution: string,
    fromMs: number,
    toMs: number,
    page?: PageRequest,
  ): Promise<Page<EvidenceEntry>>;

  /**
   * The committed anchor with the lowest anchored height >= `height`: the one that covers block `height`.
   * Undefined when no anchor covers it yet. Throws LEDGER_INVALID_ARGUMENT unless `height` is a safe
   * integer >= 1.
   */
  anchorCovering(height: number): Promise<AnchorEntry | undefined>;

  /**
   * The archive index (archive-index.ts, ADR 016): an entry per committed anchor that carries an archive
   * timestamp or a renewal, in chain order, from anchored height `from` (default 1) on.
   */
  archiveIndex(from?: number): Promise<ArchiveIndexEntry[]>;

  /**
   * Every committed governance tx in blocks below `beforeHeight`, in chain order (receipts carry them). Throws
   * LEDGER_INVALID_ARGUMENT unless `beforeHeight` is a safe integer >= 1.
   */
  governanceTxs(beforeHeight: number): Promise<LedgerTx[]>;
  /** The institution's last committed audit head tx (ADR 015), or undefined when it committed none. */
  auditHead(institution: string): Promise<LedgerTx | undefined>;

  /** The encoded state of each case (undefined for an unknown id), in argument order. */
  caseStates(caseIds: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  /** The encoded states of the cases in the order they were opened. */
  cases(page?: PageRequest): Promise<Page<Uint8Array>>;
  /** Every case statistics group with its encoded counters, in key order. */
  caseStats(): Promise<[string, Uint8Array][]>;

  close(): Promise<void>;
}

/** The shape checks every store makes before writing anything (see LedgerStore.commitBlock). */
export function assertExtendsHead(
  head: ChainHead | undefined,
  anchoredHeight: number,
  write: BlockWrite,
): void {
  const { header } = write;
  const expected = (head?.height ?? 0) + 1;
  invariant(header.height === expected, `store expected block ${expected}, got ${header.height}`, {
    height: header.height,
  });
  invariant(head === undefined || equalBytes(header.prevHash, head.hash), 'block does not extend the head', {
    height: header.height,
  });
  invariant(
    header.txCount === write.txs.length && write.records.length === write.txs.length,
    'tx count does not match the header',
    { height: header.height, txCount: header.txCount, txs: write.txs.length },
  );
  let anchored = anchoredHeight;
  write.records.forEach((r, i) => {
    invariant(r.type === write.txs[i]!.tx.type, 'tx record does not match its tx type', {
      height: header.height,
      index: i,
    });
    if (r.type !== 'anchor') return;
    // The anchor index is keyed by anchored height and must only grow, over earlier blocks.
    invariant(
      r.anchor.height > anchored && r.anchor.height < header.height,
      `anchor of block ${r.anchor.height} does not advance the anchored height ${anchored}`,
      { height: header.height, index: i },
    );
    anchored = r.anchor.height;
  });
  invariant(equalBytes(write.cert.headerHash, write.hash), 'certificate is for another header', {
    height: header.height,
  });
}

export function checkConsensusKey(key: Uint8Array): void {
  invariant(
    key instanceof Uint8Array && key.length >= 1 && key.length <= CONSENSUS_KEY_MAX_BYTES,
    `consensus keys are 1..${CONSENSUS_KEY_MAX_BYTES} bytes`,
  );
}
