/** The checks about the evidence itself: its record, the file it hashes, and the human-readable summary. */
import type { BlockHeader, CommitCertificate } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { digest } from '../core/crypto.ts';
import { invariant } from '../core/errors.ts';
import { decodeEvidence, type EvidenceRecord, type HashAlg, HashAlgs } from '../core/evidence.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { ValidatorSet } from '../core/validators.ts';
import type { HashAlg as ErsHashAlg } from '../timestamp/oids.ts';
import { type CheckResult, evaluate, type OptionalCheckResult, passed, reject, skipped } from './check.ts';
import { ReceiptFailureCode as Failure } from './errors.ts';
import type { ReceiptSummary } from './format.ts';

/** The evidence tx's payload decodes as an evidence record. */
export function checkEvidence(env: TxEnvelope): CheckResult<EvidenceRecord> {
  return evaluate(() => {
    const e = decodeEvidence(env.tx.payload);
    return passed(e, `${e.hashAlg} ${toHex(e.hash)}, case ${e.caseId}, ${e.evidenceType}`);
  });
}

/** The file the verifier holds: its bytes, or (for large files) their digest with the recorded algorithm. */
export interface EvidenceFile {
  file?: Uint8Array | undefined;
  fileDigest?: { hashAlg: HashAlg; hash: Uint8Array } | undefined;
  /**
   * With `fileDigest`: the file's hashes under the algorithms of the receipt's later archive chains (a hash-tree
   * renewal, ADR 018), which those chains need; the chains without one are left unchecked and named.
   */
  chainDigests?: Partial<Record<ErsHashAlg, Uint8Array>> | undefined;
}

/** The file given hashes to the recorded evidence hash; skipped when no file is given. */
export function checkFile(evidence: EvidenceRecord, given: EvidenceFile): OptionalCheckResult<void> {
  const { file, fileDigest } = given;
  if (file === undefined && fileDigest === undefined) return skipped('no file given');
  return evaluate(() => {
    if (fileDigest !== undefined && fileDigest.hashAlg !== evidence.hashAlg) {
      reject(
        Failure.fileMismatch,
        `the record uses ${evidence.hashAlg}, the file was hashed with ${fileDigest.hashAlg}`,
      );
    }
    const digest = fileDigest?.hash ?? hashFile(file!, evidence.hashAlg);
    if (!equalBytes(digest, evidence.hash)) {
      reject(Failure.fileMismatch, 'the file does not match the recorded evidence hash');
    }
    return passed(undefined, `file hash matches (${evidence.hashAlg})`);
  });
}

/** The summary equals what the checked bytes say (compared by content, whatever the key order). */
export function checkSummary(summary: unknown, expected: ReceiptSummary): CheckResult<void> {
  return evaluate(() => {
    if (!sameJson(summary, expected)) {
      reject(Failure.summaryMismatch, 'summary does not match the signed data');
    }
    return passed(undefined, 'human-readable summary matches the signed data');
  });
}

/** The key facts for people, from the checked bytes. Times must be valid (the header check ensures it). */
export function summaryOf(
  tx: TxEnvelope,
  e: EvidenceRecord,
  header: BlockHeader,
  cert: CommitCertificate,
  set: ValidatorSet,
  anchoredAt: Date | undefined,
): ReceiptSummary {
  return {
    institution: tx.tx.institution,
    keyId: tx.tx.keyId,
    evidence: {
      hashAlg: e.hashAlg,
      hash: toHex(e.hash),
      caseId: e.caseId,
      evidenceType: e.evidenceType,
      ...(e.mediaType !== undefined ? { mediaType: e.mediaType } : {}),
      ...(e.size !== undefined ? { size: e.size } : {}),
      ...(e.label !== undefined ? { label: e.label } : {}),
      hasToken: e.tsToken !== undefined,
    },
    height: header.height,
    blockTime: new Date(header.time).toISOString(),
    committedBy: cert.signatures.map((s) => set.validators[s.validator]?.institution ?? `#${s.validator}`),
    ...(anchoredAt !== undefined ? { anchoredAt: anchoredAt.toISOString() } : {}),
  };
}

/**
 * True when `v` is the same JSON value as `expected`, whatever its key order. Walks `expected`, so the depth is
 * that of the summary's shape, however deeply an edited `v` nests.
 */
export function sameJson(v: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(v) && v.length === expected.length && expected.every((e, i) => sameJson(v[i], e));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const keys = Object.keys(expected);
    const record = v as Record<string, unknown>;
    return (
      Object.keys(v).length === keys.length &&
      keys.every((k) => Object.hasOwn(v, k) && sameJson(record[k], (expected as Record<string, unknown>)[k]))
    );
  }
  return v === expected;
}

export function hashFile(data: Uint8Array, alg: HashAlg): Uint8Array {
  const out = digest(alg, data);
  invariant(out.length === HashAlgs[alg].length, `a ${alg} digest of ${out.length} bytes`);
  return out;
}
