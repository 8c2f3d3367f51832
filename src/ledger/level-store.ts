/**
 * The LevelDB ledger store, and the only module that imports `level`. Keys and values follow layout.ts.
 * A block is one write batch with `sync: true`: LevelDB appends the whole batch to its log as one
 * checksummed record and replays only complete records on open, so after a crash at any point the store
 * holds either all of a block (head included) or none of it.
 */

import { Level } from 'level';
import { decodeAnchor } from '../core/anchor.ts';
import type { BlockHeader } from '../core/block.ts';
import { HASH_LENGTH } from '../core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { InvariantError } from '../core/errors.ts';
import type { HashAlg } from '../core/evidence.ts';
import { decodeEvidence } from '../core/evidence.ts';
import { ID_PATTERN } from '../core/limits.ts';
import { parseTx, type TxEnvelope } from '../core/tx.ts';
import { type ArchiveIndexEntry, decodeArchiveEntry } from './archive-index.ts';
import type { ChainHead } from './chain.ts';
import { LedgerError, LedgerErrorCode } from './errors.ts';
import {
  ANCHOR_PREFIX,
  ANCHOR_STATE_KEY,
  ARCHIVE_INDEX_KEY,
  ARCHIVE_PREFIX,
  anchorKey,
  archiveKey,
  auditHeadKey,
  blockEntries,
  blockKey,
  CASE_OPENED_PREFIX,
  CASE_STATS_PREFIX,
  CONSENSUS_PREFIX,
  casePrefix,
  caseStateKey,
  consensusKey,
  decodeAnchorState,
  decodeBlockRecord,
  decodeHead,
  decodeLocation,
  decodeTxHashes,
  evidenceHashPrefix,
  GOVERNANCE_INDEX_KEY,
  GOVERNANCE_KEY,
  GOVERNANCE_PREFIX,
  governanceKey,
  HASH_RENEWAL_AT_PREFIX,
  HASH_RENEWAL_PREFIX,
  HEAD_KEY,
  hashRenewalKey,
  hashRenewalStampKey,
  institutionPrefix,
  nonceKey,
  positionOfKey,
  prefixEnd,
  STAMP_INDEX_KEY,
  STAMP_PREFIX,
  txAtKey,
  txByHashKey,
  txHashesKey,
  withPosition,
  withTime,
} from './layout.ts';
import {
  buildArchiveIndex,
  buildGovernanceIndex,
  buildStampIndex,
  stored,
  view,
} from './level-index-builds.ts';
import {
  type CursorKind,
  checkCaseId,
  checkEvidenceHash,
  checkHeight,
  checkHeightRange,
  checkInstitutionRange,
  encodeCursor,
  type Position,
  resolvePage,
} from './paging.ts';
import {
  type AnchorEntry,
  type AnchorState,
  assertExtendsHead,
  type BlockWrite,
  type ConsensusKv,
  checkConsensusKey,
  type EvidenceEntry,
  type LedgerStore,
  type LedgerTx,
  NO_ANCHOR_STATE,
  type NonceKey,
  nextAnchorState,
  type Page,
  type PageRequest,
  type StoredBlock,
} from './store.ts';

type Db = Level<Uint8Array, Uint8Array>;
/** Most keys read synchronously at once (see #values). */
const SYNC_READS = 8;

/**
 * LevelDB's memory, chosen rather than inherited (docs/ledger.md, "Memory"): at most about 8 MiB of cached
 * blocks, two 4 MiB memtables (the one being written and the one being flushed), and the index and filter blocks
 * of at most 1,000 open table files. These are LevelDB's defaults, kept: larger ones showed no measurable gain for
 * 10k-tx blocks, and about 16 MiB (plus the open tables' indexes) is small beside the JS heap.
 */
export const LEVEL_MEMORY_OPTIONS = Object.freeze({
  cacheSize: 8 * 1024 * 1024,
  writeBufferSize: 4 * 1024 * 1024,
  maxOpenFiles: 1000,
});

export class LevelLedgerStore implements LedgerStore {
  readonly dir: string;
  readonly consensus: ConsensusKv;
  readonly #db: Db;
  #head: ChainHead | undefined;
  #anchorState: AnchorState;
  #governance: Uint8Array | undefined;
  #writing = false;
  #closed = false;
  readonly #suite: CryptoSuite;

