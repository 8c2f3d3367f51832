/**
 * An in-memory LedgerStore for tests and simulations. It is written independently of the Level layout, so
 * the shared compliance suite compares two implementations rather than one with itself. Atomicity: commitBlock
 * checks and prepares everything first, then applies it with no await and nothing left that can throw.
 */
import type { BlockHeader } from '../core/block.ts';
import { fromHex, toHex } from '../core/bytes.ts';
import { invariant } from '../core/errors.ts';
import type { HashAlg } from '../core/evidence.ts';
import { HashAlgs } from '../core/evidence.ts';
import type { TxEnvelope } from '../core/tx.ts';
import { type ArchiveIndexEntry, archiveIndexEntry, carriesStamp } from './archive-index.ts';
import type { ChainHead } from './chain.ts';
import { LedgerError, LedgerErrorCode } from './errors.ts';
import {
  type CursorKind,
  checkCaseId,
  checkEvidenceHash,
  checkHeight,
  checkHeightRange,
  checkInstitutionRange,
  comparePositions,
  encodeCursor,
  type Position,
  resolvePage,
} from './paging.ts';
import type { TxRecord } from './records.ts';
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

interface BlockData {
  block: StoredBlock;
  txs: readonly TxEnvelope[];
  records: readonly TxRecord[];
}

/** An anchor index entry: the anchored height, and where the anchor tx is. */
interface AnchorAt {
  anchored: number;
  at: Position;
}

