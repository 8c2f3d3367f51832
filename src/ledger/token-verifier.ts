/**
 * The hook through which RFC 3161 evidence tokens are checked (src/timestamp supplies the real verifier).
 * Validity must be the same on every validator, so a verifier must be a pure function of its arguments and
 * of configuration fixed by the genesis (trust anchors, tolerance): no clock, no network, no randomness.
 */
import type { EvidenceRecord } from '../core/evidence.ts';

export interface TokenRefusal {
  /** The verifier's own code (e.g. TSA_IMPRINT_MISMATCH); reported inside TX_BAD_TIMESTAMP_TOKEN. */
  code: string;
  message: string;
}

export interface EvidenceTokenVerifier {
  /**
   * Checks `tokenDer` (a DER TimeStampToken) against `evidence` at `atMs`: the node's clock at admission,
   * the block time during execution. Returns undefined when the token is acceptable.
   */
  verify(tokenDer: Uint8Array, evidence: EvidenceRecord, atMs: number): TokenRefusal | undefined;
}
