/**
 * Evidence receipts: one self-contained JSON document that proves, offline and without trusting any node,
 * that a piece of evidence was recorded on the chain, when, and by whom.
 *
 * Everything that matters is carried as canonical bytes (base64) or hashes (hex); `summary` repeats the key
 * facts for human readers and is checked against those bytes, so editing any field makes verification fail.
 * docs/receipts.md describes the format and every check. This module is the public surface:
 * - format.ts: the document and the readers of its untrusted fields; build.ts: `buildReceipt`;
 * - check.ts: the check enum, results and the recorder; errors.ts: the failure codes;
 * - block-checks.ts, governance.ts, evidence-checks.ts, time-checks.ts: one function per check;
 * - verify.ts: `verifyReceipt`, which runs them in order.
 */

export { type ArchiveProof, checkArchive } from './archive-check.ts';
export {
  checkCertificate,
  checkGenesis,
  checkHeader,
  checkInclusion,
  checkSignature,
  checkTx,
  checkValidatorSet,
  type RegistryAt,
} from './block-checks.ts';
export { buildReceipt } from './build.ts';
export {
  type CheckFail,
  type CheckOutcome,
  type CheckPass,
  type CheckResult,
  CheckRun,
  type CheckSkip,
  type CheckStatus,
  evaluate,
  failed,
  type OptionalCheckResult,
  passed,
  RECEIPT_CHECK_ORDER,
  ReceiptCheck,
  reject,
  skipped,
} from './check.ts';
export { ReceiptError, ReceiptErrorCode, ReceiptFailureCode } from './errors.ts';
export {
  checkEvidence,
  checkFile,
  checkSummary,
  type EvidenceFile,
  hashFile,
  summaryOf,
} from './evidence-checks.ts';
export {
  type GovernanceBlockParts,
  RECEIPT_FORMAT,
  RECEIPT_FORMAT_V1,
  RECEIPT_FORMAT_V2,
  RECEIPT_FORMAT_V3,
  RECEIPT_FORMAT_V4,
  type ReceiptAnchorJson,
  type ReceiptArchiveJson,
  type ReceiptBlockJson,
  type ReceiptFormat,
  type ReceiptGovernanceBlockJson,
  type ReceiptGovernanceTxJson,
  type ReceiptInclusionJson,
  type ReceiptJson,
  type ReceiptParts,
  type ReceiptSummary,
} from './format.ts';
export { checkGovernance, type ReplayedGovernance } from './governance.ts';
export { checkAnchor, checkEvidenceToken } from './time-checks.ts';
export {
  type ClaimedReceipt,
  checkFormat,
  type ReceiptFacts,
  type ReceiptVerification,
  VERIFICATION_PROFILES,
  type VerificationProfile,
  type VerifyReceiptOptions,
  verifyReceipt,
} from './verify.ts';
