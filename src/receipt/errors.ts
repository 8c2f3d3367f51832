/**
 * Receipt codes. `ReceiptErrorCode`: errors raised while building a receipt from the ledger.
 * `ReceiptFailureCode`: why a check of `verifyReceipt` failed; a verifier never throws, so these are data
 * (each failed check carries one), not exceptions. docs/receipts.md lists which check gives which.
 */
import { ExitCode, exitCodes, JrError } from '../core/errors.ts';

export const ReceiptErrorCode = {
  /** Receipts prove evidence; the tx asked for is of another type (an anchor). */
  notEvidence: 'RECEIPT_NOT_EVIDENCE',
  /** A case receipt was asked for an id that no case tx opened. */
  noCase: 'RECEIPT_NO_CASE',
  /** No archive timestamp (RFC 4998, ADR 012) covers the evidence yet, so no evidence record can be built. */
  notArchived: 'RECEIPT_NOT_ARCHIVED',
} as const;
export type ReceiptErrorCode = (typeof ReceiptErrorCode)[keyof typeof ReceiptErrorCode];
export const ReceiptErrorExit = exitCodes(ReceiptErrorCode, {
  notEvidence: ExitCode.failed,
  noCase: ExitCode.failed,
  notArchived: ExitCode.failed,
});

export class ReceiptError extends JrError {
  declare readonly code: ReceiptErrorCode;
  constructor(code: ReceiptErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

export const ReceiptFailureCode = {
  /** A field is missing, of the wrong type, not base64 or hex, or its bytes do not decode. */
  malformed: 'RECEIPT_MALFORMED',
  /** `format` names no receipt format this verifier knows. */
  unknownFormat: 'RECEIPT_UNKNOWN_FORMAT',
  /** The format and the content disagree (a v1 receipt with governance txs, a v2 one without). */
  formatMismatch: 'RECEIPT_FORMAT_MISMATCH',
  /** The receipt, a header or a tx names another chain than the genesis. */
  wrongChain: 'RECEIPT_WRONG_CHAIN',
  /** The genesis hash is not that of the genesis given. */
  wrongGenesis: 'RECEIPT_WRONG_GENESIS',
  /** A hash field is not the hash of the bytes it names (block hash, tx hash). */
  hashMismatch: 'RECEIPT_HASH_MISMATCH',
  /** A height field is not the height in the header it names. */
  heightMismatch: 'RECEIPT_HEIGHT_MISMATCH',
  /** Governance blocks or txs not listed once each in chain order, or not below the receipt's block. */
  outOfOrder: 'RECEIPT_OUT_OF_ORDER',
  /** A validator set that is not the one the header commits to, or not the one in force at the block. */
  validatorSetMismatch: 'RECEIPT_VALIDATOR_SET_MISMATCH',
  /** A commit certificate without a quorum of valid signatures of the set in force for its header. */
  badCertificate: 'RECEIPT_BAD_CERTIFICATE',
  /** A tx of another type than the check expects (evidence, governance). */
  wrongTxType: 'RECEIPT_WRONG_TX_TYPE',
  /** A governance tx that the executor would have refused at its block. */
  txRejected: 'RECEIPT_TX_REJECTED',
  /** The signing institution is not registered. */
  unknownInstitution: 'RECEIPT_UNKNOWN_INSTITUTION',
  /** The signing key was never a client key of the institution. */
  unknownKey: 'RECEIPT_UNKNOWN_KEY',
  /** The signing key was revoked before the block. */
  revokedKey: 'RECEIPT_REVOKED_KEY',
  /** The institution's signature over the tx does not verify. */
  badSignature: 'RECEIPT_BAD_SIGNATURE',
  /** A Merkle inclusion proof that does not lead to the header's txRoot, or the wrong tree size. */
  badInclusion: 'RECEIPT_BAD_INCLUSION',
  /** The file given is not the recorded evidence. */
  fileMismatch: 'RECEIPT_FILE_MISMATCH',
  /** An anchor is required and the receipt carries none. */
  anchorMissing: 'RECEIPT_ANCHOR_MISSING',
  /** The anchor's headers do not link the block to the anchored header. */
  anchorChainBroken: 'RECEIPT_ANCHOR_CHAIN_BROKEN',
  /** No usable TSA trust anchors: none in the genesis and none given, or a bundle that does not decode. */
  trustAnchors: 'RECEIPT_TRUST_ANCHORS',
  /** An RFC 3161 token (anchor or evidence token) failed a check; the detail names it. */
  badTimestamp: 'RECEIPT_BAD_TIMESTAMP',
  /** The summary is not what the checked bytes say. */
  summaryMismatch: 'RECEIPT_SUMMARY_MISMATCH',
  /** A check met an exception it did not anticipate: a verifier bug, reported as a failure, never thrown. */
  /**
   * (Case receipts) The events do not form the case's timeline: not of the case, not linked each to the one
   * before (an event left out), or a transition the case state machine refuses (docs/cases.md).
   */
  caseTimeline: 'RECEIPT_CASE_TIMELINE',
  unexpected: 'RECEIPT_UNEXPECTED',
} as const;
export type ReceiptFailureCode = (typeof ReceiptFailureCode)[keyof typeof ReceiptFailureCode];
/** Every failed check is the answer "not proven". */
export const ReceiptFailureExit = exitCodes(ReceiptFailureCode, {
  malformed: ExitCode.failed,
  unknownFormat: ExitCode.failed,
  formatMismatch: ExitCode.failed,
  wrongChain: ExitCode.failed,
  wrongGenesis: ExitCode.failed,
  hashMismatch: ExitCode.failed,
  heightMismatch: ExitCode.failed,
  outOfOrder: ExitCode.failed,
  validatorSetMismatch: ExitCode.failed,
  badCertificate: ExitCode.failed,
  wrongTxType: ExitCode.failed,
  txRejected: ExitCode.failed,
  unknownInstitution: ExitCode.failed,
  unknownKey: ExitCode.failed,
  revokedKey: ExitCode.failed,
  badSignature: ExitCode.failed,
  badInclusion: ExitCode.failed,
  fileMismatch: ExitCode.failed,
  anchorMissing: ExitCode.failed,
  anchorChainBroken: ExitCode.failed,
  trustAnchors: ExitCode.failed,
  badTimestamp: ExitCode.failed,
  summaryMismatch: ExitCode.failed,
  caseTimeline: ExitCode.failed,
  unexpected: ExitCode.failed,
});