  private constructor(
    dir: string,
    db: Db,
    head: ChainHead | undefined,
    anchorState: AnchorState,
    governance: Uint8Array | undefined,
    suite: CryptoSuite,
  ) {
    this.dir = dir;
    this.#suite = suite;
    this.#db = db;
    this.#head = head;
    this.#anchorState = anchorState;
    this.#governance = governance;
    this.consensus = {
      get: async (key) => {
        checkConsensusKey(key);
        this.#open();
        const v = await db.get(consensusKey(key));
        return v === undefined ? undefined : view(v);
      },
      put: async (key, value) => {
        checkConsensusKey(key);
        this.#open();
        await db.put(consensusKey(key), value, { sync: true });
      },
      delete: async (key) => {
        checkConsensusKey(key);
        this.#open();
        await db.del(consensusKey(key), { sync: true });
      },
      entries: async () => {
        this.#open();
        const all = await db.iterator({ gte: CONSENSUS_PREFIX, lt: prefixEnd(CONSENSUS_PREFIX) }).all();
        return all.map(([k, v]) => [view(k).subarray(1), view(v)] as const);
      },
      write: async (ops) => {
        for (const o of ops) checkConsensusKey(o.key);
        this.#open();
        // One LevelDB batch: a single checksummed log record, applied whole or not at all.
        await db.batch(
          ops.map((o) =>
            o.op === 'put'
              ? { type: 'put' as const, key: consensusKey(o.key), value: o.value }
              : { type: 'del' as const, key: consensusKey(o.key) },
          ),
          { sync: true },
        );
      },
    };
  }

