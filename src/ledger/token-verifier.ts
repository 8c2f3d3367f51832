/**
 * The hooks through which RFC 3161 tokens are checked (src/timestamp/genesis-verifier.ts supplies the real
 * verifier). Validity must be the same on every validator, so a verifier must be a pure function of its
 * arguments and of configuration fixed by the genesis (trust anchors, tolerance): no clock, no network, no
 * randomness.
 */
import type { EvidenceRecord, HashAlg } from '../core/evidence.ts';

export interface TokenRefusal {
  /** The verifier's own code (e.g. TSA_IMPRINT_MISMATCH); reported inside the TX_* rejection's message. */
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

export interface AnchorTokenVerifier {
  /**
   * Checks the token of an anchor tx: trusted, its message imprint is `headerHash` (SHA-256; the 32-byte
   * header hash itself is the hashed message), its genTime no earlier than `anchoredBlockTime` minus the
   * tolerance and within the tolerance of `atMs` (node clock at admission, block time at execution).
   * Returns undefined when the token is acceptable. `alg` (default sha256) is the imprint's hash: a hash
   * renewal's token is over an SHA-384 or SHA-512 root (ADR 016); an sm2-sm3 chain's anchors stamp its SM3
   * header hash with imprint algorithm SM3 (ADR 014).
   */
  verifyAnchor(
    tokenDer: Uint8Array,
    headerHash: Uint8Array,
    anchoredBlockTime: number,
    atMs: number,
    alg?: HashAlg | 'sm3',
  ): TokenRefusal | undefined;
}
