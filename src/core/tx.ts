/**
 * The transaction envelope. Institutions sign the canonical body (everything but the signature) under the
 * `jrchain/tx/v1` domain. The tx hash covers the body only, so it does not depend on the signature bytes.
 * Hashes and signatures are those of the chain's crypto suite (the genesis' `cryptoSuite`, ADR 014): every
 * function that hashes or verifies takes it, defaulting to Ed25519/SHA-256. Both suites' signatures are 64 bytes.
 */
import { toHex } from './bytes.ts';
import {
  CodecError,
  CodecErrorCode,
  decodeExact,
  expectVersion,
  invalidField,
  type Reader,
  Writer,
} from './codec.ts';
import { Domain, SIGNATURE_LENGTH, type Signer } from './crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from './crypto-suite.ts';
import { ID_PATTERN, Limits } from './limits.ts';

export const TX_VERSION = 1;

/**
 * Transaction types and their wire codes. `evidence` (an EvidenceRecord payload) is signed by an
 * institution's client key, as is `case` (a CaseRecord payload, src/core/case.ts: one event of a dispute case);
 * as is `hash-renewal` (a HashRenewalRequest payload, src/core/hash-renewal.ts: a stronger hash of a document
 * the institution recorded, for hash-tree renewal);
 * `anchor` (an AnchorRecord payload, src/core/anchor.ts) and `governance` (a GovernanceRecord payload,
 * src/core/governance.ts) by a validator's key, as is `audit` (an AuditHeadRecord payload, src/core/audit-head.ts:
 * the node's audit log head, ADR 015). The audit code is one constant so a merge can renumber it in one place.
 */
export const AUDIT_TX_CODE = 6;
export const TxTypes = {
  evidence: 1,
  anchor: 2,
  governance: 3,
  case: 4,
  'hash-renewal': 5,
  audit: AUDIT_TX_CODE,
} as const;
export type TxType = keyof typeof TxTypes;
const txTypeByCode = new Map<number, TxType>(
  Object.entries(TxTypes).map(([k, v]) => [v, k as TxType] as const),
);

/**
 * The reserved key id naming an institution's validator key (the genesis `validators` entry). Anchor txs are
 * signed under it; the genesis refuses it as a client key id, so no client key can ever stand for it.
 */
export const VALIDATOR_KEY_ID = 'validator';

export interface UnsignedTx {
  chainId: string;
  type: TxType;
  /** Submitting institution. */
  institution: string;
  /** Which of the institution's keys signed. */
  keyId: string;
  /** Unique per institution, ever: a reused nonce is a replay. Any value up to 2^53-1. */
  nonce: number;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  /** The tx is valid in [createdAt - skew, createdAt + ttlMs]. */
  ttlMs: number;
  payload: Uint8Array;
}

export interface Tx extends UnsignedTx {
  signature: Uint8Array;
}

/** A decoded tx with its canonical bytes and hash, computed once. */
export interface TxEnvelope {
  readonly tx: Tx;
  readonly bytes: Uint8Array;
  readonly hash: Uint8Array;
  readonly hashHex: string;
}

function validateUnsigned(u: UnsignedTx): void {
  if (!ID_PATTERN.test(u.chainId)) throw invalidField('chain id must match [a-z0-9][a-z0-9._-]{0,63}');
  if (!Object.hasOwn(TxTypes, u.type)) throw invalidField(`unknown tx type ${String(u.type)}`);
  if (!ID_PATTERN.test(u.institution))
    throw invalidField('institution id must match [a-z0-9][a-z0-9._-]{0,63}');
  if (!ID_PATTERN.test(u.keyId)) throw invalidField('key id must match [a-z0-9][a-z0-9._-]{0,63}');
  if (!Number.isSafeInteger(u.nonce) || u.nonce < 0)
    throw invalidField('nonce must be a non-negative integer');
  if (!Number.isSafeInteger(u.createdAt) || u.createdAt < 0)
    throw invalidField('createdAt must be epoch millis');
  if (!Number.isSafeInteger(u.ttlMs) || u.ttlMs < 1 || u.ttlMs > Limits.txMaxTtlMs) {
    throw invalidField(`ttlMs must be 1..${Limits.txMaxTtlMs}`);
  }
  if (u.payload.length > Limits.txPayloadBytes) {
    throw new CodecError(
      CodecErrorCode.oversize,
      `payload is ${u.payload.length} bytes, limit ${Limits.txPayloadBytes}`,
    );
  }
}

function writeBody(w: Writer, u: UnsignedTx): void {
  validateUnsigned(u);
  w.u8(TX_VERSION)
    .string(u.chainId)
    .u8(TxTypes[u.type])
    .string(u.institution)
    .string(u.keyId)
    .varint(u.nonce)
    .varint(u.createdAt)
    .varint(u.ttlMs)
    .bytes(u.payload);
}

export function encodeTxBody(u: UnsignedTx): Uint8Array {
  const w = new Writer(128 + u.payload.length);
  writeBody(w, u);
  return w.finish();
}

