/**
 * The synchronous RFC 4998 evidence record verifier on node:crypto, for `jrchain receipt verify-ers` and the
 * node. Same checks and verdicts as the WebCrypto one receipts use: both run `evidenceRecordSteps`.
 */
import { nodeVerifySignature } from './crypto-node.ts';
import { type ErsVerification, type ErsVerifyOptions, evidenceRecordSteps } from './ers-steps.ts';
import { runSync } from './signature.ts';

export type { ErsDocument, ErsStep, ErsVerification, ErsVerifyOptions } from './ers-steps.ts';

/** Never throws on bad input: an undecodable record or a failed check gives `ok: false` with the reason. */
export function verifyEvidenceRecord(der: Uint8Array, opts: ErsVerifyOptions): ErsVerification {
  return runSync(evidenceRecordSteps(der, opts), nodeVerifySignature);
}