const evidenceKey = (alg: HashAlg, hash: Uint8Array): string => `${HashAlgs[alg].code}:${toHex(hash)}`;

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** First index in the sorted `list` whose entry is greater than `p` (or not less than it, if `inclusive`). */
function lowerBound(list: readonly Position[], p: Position, inclusive: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = comparePositions(list[mid]!, p);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class MemoryLedgerStore implements LedgerStore {
  readonly consensus: ConsensusKv;
  #head: ChainHead | undefined;
  readonly #blocks: BlockData[] = [];
  readonly #byHash = new Map<string, Position>();
  /** Evidence tx hash (hex) -> where the hash-renewal tx naming it is (insertion: chain order). */
  readonly #hashRenewals = new Map<string, Position>();
  /** Where each hash-renewal tx is, in chain order. */
  readonly #hashRenewalsAt: Position[] = [];
  /** Anchors that carry a stamp or stamp renewals, in chain order. */
  readonly #stampAnchors: Position[] = [];
  /** Request tx hash (hex) -> where the anchor that stamped it is. */
  readonly #hashRenewalStamps = new Map<string, Position>();
  // Index lists are appended block by block, so they stay sorted in chain (and time) order.
  readonly #byEvidence = new Map<string, Position[]>();
  readonly #byCase = new Map<string, Position[]>();
  readonly #byInstitution = new Map<string, Position[]>();
  readonly #nonces = new Map<string, Set<number>>();
  /** Sorted by anchored height: commitBlock only accepts anchors that raise it. */
  readonly #anchors: AnchorAt[] = [];
  /** The archive index (archive-index.ts), in chain order. */
  readonly #archiveIndex: ArchiveIndexEntry[] = [];
  /** Positions of governance txs, in chain order. */
  readonly #governanceAt: Position[] = [];
  /** Where each institution's last audit head tx is. */
  readonly #auditHeads = new Map<string, Position>();
  #anchorState: AnchorState = NO_ANCHOR_STATE;
  #governance: Uint8Array | undefined;
  readonly #caseStates = new Map<string, Uint8Array>();
  /** Case ids with the position of their open event, in opening (chain) order. */
  readonly #casesOpened: { at: Position; caseId: string }[] = [];
  readonly #caseStats = new Map<string, Uint8Array>();
  readonly #consensusState = new Map<string, Uint8Array>();
  #closed = false;

  constructor() {
    const kv = this.#consensusState;
    this.consensus = {
      get: async (key) => {
        checkConsensusKey(key);
        this.#open();
        return kv.get(toHex(key))?.slice();
      },
      put: async (key, value) => {
        checkConsensusKey(key);
        this.#open();
        kv.set(toHex(key), value.slice());
      },
      delete: async (key) => {
        checkConsensusKey(key);
        this.#open();
        kv.delete(toHex(key));
      },
      // Hex keys sort like the bytes they encode (two digits per byte, shorter prefixes first).
      entries: async () => {
        this.#open();
        return [...kv.keys()].sort().map((k) => [fromHex(k), kv.get(k)!.slice()] as const);
      },
      write: async (ops) => {
        for (const o of ops) checkConsensusKey(o.key);
        this.#open();
        for (const o of ops) {
          if (o.op === 'put') kv.set(toHex(o.key), o.value.slice());
          else kv.delete(toHex(o.key));
        }
      },
    };
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
    assertExtendsHead(this.#head, this.#anchorState.anchoredHeight, write);
    const anchorState = nextAnchorState(this.#anchorState, write);
    const { header, hash, cert } = write;
    const height = header.height;
    const txs = [...write.txs];
    const records = [...write.records];
    const data: BlockData = {
      block: { header, hash, cert, txHashes: txs.map((t) => t.hash) },
      txs,
      records,
    };
    // Nothing below can throw: the block is applied whole.
    this.#blocks.push(data);
    txs.forEach((env, index) => {
      const at: Position = { height, index };
      const record = records[index]!;
      this.#byHash.set(env.hashHex, at);
      if (record.type === 'anchor') {
        this.#anchors.push({ anchored: record.anchor.height, at });
        const entry = archiveIndexEntry(record.anchor, height, index);
        if (entry !== undefined) this.#archiveIndex.push(entry);
        for (const q of record.anchor.hashRenewal?.requests ?? []) this.#hashRenewalStamps.set(toHex(q), at);
        if (carriesStamp(record.anchor)) this.#stampAnchors.push(at);
        return;
      }
      if (record.type === 'governance') {
        this.#governanceAt.push(at);
        return;
      }
      if (record.type === 'audit') {
        this.#auditHeads.set(env.tx.institution, at);
        return;
      }
      this.#useNonce(env.tx.institution, env.tx.nonce);
      if (record.type === 'case') return;
      if (record.type === 'hash-renewal') {
        this.#hashRenewals.set(toHex(record.renewal.evidenceTx), at);
        this.#hashRenewalsAt.push(at);
        return;
      }
      const ev = record.evidence;
      push(this.#byEvidence, evidenceKey(ev.hashAlg, ev.hash), at);
      push(this.#byCase, ev.caseId, at);
      push(this.#byInstitution, env.tx.institution, { time: header.time, height, index });
    });
    for (const c of write.cases ?? []) {
      this.#caseStates.set(c.caseId, c.state.slice());
      if (c.opened !== undefined) this.#casesOpened.push({ at: { ...c.opened }, caseId: c.caseId });
    }
    for (const [group, counters] of write.caseStats ?? []) this.#caseStats.set(group, counters.slice());
    this.#head = { height, hash, time: header.time };
    this.#anchorState = anchorState;
    if (write.governance !== undefined) this.#governance = write.governance.slice();
  }

  #useNonce(institution: string, nonce: number): void {
    const used = this.#nonces.get(institution);
    if (used === undefined) this.#nonces.set(institution, new Set([nonce]));
    else used.add(nonce);
  }

  async caseStates(caseIds: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    for (const id of caseIds) checkCaseId(id);
    this.#open();
    return caseIds.map((id) => this.#caseStates.get(id)?.slice());
  }

  async cases(page?: PageRequest): Promise<Page<Uint8Array>> {
    this.#open();
    const { limit, after } = resolvePage('chain', page);
    const list = this.#casesOpened;
    const start =
      after === undefined
        ? 0
        : lowerBound(
            list.map((c) => c.at),
            after,
            false,
          );
    const shown = list.slice(start, start + limit);
    const items = shown.map((c) => this.#caseStates.get(c.caseId)!.slice());
    const next = start + limit < list.length ? encodeCursor('chain', shown[limit - 1]!.at) : undefined;
    return { items, next };
  }

  async caseStats(): Promise<[string, Uint8Array][]> {
    this.#open();
    return [...this.#caseStats.keys()].sort().map((k) => [k, this.#caseStats.get(k)!.slice()]);
  }

  async block(height: number): Promise<StoredBlock | undefined> {
    this.#open();
    return Number.isSafeInteger(height) && height >= 1 ? this.#blocks[height - 1]?.block : undefined;
  }

  async governanceTxs(beforeHeight: number): Promise<LedgerTx[]> {
    checkHeight(beforeHeight);
    this.#open();
    return this.#governanceAt.filter((p) => p.height < beforeHeight).map((p) => this.#entry(p));
  }

  async auditHead(institution: string): Promise<LedgerTx | undefined> {
    this.#open();
    const at = this.#auditHeads.get(institution);
    return at === undefined ? undefined : this.#entry(at);
  }

  async blockTxs(height: number): Promise<TxEnvelope[] | undefined> {
    this.#open();
    if (!Number.isSafeInteger(height) || height < 1) return undefined;
    const data = this.#blocks[height - 1];
    return data === undefined ? undefined : [...data.txs];
  }

  async blockTxBytes(height: number): Promise<Uint8Array[] | undefined> {
    return (await this.blockTxs(height))?.map((t) => t.bytes);
  }

  async headers(fromHeight: number, toHeight: number): Promise<BlockHeader[]> {
    checkHeightRange(fromHeight, toHeight);
    this.#open();
    return this.#blocks.slice(fromHeight - 1, toHeight).map((b) => b.block.header);
  }

  async archiveIndex(from = 1): Promise<ArchiveIndexEntry[]> {
    checkHeight(from);
    this.#open();
    return this.#archiveIndex.filter((e) => e.anchored >= from);
  }

  async anchorCovering(height: number): Promise<AnchorEntry | undefined> {
    checkHeight(height);
    this.#open();
    let lo = 0;
    let hi = this.#anchors.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#anchors[mid]!.anchored < height) lo = mid + 1;
      else hi = mid;
    }
    const found = this.#anchors[lo];
    if (found === undefined) return undefined;
    const record = this.#blocks[found.at.height - 1]!.records[found.at.index]!;
    invariant(record.type === 'anchor', 'the anchor index points at a tx that is not an anchor');
    return { ...this.#entry(found.at), anchor: record.anchor };
  }

  async tx(hash: Uint8Array): Promise<LedgerTx | undefined> {
    this.#open();
    if (!(hash instanceof Uint8Array)) return undefined;
    const at = this.#byHash.get(toHex(hash));
    return at === undefined ? undefined : this.#entry(at);
  }

  async hashRenewalOf(evidenceTx: Uint8Array): Promise<LedgerTx | undefined> {
    this.#open();
    if (!(evidenceTx instanceof Uint8Array)) return undefined;
    const at = this.#hashRenewals.get(toHex(evidenceTx));
    return at === undefined ? undefined : this.#entry(at);
  }

  async hashRenewalStampOf(requestTx: Uint8Array): Promise<LedgerTx | undefined> {
    this.#open();
    if (!(requestTx instanceof Uint8Array)) return undefined;
    const at = this.#hashRenewalStamps.get(toHex(requestTx));
    return at === undefined ? undefined : this.#entry(at);
  }

  async hashRenewalRequests(): Promise<LedgerTx[]> {
    this.#open();
    return [...this.#hashRenewals.values()].map((at) => this.#entry(at));
  }

  async hashRenewalRequestsFrom(fromHeight: number): Promise<LedgerTx[]> {
    checkHeight(fromHeight);
    this.#open();
    return this.#hashRenewalsAt.filter((at) => at.height >= fromHeight).map((at) => this.#entry(at));
  }

  async stampAnchors(): Promise<AnchorEntry[]> {
    this.#open();
    return this.#stampAnchors.map((at) => {
      const record = this.#blocks[at.height - 1]!.records[at.index]!;
      invariant(record.type === 'anchor', 'the stamp index points at a tx that is not an anchor');
      return { ...this.#entry(at), anchor: record.anchor };
    });
  }

  async noncesUsed(keys: readonly NonceKey[]): Promise<boolean[]> {
    this.#open();
    return keys.map((k) => this.#nonces.get(k.institution)?.has(k.nonce) ?? false);
  }

  async evidenceByHash(hashAlg: HashAlg, hash: Uint8Array, page?: PageRequest): Promise<Page<EvidenceEntry>> {
    checkEvidenceHash(hashAlg, hash);
    return this.#page('chain', page, this.#byEvidence.get(evidenceKey(hashAlg, hash)));
  }

  async evidenceByCase(caseId: string, page?: PageRequest): Promise<Page<EvidenceEntry>> {
    checkCaseId(caseId);
    return this.#page('chain', page, this.#byCase.get(caseId));
  }

  async evidenceByInstitution(
    institution: string,
    fromMs: number,
    toMs: number,
    page?: PageRequest,
  ): Promise<Page<EvidenceEntry>> {
    checkInstitutionRange(institution, fromMs, toMs);
    return this.#page('time', page, this.#byInstitution.get(institution), fromMs, toMs);
  }

  #page(
    kind: CursorKind,
    page: PageRequest | undefined,
    list: readonly Position[] = [],
    fromMs = 0,
    toMs = Number.MAX_SAFE_INTEGER,
  ): Page<EvidenceEntry> {
    this.#open();
    const { limit, after } = resolvePage(kind, page);
    let start = kind === 'time' ? lowerBound(list, { time: fromMs, height: 0, index: 0 }, true) : 0;
    if (after !== undefined) start = Math.max(start, lowerBound(list, after, false));
    const end = kind === 'time' ? lowerBound(list, { time: toMs, height: 0, index: 0 }, true) : list.length;
    const positions = list.slice(start, Math.min(end, start + limit));
    const items = positions.map((at) => this.#evidenceEntry(at));
    const next = start + limit < end ? encodeCursor(kind, positions[limit - 1]!) : undefined;
    return { items, next };
  }

  #entry(at: Position): LedgerTx {
    const data = this.#blocks[at.height - 1]!;
    return {
      env: data.txs[at.index]!,
      height: at.height,
      index: at.index,
      blockTime: data.block.header.time,
    };
  }

  #evidenceEntry(at: Position): EvidenceEntry {
    const record = this.#blocks[at.height - 1]!.records[at.index]!;
    invariant(record.type === 'evidence', 'an evidence index points at a tx that is not evidence');
    return { ...this.#entry(at), evidence: record.evidence };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