export function encodeTx(tx: Tx): Uint8Array {
  const w = new Writer(192 + tx.payload.length);
  writeBody(w, tx);
  w.fixed(tx.signature, SIGNATURE_LENGTH);
  const bytes = w.finish();
  if (bytes.length > Limits.txBytes) {
    throw new CodecError(CodecErrorCode.oversize, `tx is ${bytes.length} bytes, limit ${Limits.txBytes}`);
  }
  return bytes;
}

function readTx(r: Reader): Tx {
  expectVersion(r, TX_VERSION, 'tx');
  const chainId = r.string(Limits.chainIdBytes, 'chain id');
  const typeCode = r.u8('tx type');
  const type = txTypeByCode.get(typeCode);
  if (type === undefined)
    throw new CodecError(CodecErrorCode.unknownType, `unknown tx type code ${typeCode}`);
  const tx: Tx = {
    chainId,
    type,
    institution: r.string(Limits.institutionIdBytes, 'institution'),
    keyId: r.string(Limits.keyIdBytes, 'key id'),
    nonce: r.varint('nonce'),
    createdAt: r.varint('createdAt'),
    ttlMs: r.varint('ttlMs'),
    // Views into the tx's bytes, which its envelope keeps anyway: two copies fewer per decoded tx.
    payload: r.bytesView(Limits.txPayloadBytes, 'payload'),
    signature: r.fixedView(SIGNATURE_LENGTH, 'signature'),
  };
  validateUnsigned(tx);
  return tx;
}

export function decodeTx(bytes: Uint8Array): Tx {
  return decodeExact(bytes, Limits.txBytes, 'tx', readTx);
}

/** The tx hash: the suite's tagged hash (SHA-256 or SM3) of the signed body. */
export function txHash(tx: UnsignedTx, suite: CryptoSuite = ED25519_SHA256): Uint8Array {
  return suite.taggedHash(Domain.txId, encodeTxBody(tx));
}

/** Hash straight from canonical bytes: the body is everything before the fixed-size signature. */
export function txHashFromBytes(bytes: Uint8Array, suite: CryptoSuite = ED25519_SHA256): Uint8Array {
  return suite.taggedHash(Domain.txId, bytes.subarray(0, bytes.length - SIGNATURE_LENGTH));
}

/** Decodes untrusted bytes into an envelope. Throws CodecError; does not check the signature. */
export function parseTx(bytes: Uint8Array, suite: CryptoSuite = ED25519_SHA256): TxEnvelope {
  const tx = decodeTx(bytes);
  const hash = txHashFromBytes(bytes, suite);
  return { tx, bytes, hash, hashHex: toHex(hash) };
}

export function envelope(tx: Tx, suite: CryptoSuite = ED25519_SHA256): TxEnvelope {
  const bytes = encodeTx(tx);
  const hash = txHashFromBytes(bytes, suite);
  return { tx, bytes, hash, hashHex: toHex(hash) };
}

export function signTx(u: UnsignedTx, signer: Signer): Tx {
  const signature = signer.sign(Domain.tx, encodeTxBody(u));
  return { ...u, signature };
}

/** Checks the signature against the given key. For envelopes, prefer `verifyTxEnvelope` (no re-encoding). */
export function verifyTxSignature(
  tx: Tx,
  publicKey: Uint8Array,
  suite: CryptoSuite = ED25519_SHA256,
): boolean {
  return suite.verify(publicKey, Domain.tx, encodeTxBody(tx), tx.signature);
}

export function verifyTxEnvelope(
  env: TxEnvelope,
  publicKey: Uint8Array,
  suite: CryptoSuite = ED25519_SHA256,
): boolean {
  const body = env.bytes.subarray(0, env.bytes.length - SIGNATURE_LENGTH);
  return suite.verify(publicKey, Domain.tx, body, env.tx.signature);
}

/** Version byte of a tx list (`encodeTxList`): the tx relay frame and the batch submit body. */
export const TX_LIST_VERSION = 1;

/**
 * A list of canonical txs: `u8 version (1) ‖ varint count ‖ (bytes tx)*`. Used between validators (tx relay
 * frames) and by clients submitting several txs in one request (`POST /v1/txs/batch`).
 */
export function encodeTxList(txs: readonly Uint8Array[]): Uint8Array {
  // Each tx's length prefix is a varint under 2^21 (a tx is at most Limits.txBytes): 3 bytes.
  const w = new Writer(4 + txs.reduce((n, t) => n + t.length + 3, 0));
  w.u8(TX_LIST_VERSION).varint(txs.length);
  for (const t of txs) w.bytes(t);
  return w.finish();
}

/**
 * Strict decode of a tx list of 1..maxTxs txs, each a valid tx encoding, with no trailing bytes (`what` names
 * it in errors). Throws CodecError; checks no signature.
 */
export function decodeTxList(
  bytes: Uint8Array,
  maxTxs: number,
  what = 'tx list',
  suite: CryptoSuite = ED25519_SHA256,
): TxEnvelope[] {
  return decodeExact(bytes, bytes.length, what, (r) => {
    expectVersion(r, TX_LIST_VERSION, what);
    const count = r.varintIn(1, maxTxs, 'tx count');
    const txs: TxEnvelope[] = [];
    for (let i = 0; i < count; i++) txs.push(parseTx(r.bytes(Limits.txBytes, 'tx'), suite));
    return txs;
  });
}
