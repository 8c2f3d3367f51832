/**
 * The receipt document (docs/receipts.md "Format"), and the helpers that read its fields as untrusted JSON:
 * each either returns a value of the right type or rejects the check with `malformed`, naming the field.
 */
import type { BlockHeader, CommitCertificate } from '../core/block.ts';
import { fromBase64, toBase64, tryFromHex } from '../core/bytes.ts';
import type { SuiteName } from '../core/crypto-suite.ts';
import type { HashAlg } from '../core/evidence.ts';
import type { Genesis } from '../core/genesis.ts';
import type { InclusionProof } from '../core/merkle.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { ValidatorSet } from '../core/validators.ts';
import { reject } from './check.ts';
import { ReceiptFailureCode as Failure } from './errors.ts';

/** Receipts of blocks with no governance tx before them: no `governance` field (or an empty one). */
export const RECEIPT_FORMAT_V1 = 'jrchain-receipt/v1';
/** Receipts that carry the governance txs since the genesis (`governance`, never empty). */
export const RECEIPT_FORMAT_V2 = 'jrchain-receipt/v2';
/**
 * Receipts whose certificates sign the genesis hash (ADR 010); `governance` as in v2, absent or empty when no
 * governance tx precedes the block. v1 and v2 certificates sign the chain id without the genesis hash.
 */
export const RECEIPT_FORMAT_V3 = 'jrchain-receipt/v3';
/**
 * v3 plus `archive` (ADR 016): the RFC 4998 evidence record of the evidence hash, whose chain of archive
 * timestamps (the anchor's archive token, then every renewal) keeps the time provable after the anchor
 * token's TSA certificate expires; `null` until an archive timestamp covers the block.
 */
export const RECEIPT_FORMAT_V4 = 'jrchain-receipt/v4';
/** The format `buildReceipt` writes. */
export const RECEIPT_FORMAT = RECEIPT_FORMAT_V4;
export type ReceiptFormat =
  | typeof RECEIPT_FORMAT_V1
  | typeof RECEIPT_FORMAT_V2
  | typeof RECEIPT_FORMAT_V3
  | typeof RECEIPT_FORMAT_V4;

/** One governance tx of a governance block, with its place in the block's Merkle tree. */
export interface ReceiptGovernanceTxJson {
  /** Canonical signed tx. */
  tx: string;
  /** Position in the block; the tree size is the header's txCount. */
  leafIndex: number;
  path: string[];
}

/** A block that holds governance txs, below the evidence's block, with every governance tx it holds. */
export interface ReceiptGovernanceBlockJson {
  height: number;
  header: string;
  certificate: string;
  txs: ReceiptGovernanceTxJson[];
}

export interface ReceiptAnchorJson {
  /** Height of the anchored block; its header hash is the token's message imprint (sha256). */
  height: number;
  headerHash: string;
  /** Canonical headers from block height+1 up to the anchored block: each links to the previous by prevHash. */
  headers: string[];
  /** Bare RFC 3161 TimeStampToken, DER. */
  token: string;
}

/** v4: the evidence record of the evidence hash (the bytes `jrchain receipt export --format ers` writes). */
export interface ReceiptArchiveJson {
  /** DER RFC 4998 EvidenceRecord, base64. */
  record: string;
}

export interface ReceiptSummary {
  institution: string;
  keyId: string;
  evidence: {
    hashAlg: HashAlg;
    hash: string;
    caseId: string;
    evidenceType: string;
    mediaType?: string;
    size?: number;
    label?: string;
    hasToken: boolean;
  };
  height: number;
  blockTime: string;
  committedBy: string[];
  anchoredAt?: string;
}

/** A block as a receipt carries it: its height, header hash (hex) and canonical header (base64). */
export interface ReceiptBlockJson {
  height: number;
  hash: string;
  header: string;
}

/** An RFC 9162 inclusion proof as a receipt carries it (path entries hex). */
export interface ReceiptInclusionJson {
  leafIndex: number;
  treeSize: number;
  path: string[];
}

export interface ReceiptJson {
  format: ReceiptFormat;
  chainId: string;
  /** The genesis' crypto suite (ADR 014), only when it is not `ed25519-sha256`; must match the genesis. */
  cryptoSuite?: SuiteName;
  genesisHash: string;
  txHash: string;
  /** Canonical signed tx. */
  tx: string;
  block: ReceiptBlockJson;
  inclusion: ReceiptInclusionJson;
  certificate: string;
  validatorSet: string;
  anchor: ReceiptAnchorJson | null;
  summary: ReceiptSummary;
  /**
   * v2: every block below `block.height` that holds governance txs, in chain order, each with all of its
   * governance txs in block order. Absent in v1 (no governance tx before the block).
   */
  governance?: ReceiptGovernanceBlockJson[];
  /** v4 only (required there): the archive timestamps of the evidence hash, or null when none covers it yet. */
  archive?: ReceiptArchiveJson | null;
}

