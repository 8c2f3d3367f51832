/**
 * The `/jrchain/sync/1.0.0` request/response messages (docs/p2p.md, "Sync protocol"). One request frame and one
 * response frame per stream; both start with `u8 version (1) ‖ u8 kind`, and every decode is strict (canonical
 * varints, known kinds, no trailing bytes).
 *
 *   kind 1 status  request: (empty)
 *                  response: varint height ‖ [height ≥ 1: Header ‖ CommitCertificate] ‖ CheckpointProof(stable)
 *   kind 2 blocks  request: varint from (≥ 1) ‖ varint count (1..SYNC_MAX_BLOCKS)
 *                  response: varint n ‖ (Header ‖ CommitCertificate ‖ varint txCount ‖ (bytes tx)*)^n
 *                  blocks from, from+1, ...: as many as the responder has and fit its response limit (n may be 0)
 *   kind 3 batch   request: h32 digest
 *                  response: bool found ‖ [Batch]
 *   kind 4 txs     request: h32 digest ‖ varint n (1..Limits.blockTxs) ‖ varint index* (strictly increasing)
 *                  response: bool found ‖ [varint n ‖ (bytes tx)*]
 *                  txs of the batch with that digest, at those indexes (a backup missing some txs a compact
 *                  PRE-PREPARE named); not found when the responder holds no such batch or it is shorter
 *   kind 5 sigs    request: varint from (≥ 1) ‖ varint count (1..SYNC_MAX_BLOCKS)
 *                  response: bool found ‖ [h32 signaturesDigest]
 *                  the digest of the client signatures of blocks from..from+count-1 (signaturesDigest below);
 *                  not found when the responder does not hold all of them
 *
 * Header and CommitCertificate are the ledger encodings of src/core/block.ts; CheckpointProof and Batch those of
 * src/consensus/messages.ts.
 */

import { createHash } from 'node:crypto';
import {
  type CheckpointProof,
  readBatch,
  readCheckpointProof,
  writeBatch,
  writeCheckpointProof,
} from '../../consensus/messages.ts';
import type { Batch } from '../../core/batch.ts';
import {
  type BlockHeader,
  type CommitCertificate,
  readCertificate,
  readHeader,
  writeCertificate,
  writeHeader,
} from '../../core/block.ts';
import { utf8 } from '../../core/bytes.ts';
import {
  CodecError,
  CodecErrorCode,
  decodeExact,
  expectVersion,
  type Reader,
  Writer,
} from '../../core/codec.ts';
import { HASH_LENGTH, SIGNATURE_LENGTH } from '../../core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../../core/crypto-suite.ts';
import { InvariantError } from '../../core/errors.ts';
import { Limits } from '../../core/limits.ts';
import { parseTx, type TxEnvelope } from '../../core/tx.ts';
import { SyncError, SyncErrorCode } from './errors.ts';

export const SYNC_VERSION = 1;
/** Most blocks one request may ask for (part of the protocol). */
export const SYNC_MAX_BLOCKS = 1024;

export const SyncKind = { status: 1, blocks: 2, batch: 3, txs: 4, sigs: 5 } as const;
export type SyncKind = keyof typeof SyncKind;
const kindByCode = new Map<number, SyncKind>(
  Object.entries(SyncKind).map(([k, v]) => [v, k as SyncKind] as const),
);

export type SyncRequest =
  | { readonly kind: 'status' }
  | { readonly kind: 'blocks'; readonly from: number; readonly count: number }
  | { readonly kind: 'sigs'; readonly from: number; readonly count: number }
  | { readonly kind: 'batch'; readonly digest: Uint8Array }
  | { readonly kind: 'txs'; readonly digest: Uint8Array; readonly indexes: readonly number[] };

export interface SyncHead {
  readonly header: BlockHeader;
  readonly cert: CommitCertificate;
}

