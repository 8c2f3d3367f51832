/**
 * The PRE-PREPARE as the primary sends it over `/jrchain/consensus/1.0.0`: the batch's txs named by hash, not
 * carried (docs/p2p.md, "Compact PRE-PREPARE"). Every backup already holds almost every tx of a batch, forwarded
 * to it when a client submitted it; sending the bodies again cost each backup the bytes through Noise and Yamux
 * and a second decode. The signed part is unchanged: the batch digest covers only the tx hashes, so a backup
 * checks the signature before it has a single body, and the message it hands to consensus is the full
 * PRE-PREPARE (src/consensus/messages.ts), the txs taken from its mempool or fetched (tx-resolver.ts).
 *
 *   u8 version (1) ‖ u8 type (COMPACT_PRE_PREPARE_TYPE) ‖ string chainId ‖ varint from ‖ varint view ‖ varint seq ‖
 *   varint proposer ‖ varint batchView ‖ varint time ‖ varint txCount (1..Limits.blockTxs) ‖ h32 txHash* ‖ sig64
 */

import {
  MESSAGE_VERSION,
  MessageLimits,
  type PrePrepare,
  prePrepareBody,
  readHead,
  writeHead,
} from '../../consensus/messages.ts';
import { type Batch, batchDigestOf } from '../../core/batch.ts';
import { toHex } from '../../core/bytes.ts';
import { CodecError, CodecErrorCode, decodeExact, expectVersion, Writer } from '../../core/codec.ts';
import { Domain, HASH_LENGTH, SIGNATURE_LENGTH } from '../../core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../../core/crypto-suite.ts';
import { Limits } from '../../core/limits.ts';
import type { TxEnvelope } from '../../core/tx.ts';

/** A type code outside the consensus message types (1..6), so the two never collide on one protocol. */
export const COMPACT_PRE_PREPARE_TYPE = 0x41;

export interface CompactPrePrepare {
  readonly type: 'compactPrePrepare';
  readonly chainId: string;
  readonly from: number;
  readonly view: number;
  readonly seq: number;
  readonly proposer: number;
  readonly batchView: number;
  readonly time: number;
  readonly hashes: readonly Uint8Array[];
  /** The same hashes in hex (the mempool's keys), made once while checking that no tx is named twice. */
  readonly hashHex: readonly string[];
  /** The batch digest, computed from the hashes when decoded. */
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

/** Whether a consensus frame is a compact PRE-PREPARE (only the type byte is looked at). */
export function isCompactFrame(frame: Uint8Array): boolean {
  return frame.length > 1 && frame[1] === COMPACT_PRE_PREPARE_TYPE;
}

/** The compact form of a PRE-PREPARE; only batches with txs have one (a null batch is sent whole). */
export function encodeCompactPrePrepare(m: PrePrepare): Uint8Array {
  const b = m.batch;
  if (b.txs.length === 0) throw new RangeError('a null batch has no compact form');
  const w = new Writer(128 + b.txs.length * HASH_LENGTH);
  w.u8(MESSAGE_VERSION).u8(COMPACT_PRE_PREPARE_TYPE);
  writeHead(w, m.chainId, m.from);
  w.varint(m.view).varint(m.seq).varint(b.proposer).varint(b.view).varint(b.time).varint(b.txs.length);
  for (const t of b.txs) w.fixed(t.hash, HASH_LENGTH);
  return w.fixed(m.signature, SIGNATURE_LENGTH).finish();
}

/** Strict decode of untrusted bytes (size, version, type, canonical varints, no tx named twice, no trailing bytes). */
/** `suite` is the chain's (ADR 014): the digest is recomputed from the hashes with its hash. */
export function decodeCompactPrePrepare(
  bytes: Uint8Array,
  suite: CryptoSuite = ED25519_SHA256,
): CompactPrePrepare {
  return decodeExact(bytes, MessageLimits.messageBytes, 'compact pre-prepare', (r) => {
    expectVersion(r, MESSAGE_VERSION, 'compact pre-prepare');
    const code = r.u8('message type');
    if (code !== COMPACT_PRE_PREPARE_TYPE)
      throw new CodecError(CodecErrorCode.unknownType, `not a compact pre-prepare: type ${code}`);
    const head = readHead(r);
    const view = r.varint('view');
    const seq = r.varint('seq');
    const proposer = r.varintIn(0, Limits.validators - 1, 'batch proposer');
    const batchView = r.varint('batch view');
    const time = r.varint('batch time');
    const count = r.varintIn(1, Limits.blockTxs, 'batch tx count');
    const hashes: Uint8Array[] = [];
    const hashHex: string[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) {
      const h = r.fixed(HASH_LENGTH, 'tx hash');
      const key = toHex(h);
      if (seen.has(key)) throw new CodecError(CodecErrorCode.invalidField, 'a tx is named twice');
      seen.add(key);
      hashes.push(h);
      hashHex.push(key);
    }
    const digest = batchDigestOf(proposer, batchView, time, hashes, suite);
    const signature = r.fixed(SIGNATURE_LENGTH, 'signature');
    const type = 'compactPrePrepare' as const;
    return { type, ...head, view, seq, proposer, batchView, time, hashes, hashHex, digest, signature };
  });
}

/** What the signature covers: the same as a whole PRE-PREPARE's. */
export function compactSignedPart(m: CompactPrePrepare): { domain: Domain; body: Uint8Array } {
  return { domain: Domain.prePrepare, body: prePrepareBody(m.chainId, m.view, m.seq, m.digest) };
}

/** The whole PRE-PREPARE once every tx is at hand (`txs[i]` hashes to `m.hashes[i]`: the caller checked). */
export function expandCompact(m: CompactPrePrepare, txs: readonly TxEnvelope[]): PrePrepare {
  const batch: Batch = { proposer: m.proposer, view: m.batchView, time: m.time, txs };
  const { chainId, from, view, seq, digest, signature } = m;
  return { type: 'prePrepare', chainId, from, view, seq, batch, digest, signature };
}
