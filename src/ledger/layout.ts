/**
 * The on-disk layout of the Level store: binary keys, and values in the core codec. Kept apart from
 * level-store.ts so the integrity checker can derive the exact key set a block must have written.
 *
 * | prefix | key                                             | value                                        |
 * |--------|-------------------------------------------------|----------------------------------------------|
 * | 0x00   | 00 01                                           | head: v1, height, hash[32], time             |
 * | 0x00   | 00 02                                           | anchor state: v1, anchored h, evidence h     |
 * | 0x00   | 00 03                                           | governance registry snapshot (ADR 006)       |
 * | 0x00   | 00 04                                           | governance index marker: v1 (see below)      |
 * | 0x01   | 01 height:u64                                   | block: v1, header, commit certificate        |
 * | 0x02   | 02 height:u64                                   | tx hashes: v1, count, count x hash[32]       |
 * | 0x03   | 03 height:u64 index:u16                         | the tx's canonical bytes                     |
 * | 0x04   | 04 txHash[32]                                   | location: v1, height, index                  |
 * | 0x05   | 05 alg:u8 evidenceHash[32/48/64] height index   | empty                                        |
 * | 0x06   | 06 len:u8 caseId height index                   | empty                                        |
 * | 0x07   | 07 len:u8 institution time:u64 height index     | empty                                        |
 * | 0x08   | 08 len:u8 institution nonce:u64                 | empty                                        |
 * | 0x09   | 09 key                                          | consensus engine value (opaque bytes)        |
 * | 0x0a   | 0a anchoredHeight:u64                           | location of the anchor tx: v1, height, index |
 * | 0x0b   | 0b height:u64 index:u16                         | empty (one per governance tx)                |
 * | 0x0c   | 0c len:u8 caseId                                | case state (case-state.ts)                   |
 * | 0x0d   | 0d height:u64 index:u16 (the open event)        | caseId (the list of cases, in opening order) |
 * | 0x0e   | 0e group (utf-8)                                | case statistics counters (case-stats.ts)     |
 * | 0x0f   | 0f anchoredHeight:u64                           | archive index entry (archive-index.ts)       |
 * | 0x00   | 00 05                                           | archive index marker: v1 (as 00 04)          |
 * | 0x10   | 10 evidenceTxHash[32]                           | location of its hash-renewal tx: v1, h, index |
 * | 0x11   | 11 requestTxHash[32]                            | location of the anchor that stamped it       |
 * | 0x12   | 12 len:u8 institution                           | location of its last audit head tx: v1, h, i |
 *
 * Fixed-width integers are big-endian, so byte order is numeric order and an index iterates in chain order
 * (the time index in time order, then chain order). Variable-length ids carry a length byte, so the prefix
 * of one id never matches a longer id ("case-1" vs "case-10"). Index entries live entirely in their key:
 * an empty value costs nothing, and the tx they point at is one `get` away (0x03). Values: integers are
 * varints, every record starts with a version byte. Anchor txs get no evidence or nonce entries; the anchor
 * index (0x0a) only grows, and its last key is the anchored height the anchor state also holds. The
 * governance index (0x0b) lists every governance tx in chain order, for receipts (docs/receipts.md). Block 1
 * writes the marker 00 04; a store opened without it predates the index and has it rebuilt once
 * (level-store.ts). The archive index (0x0f, ADR 016) has one entry per anchor that carries an archive
 * timestamp or a renewal, and its own marker 00 05, rebuilt the same way. The hash-renewal index (0x10) has
 * one entry per evidence tx a committed `hash-renewal` tx names (at most one each, a ledger rule), and 0x11
 * one per request an anchor's hash renewal stamped; both are newer than every data directory without them,
 * so there is nothing to rebuild.
 */
import {
  type BlockHeader,
  type CommitCertificate,
  readCertificate,
  readHeader,
  writeCertificate,
  writeHeader,
} from '../core/block.ts';
import { decodeExact, expectVersion, Writer } from '../core/codec.ts';
import { HASH_LENGTH } from '../core/crypto.ts';
import { invariant } from '../core/errors.ts';
import { type HashAlg, HashAlgs } from '../core/evidence.ts';
import { Limits } from '../core/limits.ts';
import { archiveIndexEntry, encodeArchiveEntry } from './archive-index.ts';
import type { ChainHead } from './chain.ts';
import type { Position } from './paging.ts';
import type { AnchorState, BlockWrite } from './store.ts';

export const Prefix = {
  meta: 0x00,
  block: 0x01,
  txHashes: 0x02,
  txAt: 0x03,
  txByHash: 0x04,
  evidenceByHash: 0x05,
  evidenceByCase: 0x06,
  evidenceByInstitution: 0x07,
  nonce: 0x08,
  consensus: 0x09,
  anchor: 0x0a,
  governance: 0x0b,
  caseState: 0x0c,
  caseOpened: 0x0d,
  caseStats: 0x0e,
  archive: 0x0f,
  hashRenewal: 0x10,
  hashRenewalStamp: 0x11,
  auditHead: 0x12,
} as const;

