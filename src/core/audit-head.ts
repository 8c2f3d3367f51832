/**
 * The audit head record: the payload of an `audit` tx (ADR 015, "Audit heads on the chain"). A node commits the
 * head of its audit log of case-data reads (src/api/audit.ts) to the ledger, signed by its validator key (the
 * tx signature), so rolling the log and its signed head file back to an earlier copy is caught against the chain.
 * Validators do not see the log: they check the signer and that `seq` rises per institution, nothing else.
 *
 * Encoding: `u8 version (1) ‖ varint seq (>= 1) ‖ hash[32]`, where `hash` is the SHA-256 entry hash of the
 * log's entry `seq` (whatever the chain's crypto suite: the log's own hash).
 */
import { decodeExact, expectVersion, invalidField, type Reader, Writer } from './codec.ts';
import { HASH_LENGTH, type Signer } from './crypto.ts';
import { Limits } from './limits.ts';
import { signTx, type Tx, VALIDATOR_KEY_ID } from './tx.ts';

export const AUDIT_HEAD_VERSION = 1;

export interface AuditHeadRecord {
  /** The log's length: the seq of its last entry. */
  seq: number;
  /** That entry's hash. */
  hash: Uint8Array;
}

function validate(a: AuditHeadRecord): void {
  if (!Number.isSafeInteger(a.seq) || a.seq < 1) throw invalidField('audit head seq must be >= 1');
  if (a.hash.length !== HASH_LENGTH) throw invalidField(`audit head hash must be ${HASH_LENGTH} bytes`);
}

export function encodeAuditHead(a: AuditHeadRecord): Uint8Array {
  validate(a);
  return new Writer(48).u8(AUDIT_HEAD_VERSION).varint(a.seq).fixed(a.hash, HASH_LENGTH).finish();
}

function readAuditHead(r: Reader): AuditHeadRecord {
  expectVersion(r, AUDIT_HEAD_VERSION, 'audit head record');
  const a = { seq: r.varint('audit head seq'), hash: r.fixed(HASH_LENGTH, 'audit head hash') };
  validate(a);
  return a;
}

export function decodeAuditHead(bytes: Uint8Array): AuditHeadRecord {
  return decodeExact(bytes, Limits.txPayloadBytes, 'audit head record', readAuditHead);
}

/** The `audit` tx committing `head`, signed by the node's validator key (under the reserved key id). */
export function auditHeadTx(
  head: AuditHeadRecord,
  opts: { chainId: string; institution: string; signer: Signer; createdAt: number; ttlMs: number },
): Tx {
  return signTx(
    {
      chainId: opts.chainId,
      type: 'audit',
      institution: opts.institution,
      keyId: VALIDATOR_KEY_ID,
      // Audit txs use no nonce (the seq must rise instead); the seq keeps their hashes apart.
      nonce: head.seq,
      createdAt: opts.createdAt,
      ttlMs: opts.ttlMs,
      payload: encodeAuditHead(head),
    },
    opts.signer,
  );
}
