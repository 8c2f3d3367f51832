/**
 * The message log: one entry per sequence number inside the watermark window (h, h+L]. An entry holds the
 * accepted PRE-PREPARE of its current view, the PREPARE and COMMIT votes of that view (one per sender), the
 * latest prepared certificate (of any view; reported in VIEW-CHANGEs), and batch bodies. The log also indexes
 * the txs of live batches, so a batch that repeats a tx of another live entry can be refused and the primary
 * does not propose a tx twice.
 */
import type { Batch } from '../core/batch.ts';
import { toHex } from '../core/bytes.ts';
import type { PreparedCertificate } from './messages.ts';

export interface Vote {
  /** Digest (PREPARE) or header hash (COMMIT). */
  value: Uint8Array;
  valueHex: string;
  signature: Uint8Array;
}

export class LogEntry {
  readonly seq: number;
  /** The view the accepted PRE-PREPARE and the votes below belong to. */
  view: number;
  digest: Uint8Array | undefined;
  digestHex: string | undefined;
  prePrepareSignature: Uint8Array | undefined;
  /** Body of `digest`, once known. */
  batch: Batch | undefined;
  readonly prepares = new Map<number, Vote>();
  readonly commits = new Map<number, Vote>();
  /** Prepared in `view`. */
  prepared = false;
  /** The prepared certificate of the highest view this replica prepared seq in. */
  preparedCert: PreparedCertificate | undefined;
  /** Body of preparedCert.digest when it differs from `digest` (kept to serve fetches). */
  preparedBatch: Batch | undefined;
  /** Header hashes of blocks built for this seq, by batch digest. */
  readonly builtHashes = new Map<string, Uint8Array>();
  /** A body fetch is outstanding for `digest`. */
  fetching = false;
  /** Digest hexes of this entry's batch records in the store. */
  readonly persistedBodies = new Set<string>();

  constructor(seq: number, view: number) {
    this.seq = seq;
    this.view = view;
  }

  /** The accepted PRE-PREPARE and the votes of the old view no longer count (use Log.moveToView). */
  resetToView(view: number): void {
    this.view = view;
    this.digest = undefined;
    this.digestHex = undefined;
    this.prePrepareSignature = undefined;
    this.prepares.clear();
    this.commits.clear();
    this.prepared = false;
    this.fetching = false;
  }

  /** Batch bodies this entry holds, by digest hex. */
  bodies(): Map<string, Batch> {
    const out = new Map<string, Batch>();
    if (this.batch && this.digestHex) out.set(this.digestHex, this.batch);
    if (this.preparedBatch && this.preparedCert) out.set(toHex(this.preparedCert.digest), this.preparedBatch);
    return out;
  }
}

export class Log {
  private readonly entries = new Map<number, LogEntry>();
  /** tx hash hex → seq of the live entry whose current batch holds it. */
  private readonly txIndex = new Map<string, number>();
  private readonly onIndex: (hashHex: string, indexed: boolean) => void;

  /** `onIndex` hears every tx entering or leaving the index of live batches. */
  constructor(onIndex: (hashHex: string, indexed: boolean) => void = () => {}) {
    this.onIndex = onIndex;
  }

  get size(): number {
    return this.entries.size;
  }

  get inFlightTxs(): number {
    return this.txIndex.size;
  }

  get(seq: number): LogEntry | undefined {
    return this.entries.get(seq);
  }

  getOrCreate(seq: number, view: number): LogEntry {
    let e = this.entries.get(seq);
    if (e === undefined) {
      e = new LogEntry(seq, view);
      this.entries.set(seq, e);
    }
    return e;
  }

  values(): IterableIterator<LogEntry> {
    return this.entries.values();
  }

  /** Entries in ascending seq order. */
  sorted(): LogEntry[] {
    return [...this.entries.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Seq of the live entry holding tx `hashHex` other than `seq`, if any. */
  txElsewhere(hashHex: string, seq: number): number | undefined {
    const at = this.txIndex.get(hashHex);
    return at !== undefined && at !== seq ? at : undefined;
  }

  hasTx(hashHex: string): boolean {
    return this.txIndex.has(hashHex);
  }

  /** Sets the entry's current body, keeping the tx index in step. */
  setBatch(e: LogEntry, batch: Batch | undefined): void {
    if (e.batch) this.unindex(e.batch, e.seq);
    e.batch = batch;
    if (batch) {
      for (const t of batch.txs) {
        const fresh = !this.txIndex.has(t.hashHex);
        this.txIndex.set(t.hashHex, e.seq);
        if (fresh) this.onIndex(t.hashHex, true);
      }
    }
  }

  /** Seq of the live entry whose current batch holds tx `hashHex`. */
  txSeq(hashHex: string): number | undefined {
    return this.txIndex.get(hashHex);
  }

  /** Moves an entry to a later view. Its old body is kept only if it is the body of its prepared certificate. */
  moveToView(e: LogEntry, view: number): void {
    if (e.view >= view) return;
    if (e.batch && e.preparedCert && e.digestHex === toHex(e.preparedCert.digest)) e.preparedBatch = e.batch;
    this.setBatch(e, undefined);
    e.resetToView(view);
  }

  /** Removes entries at or below `seq`; returns them. */
  pruneTo(seq: number): LogEntry[] {
    const removed: LogEntry[] = [];
    for (const [s, e] of this.entries) {
      if (s <= seq) {
        if (e.batch) this.unindex(e.batch, s);
        this.entries.delete(s);
        removed.push(e);
      }
    }
    return removed;
  }

  /** Finds a body by digest among live entries (to answer peers' fetches, or to reuse after a view change). */
  findBody(digestHex: string): Batch | undefined {
    for (const e of this.entries.values()) {
      const b = e.bodies().get(digestHex);
      if (b) return b;
    }
    return undefined;
  }

  private unindex(batch: Batch, seq: number): void {
    for (const t of batch.txs) {
      if (this.txIndex.get(t.hashHex) === seq) {
        this.txIndex.delete(t.hashHex);
        this.onIndex(t.hashHex, false);
      }
    }
  }
}