export interface SyncStatus {
  /** The responder's chain head height; 0 before the first block. */
  readonly height: number;
  /** The head block's header and commit certificate; undefined at height 0. */
  readonly head: SyncHead | undefined;
  /** The responder's stable checkpoint with its quorum proof (seq 0: the genesis, no signatures). */
  readonly stable: CheckpointProof;
}

export interface SyncBlock {
  readonly header: BlockHeader;
  readonly cert: CommitCertificate;
  readonly txs: readonly TxEnvelope[];
}

/**
 * A block of a blocks response with its txs not yet parsed: views into the response. The sync client parses
 * a block's txs (decodeBlockTxs) only when it executes that block, so a range of up to 16 MiB is never held
 * as decoded txs all at once (issue 19: the peak heap halved).
 */
export interface RawSyncBlock {
  readonly header: BlockHeader;
  readonly cert: CommitCertificate;
  readonly txBytes: readonly Uint8Array[];
}

function start(kind: SyncKind, capacity = 64): Writer {
  return new Writer(capacity).u8(SYNC_VERSION).u8(SyncKind[kind]);
}

function readKind(r: Reader, what: string): SyncKind {
  expectVersion(r, SYNC_VERSION, what);
  const code = r.u8(`${what} kind`);
  const kind = kindByCode.get(code);
  if (kind === undefined) throw new CodecError(CodecErrorCode.unknownType, `unknown ${what} kind ${code}`);
  return kind;
}

function expectKind(r: Reader, kind: SyncKind): void {
  const got = readKind(r, 'sync response');
  if (got !== kind)
    throw new CodecError(CodecErrorCode.unknownType, `expected a ${kind} response, got ${got}`);
}

// ---- requests ----

export function encodeSyncRequest(req: SyncRequest): Uint8Array {
  const w = start(req.kind);
  if (req.kind === 'blocks' || req.kind === 'sigs') w.varint(req.from).varint(req.count);
  else if (req.kind === 'batch') w.fixed(req.digest, HASH_LENGTH);
  else if (req.kind === 'txs') {
    w.fixed(req.digest, HASH_LENGTH).varint(req.indexes.length);
    for (const i of req.indexes) w.varint(i);
  }
  return w.finish();
}

export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  return decodeExact(bytes, bytes.length, 'sync request', (r): SyncRequest => {
    const kind = readKind(r, 'sync request');
    switch (kind) {
      case 'status':
        return { kind };
      case 'blocks':
      case 'sigs':
        return {
          kind,
          from: r.varintIn(1, Number.MAX_SAFE_INTEGER, 'from'),
          count: r.varintIn(1, SYNC_MAX_BLOCKS, 'count'),
        };
      case 'batch':
        return { kind, digest: r.fixed(HASH_LENGTH, 'digest') };
      case 'txs':
        return { kind, digest: r.fixed(HASH_LENGTH, 'digest'), indexes: readIndexes(r) };
    }
  });
}

function readIndexes(r: Reader): number[] {
  const n = r.varintIn(1, Limits.blockTxs, 'index count');
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = r.varintIn(0, Limits.blockTxs - 1, 'tx index');
    if (k > 0 && i <= out[k - 1]!)
      throw new CodecError(CodecErrorCode.nonCanonical, 'tx indexes must be strictly increasing');
    out.push(i);
  }
  return out;
}

// ---- responses ----

export function encodeStatusResponse(s: SyncStatus): Uint8Array {
  const w = start('status', 512).varint(s.height);
  if ((s.height === 0) !== (s.head === undefined))
    throw new RangeError('a status has a head exactly above 0');
  if (s.head !== undefined) {
    writeHeader(w, s.head.header);
    writeCertificate(w, s.head.cert);
  }
  writeCheckpointProof(w, s.stable);
  return w.finish();
}