// A tx index is two bytes in keys; the protocol caps a block well below that.
invariant(Limits.blockTxs <= 0xffff, 'tx index must fit in a u16 key field');

const RECORD_VERSION = 1;
const EMPTY = new Uint8Array(0);
export const HEAD_KEY = new Uint8Array([Prefix.meta, 0x01]);
export const ANCHOR_STATE_KEY = new Uint8Array([Prefix.meta, 0x02]);
/** The governance registry snapshot (ADR 006), written with the blocks that change it. */
export const GOVERNANCE_KEY = new Uint8Array([Prefix.meta, 0x03]);
/** Present when the governance index (0x0b) covers every block: written with block 1, or by the rebuild. */
export const GOVERNANCE_INDEX_KEY = new Uint8Array([Prefix.meta, 0x04]);
export const GOVERNANCE_INDEX_MARKER = new Uint8Array([RECORD_VERSION]);
/** Present when the archive index (0x0f) covers every block: written with block 1, or by the rebuild. */
export const ARCHIVE_INDEX_KEY = new Uint8Array([Prefix.meta, 0x05]);
export const ARCHIVE_INDEX_MARKER = new Uint8Array([RECORD_VERSION]);

/** Builds keys of a known size without intermediate arrays. */
class KeyWriter {
  readonly buf: Uint8Array;
  private off = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  u8(v: number): this {
    this.buf[this.off++] = v;
    return this;
  }
  u16(v: number): this {
    this.buf[this.off++] = v >>> 8;
    this.buf[this.off++] = v & 0xff;
    return this;
  }
  u64(v: number): this {
    const hi = Math.floor(v / 0x1_0000_0000);
    const lo = v >>> 0;
    this.buf[this.off++] = 0;
    this.buf[this.off++] = (hi >>> 16) & 0xff;
    this.buf[this.off++] = (hi >>> 8) & 0xff;
    this.buf[this.off++] = hi & 0xff;
    this.buf[this.off++] = lo >>> 24;
    this.buf[this.off++] = (lo >>> 16) & 0xff;
    this.buf[this.off++] = (lo >>> 8) & 0xff;
    this.buf[this.off++] = lo & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.buf.set(b, this.off);
    this.off += b.length;
    return this;
  }
  done(): Uint8Array {
    invariant(this.off === this.buf.length, 'key size mismatch', { wrote: this.off, size: this.buf.length });
    return this.buf;
  }
}

function readU64(b: Uint8Array, off: number): number {
  let v = 0;
  for (let i = 0; i < 8; i++) v = v * 256 + b[off + i]!;
  return v;
}

const POSITION_BYTES = 10;
const idBytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

// ---- keys ----

export function blockKey(height: number): Uint8Array {
  return new KeyWriter(9).u8(Prefix.block).u64(height).done();
}

export function txHashesKey(height: number): Uint8Array {
  return new KeyWriter(9).u8(Prefix.txHashes).u64(height).done();
}

export function txAtKey(height: number, index: number): Uint8Array {
  return new KeyWriter(11).u8(Prefix.txAt).u64(height).u16(index).done();
}

export function txByHashKey(hash: Uint8Array): Uint8Array {
  return new KeyWriter(1 + HASH_LENGTH).u8(Prefix.txByHash).bytes(hash).done();
}

export function evidenceHashPrefix(alg: HashAlg, hash: Uint8Array): Uint8Array {
  return new KeyWriter(2 + hash.length).u8(Prefix.evidenceByHash).u8(HashAlgs[alg].code).bytes(hash).done();
}

export function casePrefix(caseId: string): Uint8Array {
  const id = idBytes(caseId);
  return new KeyWriter(2 + id.length).u8(Prefix.evidenceByCase).u8(id.length).bytes(id).done();
}

export function institutionPrefix(institution: string): Uint8Array {
  const id = idBytes(institution);
  return new KeyWriter(2 + id.length).u8(Prefix.evidenceByInstitution).u8(id.length).bytes(id).done();
}

export function nonceKey(institution: string, nonce: number): Uint8Array {
  const id = idBytes(institution);
  return new KeyWriter(10 + id.length).u8(Prefix.nonce).u8(id.length).bytes(id).u64(nonce).done();
}

export function consensusKey(key: Uint8Array): Uint8Array {
  return new KeyWriter(1 + key.length).u8(Prefix.consensus).bytes(key).done();
}

export function anchorKey(anchoredHeight: number): Uint8Array {
  return new KeyWriter(9).u8(Prefix.anchor).u64(anchoredHeight).done();
}

