/**
 * Every protocol limit in one place (documented in docs/limits.md; keep the two in step).
 * Protocol limits are part of validity: changing one is a protocol change.
 */
export const Limits = {
  chainIdBytes: 64,
  institutionIdBytes: 64,
  institutionNameBytes: 256,
  keyIdBytes: 64,
  caseIdBytes: 128,
  mediaTypeBytes: 127,
  labelChars: 128,
  labelBytes: 512,
  /** An RFC 3161 token carried in an evidence record (DER, with its certificates). */
  tsTokenBytes: 16 * 1024,
  txPayloadBytes: 20 * 1024,
  /** A whole encoded transaction, signature included. */
  txBytes: 24 * 1024,
  /** Longest expiry window a transaction may ask for. */
  txMaxTtlMs: 24 * 60 * 60 * 1000,
  /** How far a transaction's createdAt may lie ahead of the block (or node) time. */
  txMaxFutureSkewMs: 60 * 1000,
  /** Hard caps on a block; the genesis consensus parameters choose smaller working values. */
  blockTxs: 16_384,
  blockBytes: 64 * 1024 * 1024,
  validators: 256,
  institutions: 10_000,
  clientKeysPerInstitution: 64,
  commitCertificateBytes: 2 + 256 * (2 + 64) + 64,
  genesisFileBytes: 4 * 1024 * 1024,
  trustAnchors: 32,
  trustAnchorPemBytes: 16 * 1024,
  /** A governance proposal's deadline may lie at most this far after its tx's createdAt (ADR 006). */
  governanceMaxDeadlineMs: 7 * 24 * 60 * 60 * 1000,
  /** Proposals pending at once; a PROPOSE beyond it is refused (TX_GOV_TOO_MANY_PENDING). */
  governancePendingProposals: 256,
  /** Events one dispute case may record (docs/cases.md); sessions and milestones are the ones that repeat. */
  caseEvents: 256,
} as const;

/** Institution, key and chain ids: lower-case ASCII, readable in URLs, logs and file names. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Case references chosen by institutions, e.g. `2026-BJ-CC-000123`. */
export const CASE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,127}$/;
/** RFC 6838 media type: type/subtype with an optional +suffix, no parameters. */
export const MEDIA_TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/;
/**
 * Labels are short and must carry no personal data. We cannot detect all of it, but we refuse the commonest
 * leaks in card disputes: runs of 11 or more digits (card, phone and ID numbers), and control characters.
 */
export const LABEL_FORBIDDEN_PATTERN = /\d{11,}|\p{Cc}/u;