export function decodeStatusResponse(bytes: Uint8Array): SyncStatus {
  return decodeExact(bytes, bytes.length, 'status response', (r) => {
    expectKind(r, 'status');
    const height = r.varint('height');
    let head: SyncHead | undefined;
    if (height > 0) {
      head = { header: readHeader(r), cert: readCertificate(r) };
      if (head.header.height !== height) {
        throw new CodecError(CodecErrorCode.invalidField, 'status head header is not at the status height');
      }
    }
    return { height, head, stable: readCheckpointProof(r) };
  });
}

/** One block of a blocks response, encoded on its own so a server can stop at its size budget. */
export function encodeSyncBlock(
  header: BlockHeader,
  cert: CommitCertificate,
  txs: readonly { readonly bytes: Uint8Array }[],
): Uint8Array {
  const w = new Writer(256 + cert.signatures.length * 70 + txs.reduce((n, t) => n + t.bytes.length + 3, 0));
  writeHeader(w, header);
  writeCertificate(w, cert);
  w.varint(txs.length);
  for (const t of txs) w.bytes(t.bytes);
  return w.finish();
}

/** Bytes a blocks response adds around its encoded blocks (version, kind, count). */
export const BLOCKS_RESPONSE_OVERHEAD = 2 + 9;

export function encodeBlocksResponse(blocks: readonly Uint8Array[]): Uint8Array {
  const w = start('blocks', BLOCKS_RESPONSE_OVERHEAD + blocks.reduce((n, b) => n + b.length, 0));
  w.varint(blocks.length);
  for (const b of blocks) w.fixed(b, b.length);
  return w.finish();
}

/** `suite` is the chain's (ADR 014): it gives the txs their hashes, as everywhere tx bytes are parsed. */
export function decodeBlocksResponse(bytes: Uint8Array, suite: CryptoSuite = ED25519_SHA256): SyncBlock[] {
  return decodeRawBlocksResponse(bytes).map((b) => ({
    header: b.header,
    cert: b.cert,
    txs: decodeBlockTxs(b, suite),
  }));
}

/** A blocks response with headers and certificates decoded, each tx's bytes a view into `bytes`. */
export function decodeRawBlocksResponse(bytes: Uint8Array): RawSyncBlock[] {
  return decodeExact(bytes, bytes.length, 'blocks response', (r) => {
    expectKind(r, 'blocks');
    const n = r.varintIn(0, SYNC_MAX_BLOCKS, 'block count');
    const blocks: RawSyncBlock[] = [];
    for (let i = 0; i < n; i++) {
      const header = readHeader(r);
      const cert = readCertificate(r);
      const count = r.varintIn(0, Limits.blockTxs, 'block tx count');
      const txBytes: Uint8Array[] = [];
      for (let k = 0; k < count; k++) txBytes.push(r.bytesView(Limits.txBytes, 'tx'));
      blocks.push({ header, cert, txBytes });
    }
    return blocks;
  });
}

/**
 * Parses a raw block's txs; a malformed one is the sender's fault (SyncError badResponse). The block's txs are
 * copied out of the response in one piece and each tx's bytes are a view into that copy: one allocation per
 * block instead of one per tx (issue 19), and a tx kept after its block pins at most its block, never the
 * whole response.
 */
export function decodeBlockTxs(b: RawSyncBlock, suite: CryptoSuite = ED25519_SHA256): TxEnvelope[] {
  const first = b.txBytes[0];
  const last = b.txBytes[b.txBytes.length - 1];
  if (first === undefined || last === undefined) return [];
  // Every tx is a view into the same response buffer, in order (as decodeRawBlocksResponse makes them).
  const start = first.byteOffset;
  const end = last.byteOffset + last.length;
  const oneResponse = b.txBytes.every(
    (t) => t.buffer === first.buffer && t.byteOffset >= start && t.byteOffset + t.length <= end,
  );
  if (!oneResponse) throw new InvariantError('decodeBlockTxs: tx bytes are not views of one response');
  const copy = new Uint8Array(first.buffer, start, end - start).slice();
  try {
    return b.txBytes.map((t) =>
      parseTx(copy.subarray(t.byteOffset - start, t.byteOffset - start + t.length), suite),
    );
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    throw new SyncError(SyncErrorCode.badResponse, `block ${b.header.height}: tx: ${err.message}`);
  }
}