export function hashRenewalKey(evidenceTx: Uint8Array): Uint8Array {
  return new KeyWriter(1 + HASH_LENGTH).u8(Prefix.hashRenewal).bytes(evidenceTx).done();
}

export function hashRenewalStampKey(requestTx: Uint8Array): Uint8Array {
  return new KeyWriter(1 + HASH_LENGTH).u8(Prefix.hashRenewalStamp).bytes(requestTx).done();
}

export function archiveKey(anchoredHeight: number): Uint8Array {
  return new KeyWriter(9).u8(Prefix.archive).u64(anchoredHeight).done();
}

export function governanceKey(height: number, index: number): Uint8Array {
  return new KeyWriter(11).u8(Prefix.governance).u64(height).u16(index).done();
}

export function caseStateKey(caseId: string): Uint8Array {
  const id = idBytes(caseId);
  return new KeyWriter(2 + id.length).u8(Prefix.caseState).u8(id.length).bytes(id).done();
}

/** The institution's last audit head tx (ADR 015); stores before audit heads have none, so need no rebuild. */
export function auditHeadKey(institution: string): Uint8Array {
  const id = idBytes(institution);
  return new KeyWriter(2 + id.length).u8(Prefix.auditHead).u8(id.length).bytes(id).done();
}

export function caseStatsKey(group: string): Uint8Array {
  const id = idBytes(group);
  return new KeyWriter(1 + id.length).u8(Prefix.caseStats).bytes(id).done();
}

export const CASE_OPENED_PREFIX = new Uint8Array([Prefix.caseOpened]);
export const CASE_STATS_PREFIX = new Uint8Array([Prefix.caseStats]);
export const ANCHOR_PREFIX = new Uint8Array([Prefix.anchor]);
export const ARCHIVE_PREFIX = new Uint8Array([Prefix.archive]);
export const HASH_RENEWAL_PREFIX = new Uint8Array([Prefix.hashRenewal]);
export const GOVERNANCE_PREFIX = new Uint8Array([Prefix.governance]);
export const TX_AT_PREFIX = new Uint8Array([Prefix.txAt]);
export const CONSENSUS_PREFIX = new Uint8Array([Prefix.consensus]);

/** `prefix` followed by a position (with its time for the time index). */
export function withPosition(prefix: Uint8Array, p: Position): Uint8Array {
  const w = new KeyWriter(prefix.length + POSITION_BYTES + (p.time === undefined ? 0 : 8)).bytes(prefix);
  if (p.time !== undefined) w.u64(p.time);
  return w.u64(p.height).u16(p.index).done();
}

/** `prefix` followed by a bare time: the lower or upper bound of a time-range scan. */
export function withTime(prefix: Uint8Array, time: number): Uint8Array {
  return new KeyWriter(prefix.length + 8).bytes(prefix).u64(time).done();
}

/** The smallest key greater than every key that starts with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  throw new RangeError('prefix has no upper bound');
}

/** The position at the end of an index key; `timed` for the institution/time index. */
export function positionOfKey(key: Uint8Array, timed: boolean): Position {
  const end = key.length;
  const p: Position = { height: readU64(key, end - 10), index: (key[end - 2]! << 8) | key[end - 1]! };
  if (timed) p.time = readU64(key, end - 18);
  return p;
}

// ---- values ----

export function encodeHead(h: ChainHead): Uint8Array {
  return new Writer(48)
    .u8(RECORD_VERSION)
    .varint(h.height)
    .fixed(h.hash, HASH_LENGTH)
    .varint(h.time)
    .finish();
}

export function decodeHead(b: Uint8Array): ChainHead {
  return decodeExact(b, 64, 'head record', (r) => {
    expectVersion(r, RECORD_VERSION, 'head record');
    return { height: r.varint('height'), hash: r.fixed(HASH_LENGTH, 'hash'), time: r.varint('time') };
  });
}

export function encodeAnchorState(s: AnchorState): Uint8Array {
  return new Writer(24).u8(RECORD_VERSION).varint(s.anchoredHeight).varint(s.evidenceHeight).finish();
}

export function decodeAnchorState(b: Uint8Array): AnchorState {
  return decodeExact(b, 24, 'anchor state', (r) => {
    expectVersion(r, RECORD_VERSION, 'anchor state');
    return { anchoredHeight: r.varint('anchored height'), evidenceHeight: r.varint('evidence height') };
  });
}

export function encodeBlockRecord(header: BlockHeader, cert: CommitCertificate): Uint8Array {
  const w = new Writer(512).u8(RECORD_VERSION);
  writeHeader(w, header);
  writeCertificate(w, cert);
  return w.finish();
}

