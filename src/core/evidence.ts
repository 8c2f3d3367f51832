/** The evidence record: what an institution asserts about one document, without its content. */
import {
  CodecError,
  CodecErrorCode,
  decodeExact,
  expectVersion,
  invalidField,
  type Reader,
  Writer,
} from './codec.ts';
import { CASE_ID_PATTERN, LABEL_FORBIDDEN_PATTERN, Limits, MEDIA_TYPE_PATTERN } from './limits.ts';

export const EVIDENCE_VERSION = 1;

export const EvidenceTypes = [
  'contract',
  'repayment-record',
  'call-record',
  'statement',
  'mediation-agreement',
  'other',
] as const;
export type EvidenceType = (typeof EvidenceTypes)[number];

/** Digest algorithms for evidence hashes, with their wire codes and lengths. SHA-256 is the default. */
export const HashAlgs = {
  sha256: { code: 1, length: 32 },
  sha384: { code: 2, length: 48 },
  sha512: { code: 3, length: 64 },
} as const;
export type HashAlg = keyof typeof HashAlgs;
const hashAlgByCode = new Map<number, HashAlg>(
  Object.entries(HashAlgs).map(([name, a]) => [a.code, name as HashAlg] as const),
);

export interface EvidenceRecord {
  hashAlg: HashAlg;
  hash: Uint8Array;
  caseId: string;
  evidenceType: EvidenceType;
  mediaType?: string | undefined;
  /** Size of the original document in bytes. */
  size?: number | undefined;
  label?: string | undefined;
  /** DER RFC 3161 TimeStampToken over `hash`, obtained by the submitting client. */
  tsToken?: Uint8Array | undefined;
}

export function isEvidenceType(s: string): s is EvidenceType {
  return (EvidenceTypes as readonly string[]).includes(s);
}

export function isHashAlg(s: string): s is HashAlg {
  return Object.hasOwn(HashAlgs, s);
}

/** Schema checks shared by encoding and decoding, so we never emit what we would refuse to read. */
export function validateEvidence(e: EvidenceRecord): void {
  if (!isHashAlg(e.hashAlg)) throw invalidField(`unknown evidence hash algorithm ${String(e.hashAlg)}`);
  const { length } = HashAlgs[e.hashAlg];
  if (e.hash.length !== length) throw invalidField(`${e.hashAlg} evidence hash must be ${length} bytes`);
  if (!CASE_ID_PATTERN.test(e.caseId)) {
    throw invalidField(
      'case id must be 1-128 characters of A-Z a-z 0-9 . _ : / # - and start with a letter or digit',
    );
  }
  if (!isEvidenceType(e.evidenceType)) throw invalidField(`unknown evidence type ${String(e.evidenceType)}`);
  if (e.mediaType !== undefined && !MEDIA_TYPE_PATTERN.test(e.mediaType)) {
    throw invalidField(`media type ${JSON.stringify(e.mediaType)} is not a lower-case type/subtype`);
  }
  if (e.size !== undefined && !(Number.isSafeInteger(e.size) && e.size >= 0)) {
    throw invalidField('size must be a non-negative integer');
  }
  if (e.label !== undefined) {
    if (e.label.length === 0 || [...e.label].length > Limits.labelChars) {
      throw invalidField(`label must be 1-${Limits.labelChars} characters`);
    }
    if (!e.label.isWellFormed() || LABEL_FORBIDDEN_PATTERN.test(e.label)) {
      throw invalidField('label contains control characters or a long digit run (possible personal data)');
    }
  }
  if (e.tsToken !== undefined && (e.tsToken.length === 0 || e.tsToken.length > Limits.tsTokenBytes)) {
    throw invalidField(`time-stamp token must be 1-${Limits.tsTokenBytes} bytes`);
  }
}

export function writeEvidence(w: Writer, e: EvidenceRecord): void {
  validateEvidence(e);
  w.u8(EVIDENCE_VERSION)
    .u8(HashAlgs[e.hashAlg].code)
    .fixed(e.hash, HashAlgs[e.hashAlg].length)
    .string(e.caseId)
    .u8(EvidenceTypes.indexOf(e.evidenceType) + 1)
    .optional(e.mediaType, (w, v) => w.string(v))
    .optional(e.size, (w, v) => w.varint(v))
    .optional(e.label, (w, v) => w.string(v))
    .optional(e.tsToken, (w, v) => w.bytes(v));
}

export function readEvidence(r: Reader): EvidenceRecord {
  expectVersion(r, EVIDENCE_VERSION, 'evidence record');
  const algCode = r.u8('hash algorithm');
  const hashAlg = hashAlgByCode.get(algCode);
  if (hashAlg === undefined) {
    throw new CodecError(CodecErrorCode.unknownType, `unknown evidence hash algorithm code ${algCode}`);
  }
  const hash = r.fixed(HashAlgs[hashAlg].length, 'evidence hash');
  const caseId = r.string(Limits.caseIdBytes, 'case id');
  const typeCode = r.u8('evidence type');
  const evidenceType = EvidenceTypes[typeCode - 1];
  if (evidenceType === undefined) {
    throw new CodecError(CodecErrorCode.unknownType, `unknown evidence type code ${typeCode}`);
  }
  const mediaType = r.optional((r) => r.string(Limits.mediaTypeBytes, 'media type'), 'media type');
  const size = r.optional((r) => r.varint('size'), 'size');
  const label = r.optional((r) => r.string(Limits.labelBytes, 'label'), 'label');
  const tsToken = r.optional((r) => r.bytes(Limits.tsTokenBytes, 'time-stamp token'), 'time-stamp token');
  const e: EvidenceRecord = { hashAlg, hash, caseId, evidenceType };
  if (mediaType !== undefined) e.mediaType = mediaType;
  if (size !== undefined) e.size = size;
  if (label !== undefined) e.label = label;
  if (tsToken !== undefined) e.tsToken = tsToken;
  validateEvidence(e);
  return e;
}

export function encodeEvidence(e: EvidenceRecord): Uint8Array {
  const w = new Writer(128);
  writeEvidence(w, e);
  return w.finish();
}

export function decodeEvidence(bytes: Uint8Array): EvidenceRecord {
  return decodeExact(bytes, Limits.txPayloadBytes, 'evidence record', readEvidence);
}