  /** Opens (creating if needed) the store in `dir`, of a chain of `suite` (its tx hashes, ADR 014). */
  static async open(dir: string, suite: CryptoSuite = ED25519_SHA256): Promise<LevelLedgerStore> {
    const db: Db = new Level<Uint8Array, Uint8Array>(dir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      ...LEVEL_MEMORY_OPTIONS,
    });
    await db.open();
    try {
      const [raw, rawState, rawGov, marker, archiveMarker, stampMarker] = await db.getMany([
        HEAD_KEY,
        ANCHOR_STATE_KEY,
        GOVERNANCE_KEY,
        GOVERNANCE_INDEX_KEY,
        ARCHIVE_INDEX_KEY,
        STAMP_INDEX_KEY,
      ]);
      const head = raw === undefined ? undefined : stored('head', () => decodeHead(view(raw)));
      if (head !== undefined && marker === undefined) await buildGovernanceIndex(db, rawGov !== undefined);
      if (head !== undefined && archiveMarker === undefined) await buildArchiveIndex(db);
      if (head !== undefined && stampMarker === undefined) await buildStampIndex(db);
      const state =
        rawState === undefined
          ? NO_ANCHOR_STATE
          : stored('anchor state', () => decodeAnchorState(view(rawState)));
      return new LevelLedgerStore(
        dir,
        db,
        head,
        state,
        rawGov === undefined ? undefined : view(rawGov),
        suite,
      );
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  #open(): void {
    if (this.#closed) throw new LedgerError(LedgerErrorCode.closed, 'ledger store is closed');
  }

  head(): ChainHead | undefined {
    return this.#head;
  }

  anchorState(): AnchorState {
    return this.#anchorState;
  }

  governanceState(): Uint8Array | undefined {
    return this.#governance;
  }

  async commitBlock(write: BlockWrite): Promise<void> {
    this.#open();
    if (this.#writing) throw new InvariantError('concurrent commitBlock calls on one store');
    assertExtendsHead(this.#head, this.#anchorState.anchoredHeight, write);
    const state = nextAnchorState(this.#anchorState, write);
    this.#writing = true;
    try {
      const batch = this.#db.batch();
      for (const [k, v] of blockEntries(write, state)) batch.put(k, v);
      await batch.write({ sync: true });
      this.#head = { height: write.header.height, hash: write.hash, time: write.header.time };
      this.#anchorState = state;
      if (write.governance !== undefined) this.#governance = write.governance;
    } finally {
      this.#writing = false;
    }
  }

  async block(height: number): Promise<StoredBlock | undefined> {
    this.#open();
    if (!Number.isSafeInteger(height) || height < 1) return undefined;
    const [rec, hashes] = await this.#db.getMany([blockKey(height), txHashesKey(height)]);
    if (rec === undefined) return undefined;
    if (hashes === undefined) throw new InvariantError(`block ${height} has no tx hash list`);
    const { header, cert } = stored(`block ${height}`, () => decodeBlockRecord(view(rec)));
    const txHashes = stored(`tx hashes of block ${height}`, () => decodeTxHashes(view(hashes)));
    return { header, hash: cert.headerHash, cert, txHashes };
  }

  async blockTxs(height: number): Promise<TxEnvelope[] | undefined> {
    const all = await this.blockTxBytes(height);
    return all?.map((bytes, i) => stored(`tx ${height}/${i}`, () => parseTx(bytes, this.#suite)));
  }

  async blockTxBytes(height: number): Promise<Uint8Array[] | undefined> {
    this.#open();
    if (!Number.isSafeInteger(height) || height < 1 || height > (this.#head?.height ?? 0)) return undefined;
    // A block's txs are contiguous keys (03 height index), so one range read gets them in order.
    const all = await this.#db.values({ gte: txAtKey(height, 0), lte: txAtKey(height, 0xffff) }).all();
    return all.map(view);
  }

  async headers(fromHeight: number, toHeight: number): Promise<BlockHeader[]> {
    checkHeightRange(fromHeight, toHeight);
    this.#open();
    const records = await this.#db.values({ gte: blockKey(fromHeight), lte: blockKey(toHeight) }).all();
    return records.map(
      (rec, i) => stored(`block ${fromHeight + i}`, () => decodeBlockRecord(view(rec))).header,
    );
  }

  async anchorCovering(height: number): Promise<AnchorEntry | undefined> {
    checkHeight(height);
    this.#open();
    const [found] = await this.#db
      .iterator({ gte: anchorKey(height), lt: prefixEnd(ANCHOR_PREFIX), limit: 1 })
      .all();
    if (found === undefined) return undefined;
    const at = stored('anchor location', () => decodeLocation(view(found[1])));
    const [entry] = await this.#txsAt([at]);
    const anchor = stored(`anchor ${at.height}/${at.index}`, () => decodeAnchor(entry!.env.tx.payload));
    return { ...entry!, anchor };
  }

  async archiveIndex(from = 1): Promise<ArchiveIndexEntry[]> {
    checkHeight(from);
    this.#open();
    const values = await this.#db.values({ gte: archiveKey(from), lt: prefixEnd(ARCHIVE_PREFIX) }).all();
    return values.map((v) => stored('archive index entry', () => decodeArchiveEntry(view(v))));
  }

  async governanceTxs(beforeHeight: number): Promise<LedgerTx[]> {
    checkHeight(beforeHeight);
    this.#open();
    const keys = await this.#db.keys({ gte: GOVERNANCE_PREFIX, lt: governanceKey(beforeHeight, 0) }).all();
    return this.#txsAt(keys.map((k) => positionOfKey(view(k), false)));
  }

  async auditHead(institution: string): Promise<LedgerTx | undefined> {
    this.#open();
    if (typeof institution !== 'string' || !ID_PATTERN.test(institution)) return undefined;
    const loc = await this.#db.get(auditHeadKey(institution));
    if (loc === undefined) return undefined;
    const at = stored('audit head location', () => decodeLocation(view(loc)));
    const [entry] = await this.#txsAt([at]);
    return entry!;
  }

  async tx(hash: Uint8Array): Promise<LedgerTx | undefined> {
    this.#open();
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_LENGTH) return undefined;
    const loc = await this.#db.get(txByHashKey(hash));
    if (loc === undefined) return undefined;
    const at = stored('tx location', () => decodeLocation(view(loc)));
    const [entry] = await this.#txsAt([at]);
    return entry!;
  }

  async hashRenewalOf(evidenceTx: Uint8Array): Promise<LedgerTx | undefined> {
    this.#open();
    if (!(evidenceTx instanceof Uint8Array) || evidenceTx.length !== HASH_LENGTH) return undefined;
    const loc = await this.#db.get(hashRenewalKey(evidenceTx));
    if (loc === undefined) return undefined;
    const at = stored('hash renewal location', () => decodeLocation(view(loc)));
    const [entry] = await this.#txsAt([at]);
    return entry!;
  }

  async hashRenewalStampOf(requestTx: Uint8Array): Promise<LedgerTx | undefined> {
    this.#open();
    if (!(requestTx instanceof Uint8Array) || requestTx.length !== HASH_LENGTH) return undefined;
    const loc = await this.#db.get(hashRenewalStampKey(requestTx));
    if (loc === undefined) return undefined;
    const at = stored('hash renewal stamp location', () => decodeLocation(view(loc)));
    const [entry] = await this.#txsAt([at]);
    return entry!;
  }

  async hashRenewalRequests(): Promise<LedgerTx[]> {
    this.#open();
    const all = await this.#db
      .iterator({ gte: HASH_RENEWAL_PREFIX, lt: prefixEnd(HASH_RENEWAL_PREFIX) })
      .all();
    const at = all
      .map(([, v]) => stored('hash renewal location', () => decodeLocation(view(v))))
      .sort((a, b) => a.height - b.height || a.index - b.index);
    return this.#txsAt(at);
  }

  async hashRenewalRequestsFrom(fromHeight: number): Promise<LedgerTx[]> {
    checkHeight(fromHeight);
    this.#open();
    const from = withPosition(HASH_RENEWAL_AT_PREFIX, { height: fromHeight, index: 0 });
    const keys = await this.#db.keys({ gte: from, lt: prefixEnd(HASH_RENEWAL_AT_PREFIX) }).all();
    return this.#txsAt(keys.map((k) => positionOfKey(view(k), false)));
  }

  async stampAnchors(): Promise<AnchorEntry[]> {
    this.#open();
    const values = await this.#db.values({ gte: STAMP_PREFIX, lt: prefixEnd(STAMP_PREFIX) }).all();
    const at = values.map((v) => stored('stamp anchor location', () => decodeLocation(view(v))));
    return (await this.#txsAt(at)).map((e) => ({
      ...e,
      anchor: stored(`anchor ${e.height}/${e.index}`, () => decodeAnchor(e.env.tx.payload)),
    }));
  }

  async noncesUsed(keys: readonly NonceKey[]): Promise<boolean[]> {
    this.#open();
    if (keys.length === 0) return [];
    const found = await this.#db.getMany(keys.map((k) => nonceKey(k.institution, k.nonce)));
    return found.map((v) => v !== undefined);
  }

  async evidenceByHash(hashAlg: HashAlg, hash: Uint8Array, page?: PageRequest): Promise<Page<EvidenceEntry>> {
    checkEvidenceHash(hashAlg, hash);
    const prefix = evidenceHashPrefix(hashAlg, hash);
    return this.#scan('chain', page, prefix, prefix, prefixEnd(prefix));
  }

  async evidenceByCase(caseId: string, page?: PageRequest): Promise<Page<EvidenceEntry>> {
    checkCaseId(caseId);
    const prefix = casePrefix(caseId);
    return this.#scan('chain', page, prefix, prefix, prefixEnd(prefix));
  }

  async evidenceByInstitution(
    institution: string,
    fromMs: number,
    toMs: number,
    page?: PageRequest,
  ): Promise<Page<EvidenceEntry>> {
    checkInstitutionRange(institution, fromMs, toMs);
    const prefix = institutionPrefix(institution);
    return this.#scan('time', page, prefix, withTime(prefix, fromMs), withTime(prefix, toMs));
  }

  /** Walks index keys in [from, to), resuming strictly after the cursor position when there is one. */
  async #scan(
    kind: CursorKind,
    page: PageRequest | undefined,
    prefix: Uint8Array,
    from: Uint8Array,
    to: Uint8Array,
  ): Promise<Page<EvidenceEntry>> {
    this.#open();
    const { limit, after } = resolvePage(kind, page);
    const range: { gte?: Uint8Array; gt?: Uint8Array; lt: Uint8Array; limit: number } = {
      lt: to,
      limit: limit + 1,
    };
    const resume = after === undefined ? undefined : withPosition(prefix, after);
    if (resume !== undefined && Buffer.compare(resume, from) >= 0) range.gt = resume;
    else range.gte = from;
    const keys = await this.#db.keys(range).all();
    const positions = keys.slice(0, limit).map((k) => positionOfKey(k, kind === 'time'));
    const txs = await this.#txsAt(positions);
    const items = txs.map((t) => ({
      ...t,
      evidence: stored('evidence payload', () => decodeEvidence(t.env.tx.payload)),
    }));
    const next = keys.length > limit ? encodeCursor(kind, positions[limit - 1]!) : undefined;
    return { items, next };
  }

  async caseStates(caseIds: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    for (const id of caseIds) checkCaseId(id);
    this.#open();
    if (caseIds.length === 0) return [];
    const found = await this.#values(caseIds.map(caseStateKey));
    return found.map((v) => (v === undefined ? undefined : view(v)));
  }

  async cases(page?: PageRequest): Promise<Page<Uint8Array>> {
    this.#open();
    const { limit, after } = resolvePage('chain', page);
    const end = prefixEnd(CASE_OPENED_PREFIX);
    const range =
      after === undefined
        ? { gte: CASE_OPENED_PREFIX, lt: end, limit: limit + 1 }
        : { gt: withPosition(CASE_OPENED_PREFIX, after), lt: end, limit: limit + 1 };
    const entries = await this.#db.iterator(range).all();
    const shown = entries.slice(0, limit);
    const states = await this.#db.getMany(
      shown.map(([, id]) => caseStateKey(Buffer.from(view(id)).toString('utf8'))),
    );
    const items = states.map((v, i) => {
      if (v === undefined) throw new InvariantError(`the case list names a case with no state (${i})`);
      return view(v);
    });
    const last = shown[limit - 1];
    const next =
      entries.length > limit ? encodeCursor('chain', positionOfKey(view(last![0]), false)) : undefined;
    return { items, next };
  }

  async caseStats(): Promise<[string, Uint8Array][]> {
    this.#open();
    const all = await this.#db.iterator({ gte: CASE_STATS_PREFIX, lt: prefixEnd(CASE_STATS_PREFIX) }).all();
    return all.map(([k, v]) => [Buffer.from(view(k).subarray(1)).toString('utf8'), view(v)]);
  }

  /**
   * The values of `keys`, in order. A few are read on this thread: a read LevelDB finds in its cache costs
   * about 6 µs that way, against 30–50 µs of CPU for a round trip through the thread pool (bench/query.ts); a
   * read from disk blocks the event loop for its duration, bounded by SYNC_READS keys. More go in one
   * multi-get off the thread.
   */
  async #values(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (keys.length > SYNC_READS) return this.#db.getMany(keys as Uint8Array[]);
    return keys.map((k) => this.#db.getSync(k));
  }

  /** Loads txs by position, with their block times, in two multi-gets. */
  async #txsAt(positions: readonly Position[]): Promise<LedgerTx[]> {
    if (positions.length === 0) return [];
    const heights = [...new Set(positions.map((p) => p.height))];
    const [txBytes, blocks] = await Promise.all([
      this.#values(positions.map((p) => txAtKey(p.height, p.index))),
      this.#values(heights.map(blockKey)),
    ]);
    const timeOf = new Map<number, number>();
    heights.forEach((h, i) => {
      const rec = blocks[i];
      if (rec === undefined) throw new InvariantError(`index points at missing block ${h}`);
      timeOf.set(h, stored(`block ${h}`, () => decodeBlockRecord(view(rec))).header.time);
    });
    return positions.map((p, i) => {
      const bytes = txBytes[i];
      if (bytes === undefined) throw new InvariantError(`index points at missing tx ${p.height}/${p.index}`);
      const env = stored(`tx ${p.height}/${p.index}`, () => parseTx(view(bytes), this.#suite));
      return { env, height: p.height, index: p.index, blockTime: timeOf.get(p.height)! };
    });
  }

  /** Every raw entry in key order: for the integrity checker and tooling, not for queries. */
  async *rawEntries(): AsyncGenerator<[Uint8Array, Uint8Array]> {
    this.#open();
    for await (const [k, v] of this.#db.iterator()) yield [view(k), view(v)];
  }

  /** Compacts the whole key space (benchmarks measure the size on disk after it). */
  async compact(): Promise<void> {
    this.#open();
    // `level` resolves to classic-level on Node, which has compactRange; its browser-neutral type does not.
    const db = this.#db as unknown as { compactRange(start: Uint8Array, end: Uint8Array): Promise<void> };
    await db.compactRange(new Uint8Array([0x00]), new Uint8Array([0xff]));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.close();
  }
}