export function decodeBlockRecord(b: Uint8Array): { header: BlockHeader; cert: CommitCertificate } {
  return decodeExact(b, 256 + Limits.commitCertificateBytes, 'block record', (r) => {
    expectVersion(r, RECORD_VERSION, 'block record');
    return { header: readHeader(r), cert: readCertificate(r) };
  });
}

export function encodeTxHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(8 + hashes.length * HASH_LENGTH).u8(RECORD_VERSION).varint(hashes.length);
  for (const h of hashes) w.fixed(h, HASH_LENGTH);
  return w.finish();
}

export function decodeTxHashes(b: Uint8Array): Uint8Array[] {
  return decodeExact(b, 8 + Limits.blockTxs * HASH_LENGTH, 'tx hash list', (r) => {
    expectVersion(r, RECORD_VERSION, 'tx hash list');
    const n = r.varintIn(0, Limits.blockTxs, 'tx count');
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(r.fixed(HASH_LENGTH, 'tx hash'));
    return out;
  });
}

export function encodeLocation(height: number, index: number): Uint8Array {
  return new Writer(16).u8(RECORD_VERSION).varint(height).varint(index).finish();
}

export function decodeLocation(b: Uint8Array): { height: number; index: number } {
  return decodeExact(b, 16, 'tx location', (r) => {
    expectVersion(r, RECORD_VERSION, 'tx location');
    return { height: r.varint('height'), index: r.varint('index') };
  });
}

// ---- one block's writes ----

/**
 * Every key/value a committed block adds, head and anchor state (`state`, as of this block) included. One
 * Level batch writes exactly these.
 */
export function blockEntries(write: BlockWrite, state: AnchorState): [Uint8Array, Uint8Array][] {
  const { header, hash, cert, txs, records } = write;
  const height = header.height;
  const out: [Uint8Array, Uint8Array][] = [
    [blockKey(height), encodeBlockRecord(header, cert)],
    [txHashesKey(height), encodeTxHashes(txs.map((t) => t.hash))],
    [HEAD_KEY, encodeHead({ height, hash, time: header.time })],
    [ANCHOR_STATE_KEY, encodeAnchorState(state)],
  ];
  if (write.governance !== undefined) out.push([GOVERNANCE_KEY, write.governance]);
  if (height === 1) {
    out.push([GOVERNANCE_INDEX_KEY, GOVERNANCE_INDEX_MARKER], [ARCHIVE_INDEX_KEY, ARCHIVE_INDEX_MARKER]);
  }
  for (const c of write.cases ?? []) {
    out.push([caseStateKey(c.caseId), c.state]);
    if (c.opened !== undefined)
      out.push([withPosition(CASE_OPENED_PREFIX, c.opened), Buffer.from(c.caseId, 'utf8')]);
  }
  for (const [group, counters] of write.caseStats ?? []) out.push([caseStatsKey(group), counters]);
  for (let index = 0; index < txs.length; index++) {
    const env = txs[index]!;
    const record = records[index]!;
    const at = { height, index };
    out.push([txAtKey(height, index), env.bytes], [txByHashKey(env.hash), encodeLocation(height, index)]);
    if (record.type === 'anchor') {
      out.push([anchorKey(record.anchor.height), encodeLocation(height, index)]);
      const entry = archiveIndexEntry(record.anchor, height, index);
      if (entry !== undefined) out.push([archiveKey(entry.anchored), encodeArchiveEntry(entry)]);
      for (const q of record.anchor.hashRenewal?.requests ?? []) {
        out.push([hashRenewalStampKey(q), encodeLocation(height, index)]);
      }
      continue;
    }
    // Governance txs: their effect is the registry snapshot above; receipts list them from the index.
    if (record.type === 'governance') {
      out.push([governanceKey(height, index), EMPTY]);
      continue;
    }
    // Audit heads: a later one in the block overwrites the earlier key, so the last one stays.
    if (record.type === 'audit') {
      out.push([auditHeadKey(env.tx.institution), encodeLocation(height, index)]);
      continue;
    }
    // Case txs: their effect is the case state below; they use up their nonce like evidence.
    if (record.type === 'case') {
      out.push([nonceKey(env.tx.institution, env.tx.nonce), EMPTY]);
      continue;
    }
    if (record.type === 'hash-renewal') {
      out.push(
        [hashRenewalKey(record.renewal.evidenceTx), encodeLocation(height, index)],
        [nonceKey(env.tx.institution, env.tx.nonce), EMPTY],
      );
      continue;
    }
    const ev = record.evidence;
    out.push(
      [withPosition(evidenceHashPrefix(ev.hashAlg, ev.hash), at), EMPTY],
      [withPosition(casePrefix(ev.caseId), at), EMPTY],
      [withPosition(institutionPrefix(env.tx.institution), { time: header.time, ...at }), EMPTY],
      [nonceKey(env.tx.institution, env.tx.nonce), EMPTY],
    );
  }
  return out;
}