export function encodeBatchResponse(batch: Batch | undefined): Uint8Array {
  const w = start('batch', 64 + (batch?.txs.reduce((n, t) => n + t.bytes.length + 3, 0) ?? 0));
  w.bool(batch !== undefined);
  if (batch !== undefined) writeBatch(w, batch);
  return w.finish();
}

export function decodeBatchResponse(
  bytes: Uint8Array,
  suite: CryptoSuite = ED25519_SHA256,
): Batch | undefined {
  return decodeExact(bytes, bytes.length, 'batch response', (r) => {
    expectKind(r, 'batch');
    return r.bool('found') ? readBatch(r, suite) : undefined;
  });
}

export function encodeTxsResponse(txs: readonly TxEnvelope[] | undefined): Uint8Array {
  const w = start('txs', 16 + (txs?.reduce((n, t) => n + t.bytes.length + 3, 0) ?? 0));
  w.bool(txs !== undefined);
  if (txs !== undefined) {
    w.varint(txs.length);
    for (const t of txs) w.bytes(t.bytes);
  }
  return w.finish();
}

/** The txs of a txs response (undefined: not found); the caller checks they are the ones asked for. */
export function decodeTxsResponse(
  bytes: Uint8Array,
  suite: CryptoSuite = ED25519_SHA256,
): TxEnvelope[] | undefined {
  return decodeExact(bytes, bytes.length, 'txs response', (r) => {
    expectKind(r, 'txs');
    if (!r.bool('found')) return undefined;
    const n = r.varintIn(1, Limits.blockTxs, 'tx count');
    const txs: TxEnvelope[] = [];
    for (let k = 0; k < n; k++) txs.push(parseTx(r.bytes(Limits.txBytes, 'tx'), suite));
    return txs;
  });
}

// ---- client signatures of a range (docs/protocol.md, "Signatures at catch-up") ----

const SIGS_TAG = utf8.encode('jrchain/sync-signatures/v1\0');

/**
 * SHA-256 of `jrchain/sync-signatures/v1` ‖ 0x00 ‖ for each block in height order: u32 txCount (big-endian) ‖
 * the signature of each of its txs, in block order. The bodies are certified (tx hash → txRoot → header →
 * commit certificate); this binds the one part of a tx they do not cover. `blocks`: each block's signatures.
 */
export function signaturesDigest(blocks: readonly (readonly Uint8Array[])[]): Uint8Array {
  // Hashed as it goes: a range may hold a hundred thousand signatures.
  const h = createHash('sha256').update(SIGS_TAG);
  const count = new Uint8Array(4);
  for (const sigs of blocks) {
    new DataView(count.buffer).setUint32(0, sigs.length);
    h.update(count);
    for (const sig of sigs) h.update(sig);
  }
  return new Uint8Array(h.digest());
}

/** A canonical tx's signature: its last SIGNATURE_LENGTH bytes (src/core/tx.ts), read without decoding it. */
export function signatureOf(txBytes: Uint8Array): Uint8Array {
  return txBytes.subarray(txBytes.length - SIGNATURE_LENGTH);
}

export function encodeSigsResponse(digest: Uint8Array | undefined): Uint8Array {
  const w = start('sigs', 8 + HASH_LENGTH).bool(digest !== undefined);
  if (digest !== undefined) w.fixed(digest, HASH_LENGTH);
  return w.finish();
}

/** The digest of a sigs response (undefined: the responder does not hold the whole range). */
export function decodeSigsResponse(bytes: Uint8Array): Uint8Array | undefined {
  return decodeExact(bytes, bytes.length, 'sigs response', (r) => {
    expectKind(r, 'sigs');
    return r.bool('found') ? r.fixed(HASH_LENGTH, 'digest') : undefined;
  });
}
