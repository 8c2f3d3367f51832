/**
 * The synchronous RFC 3161 verifier on node:crypto: the ledger checks tokens inside synchronous execution,
 * and the CLI's `tsa verify` uses it too. Same checks, names and verdicts as the WebCrypto verifier that
 * receipts use, since both run the one generator in verify.ts and evidence.ts (ADR 013).
 */
import { nodeVerifySignature } from './crypto-node.ts';
import { type EvidenceTokenOptions, type EvidenceTokenResult, evidenceTokenSteps } from './evidence.ts';
import type { HashAlg } from './oids.ts';
import { runSync } from './signature.ts';
import { timestampSteps, type VerifyOptions, type VerifyResult } from './verify.ts';

/** Verifies a TimeStampResp or a bare token (see `timestampSteps`). */
export function verifyTimestamp(input: Uint8Array, opts: VerifyOptions): VerifyResult {
  return runSync(timestampSteps(input, opts), nodeVerifySignature);
}

/** Checks a bare token attached to evidence (see `evidenceTokenSteps`). */
export function verifyEvidenceToken(
  tokenDer: Uint8Array,
  evidenceHash: Uint8Array,
  alg: HashAlg,
  opts: EvidenceTokenOptions,
): EvidenceTokenResult {
  return runSync(evidenceTokenSteps(tokenDer, evidenceHash, alg, opts), nodeVerifySignature);
}