/** What `buildReceipt` assembles a receipt from. */
export interface ReceiptParts {
  genesis: Genesis;
  tx: TxEnvelope;
  header: BlockHeader;
  certificate: CommitCertificate;
  validatorSet: ValidatorSet;
  proof: InclusionProof;
  anchor?: { header: BlockHeader; headers: BlockHeader[]; token: Uint8Array; genTime: Date } | undefined;
  /** The governance blocks below `header.height`, in chain order; none (or empty) for a v1 receipt. */
  governance?: GovernanceBlockParts[] | undefined;
  /** The DER evidence record of the evidence hash (ers-export.ts), when an archive timestamp covers it. */
  archive?: Uint8Array | undefined;
}

export interface GovernanceBlockParts {
  header: BlockHeader;
  certificate: CommitCertificate;
  /** Every governance tx of the block, in block order, with its inclusion proof. */
  txs: { tx: TxEnvelope; proof: InclusionProof }[];
}

// ---- reading untrusted fields ----

export const b64 = (b: Uint8Array): string => toBase64(b);

/**
 * A JSON object. With `fields`, exactly those (each present, none other): one canonical form, so a field a
 * verifier does not know can never carry a claim it silently ignores.
 */
export function objectField(v: unknown, what: string, fields?: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    reject(Failure.malformed, `${what} is not an object`);
  if (fields !== undefined) {
    for (const k of Object.keys(v)) {
      if (!fields.includes(k)) reject(Failure.malformed, `${what} has an unknown field ${shown(k)}`);
    }
    for (const k of fields) if (!(k in v)) reject(Failure.malformed, `${what} is missing ${k}`);
  }
  return v as Record<string, unknown>;
}

export function listField(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) reject(Failure.malformed, `${what} is not a list`);
  return v;
}

/** A JSON number that is a safe non-negative integer. */
export function countField(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    reject(Failure.malformed, `${what} is not a non-negative integer`);
  }
  return v;
}

/** Standard padded base64 (RFC 4648 section 4) in its one canonical spelling: zero pad bits, as written. */
export function base64Field(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
    reject(Failure.malformed, `${what} is not base64`);
  }
  const bytes = fromBase64(v);
  if (toBase64(bytes) !== v) reject(Failure.malformed, `${what} is not canonical base64`);
  return bytes;
}

/** Lower-case hex, as receipts are written: `AB` and `ab` are not two spellings of one receipt. */
export function hexField(v: unknown, what: string): Uint8Array {
  const b = typeof v === 'string' && v === v.toLowerCase() ? tryFromHex(v) : undefined;
  if (b === undefined) reject(Failure.malformed, `${what} is not lower-case hex`);
  return b;
}

/** The fields of each object in a receipt (docs/receipts.md "Format"); no other field is accepted. */
export const RECEIPT_OBJECT_FIELDS = {
  block: ['height', 'hash', 'header'],
  inclusion: ['leafIndex', 'treeSize', 'path'],
  anchor: ['height', 'headerHash', 'headers', 'token'],
  archive: ['record'],
  governanceBlock: ['height', 'header', 'certificate', 'txs'],
  governanceTx: ['tx', 'leafIndex', 'path'],
} as const;

/** Decodes a base64 field with a canonical decoder; a decoder's CodecError becomes `malformed` in `evaluate`. */
export function decodedField<T>(v: unknown, what: string, decode: (bytes: Uint8Array) => T): T {
  return decode(base64Field(v, what));
}

/** An untrusted value for a failure's detail: strings and numbers as they are, anything else by its type. */
export function shown(v: unknown): string {
  if (typeof v === 'string') return v.length > 80 ? `${v.slice(0, 80)}…` : v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** The latest instant a JavaScript Date can hold (year 275760); later block times cannot be real. */
const MAX_TIME_MS = 8.64e15;

/** An epoch-milliseconds time as ISO 8601, or a rejection when no Date can hold it. */
export function isoTime(ms: number, what: string): string {
  if (!Number.isSafeInteger(ms) || ms > MAX_TIME_MS)
    reject(Failure.malformed, `${what} ${ms} is not a valid time`);
  return new Date(ms).toISOString();
}
