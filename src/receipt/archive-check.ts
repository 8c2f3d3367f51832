/**
 * The `archive` check of a v4 receipt (ADR 016, docs/receipts.md): the receipt's RFC 4998 evidence record proves
 * the evidence hash through the anchor's archive timestamp and every renewal after it, each token checked like
 * the anchor's and each renewed before the previous one's certificates expired. It is what keeps a receipt's
 * time provable once the anchor token's TSA certificate has expired: given a verification time, the anchor
 * check defers to it (time-checks.ts).
 */
import type { EvidenceRecord } from '../core/evidence.ts';
import { type ErsStep, verifyEvidenceRecordAsync } from '../timestamp/ers-steps.ts';
import { parsePemCertificates } from '../timestamp/x509.ts';
import { evaluateAsync, type OptionalCheckResult, passed, reject, skipped } from './check.ts';
import { ReceiptFailureCode as Failure } from './errors.ts';
import { base64Field, objectField, RECEIPT_OBJECT_FIELDS } from './format.ts';
import { requireAnchors, timestampFailure } from './time-checks.ts';

export interface ArchiveProof {
  /** The first token's genTime: the evidence hash existed no later than this. */
  provenAt: Date;
  /** Every archive timestamp in order: the archive token, then each renewal. */
  steps: ErsStep[];
  /** When the last token's certificates expire: the record must be renewed before. */
  renewBefore: Date;
}

export interface ArchiveCheckOptions {
  trustAnchorsPem: string;
  /** The document, when the verifier holds it (a holder-made hash-tree renewal needs it). */
  file?: Uint8Array | undefined;
  at?: Date | undefined;
}

const when = (d: Date) => d.toISOString();

/** Skipped when the receipt carries none (`undefined`: an older format; `null`: not archived yet). */
export async function checkArchive(
  archive: unknown,
  evidence: EvidenceRecord,
  opts: ArchiveCheckOptions,
): Promise<OptionalCheckResult<ArchiveProof>> {
  if (archive === undefined) return skipped('receipts before v4 carry no archive timestamp');
  if (archive === null) return skipped('no archive timestamp covers the evidence yet');
  return evaluateAsync(async () => {
    const a = objectField(archive, 'archive', RECEIPT_OBJECT_FIELDS.archive);
    const record = base64Field(a.record, 'archive.record');
    if (evidence.hashAlg !== 'sha256') {
      reject(Failure.malformed, `archive timestamps cover SHA-256 evidence hashes, not ${evidence.hashAlg}`);
    }
    requireAnchors(opts.trustAnchorsPem);
    const v = await verifyEvidenceRecordAsync(record, {
      document: opts.file !== undefined ? { data: opts.file } : { sha256: evidence.hash },
      trustAnchors: parsePemCertificates(opts.trustAnchorsPem, 'TSA trust anchors'),
      at: opts.at,
    });
    if (!v.ok) reject(Failure.badTimestamp, `archive.record: ${v.reason}`);
    const renewals = v.steps.length - 1;
    const valid = opts.at === undefined ? '' : `, valid at ${when(opts.at)}`;
    return passed(
      { provenAt: v.provenAt, steps: v.steps, renewBefore: v.renewBefore },
      `evidence hash existed no later than ${when(v.provenAt)} (RFC 4998 archive timestamp, ${renewals} renewal${renewals === 1 ? '' : 's'}${valid}); renew before ${when(v.renewBefore)}`,
    );
  }, timestampFailure);
}
