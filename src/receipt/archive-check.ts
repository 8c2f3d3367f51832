/**
 * The `archive` check of a v4 receipt (ADR 016, docs/receipts.md): the receipt's RFC 4998 evidence record proves
 * the evidence hash through the anchor's archive timestamp and every renewal after it, each token checked like
 * the anchor's and each renewed before the previous one's certificates expired. It is what keeps a receipt's
 * time provable once the anchor token's TSA certificate has expired: given a verification time, the anchor
 * check defers to it (time-checks.ts).
 */
import { fromBase64 } from '../core/bytes.ts';
import type { EvidenceRecord } from '../core/evidence.ts';
import { decodeEvidenceRecord, encodeEvidenceRecord } from '../timestamp/ers-asn1.ts';
import { type ErsStep, verifyEvidenceRecordAsync } from '../timestamp/ers-steps.ts';
import type { HashAlg } from '../timestamp/oids.ts';
import { parsePemCertificates } from '../timestamp/x509.ts';
import { evaluateAsync, type OptionalCheckResult, passed, reject, skipped } from './check.ts';
import { ReceiptFailureCode as Failure } from './errors.ts';
import { base64Field, objectField, RECEIPT_OBJECT_FIELDS } from './format.ts';
import { requireAnchors, timestampFailure } from './time-checks.ts';

/** The document's hash under each algorithm of a record's later chains (ADR 018), keyed by algorithm. */
export type ChainDigests = Partial<Record<HashAlg, Uint8Array>>;
export type { HashAlg as ChainHashAlg } from '../timestamp/oids.ts';

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
  /** Without the file: its hashes under the later chains' algorithms, when the verifier computed them. */
  chainDigests?: ChainDigests | undefined;
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
    const digests = { ...opts.chainDigests, sha256: evidence.hash };
    const { checked, unchecked } =
      opts.file !== undefined ? { checked: record, unchecked: [] } : chainsWithDigests(record, digests);
    const v = await verifyEvidenceRecordAsync(checked, {
      document: opts.file !== undefined ? { data: opts.file } : { digests },
      trustAnchors: parsePemCertificates(opts.trustAnchorsPem, 'TSA trust anchors'),
      at: opts.at,
    });
    if (!v.ok) reject(Failure.badTimestamp, `archive.record: ${v.reason}`);
    const renewals = v.steps.length - 1;
    const valid = opts.at === undefined ? '' : `, valid at ${when(opts.at)}`;
    const n = unchecked.length;
    const rest =
      n === 0
        ? ''
        : `; ${n} later chain${n === 1 ? '' : 's'} (${unchecked.join(', ')}) not checked: ${n === 1 ? 'it needs' : 'they need'} the document`;
    const chains = [...new Set(v.steps.map((s) => s.hashAlg))].join(', ');
    return passed(
      { provenAt: v.provenAt, steps: v.steps, renewBefore: v.renewBefore },
      `evidence hash existed no later than ${when(v.provenAt)} (RFC 4998 archive timestamp, ${renewals} renewal${renewals === 1 ? '' : 's'}, chains ${chains}${valid}); renew before ${when(v.renewBefore)}${rest}`,
    );
  }, timestampFailure);
}

/**
 * Without the document, a chain under another hash than SHA-256 (a hash-tree renewal, ADR 018) can be checked
 * only with the document's hash under that chain's algorithm: its leaf is H'(document). The record is then
 * checked up to the first chain whose hash the verifier lacks, and the detail names the chains left out; with a
 * verification time past the checked chains' validity, the check fails, as it must (only the document, or its
 * hash, can prove more). A record that does not decode is passed on whole, to fail there.
 */
function chainsWithDigests(
  record: Uint8Array,
  digests: Partial<Record<HashAlg, Uint8Array>>,
): { checked: Uint8Array; unchecked: string[] } {
  let r: ReturnType<typeof decodeEvidenceRecord>;
  try {
    r = decodeEvidenceRecord(record);
  } catch {
    return { checked: record, unchecked: [] };
  }
  const cut = r.chains.findIndex((c) => c[0] !== undefined && digests[c[0].digestAlg] === undefined);
  if (cut <= 0) return { checked: record, unchecked: [] };
  const unchecked = r.chains.slice(cut).map((c) => c[0]?.digestAlg ?? 'empty');
  return { checked: encodeEvidenceRecord({ ...r, chains: r.chains.slice(0, cut) }), unchecked };
}

/**
 * The algorithms of a receipt's archive chains after the first (a hash-tree renewal, ADR 018): a verifier
 * without the document's bytes hashes it with each so those chains are checked too. Nothing for a receipt
 * whose record does not decode (the archive check then says why).
 */
export function laterChainAlgs(receipt: unknown): HashAlg[] {
  const record = (receipt as { archive?: { record?: unknown } | null } | null)?.archive?.record;
  if (typeof record !== 'string') return [];
  try {
    const algs = decodeEvidenceRecord(fromBase64(record))
      .chains.slice(1)
      .map((c) => c[0]?.digestAlg);
    return [...new Set(algs.filter((a): a is HashAlg => a !== undefined && a !== 'sha256'))];
  } catch {
    return [];
  }
}
