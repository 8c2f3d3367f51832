/**
 * The RFC 3161 token verifier that validators plug into the ledger. It is configured from the genesis `tsa`
 * parameters alone (trust anchors, tolerance), so every validator judges a token the same way, and it is
 * pure: the ledger passes the time (node clock at admission, block time at execution). Trust anchors are
 * parsed once, here, rather than for every token.
 *
 * It fits the ledger's EvidenceTokenVerifier and AnchorTokenVerifier (src/ledger/token-verifier.ts) by shape:
 * the timestamp module knows nothing of the ledger, and the node, which plugs one into the other, is where
 * the compiler checks the fit.
 */
import type { EvidenceRecord } from '../core/evidence.ts';
import type { TsaParams } from '../core/genesis.ts';
import { TimestampErrorCode } from './errors.ts';
import type { HashAlg } from './oids.ts';
import { verifyEvidenceToken } from './verify-node.ts';
import { type Cert, parsePemCertificates } from './x509.ts';

/** Why a token was refused: a TSA_* code and a plain-language message. */
export interface TokenRefusal {
  code: TimestampErrorCode;
  message: string;
}

export class GenesisTokenVerifier {
  readonly #anchors: readonly Cert[];
  readonly #toleranceMs: number;

  /** Throws TSA_BAD_INPUT when a genesis trust anchor does not decode: the node must not start on it. */
  constructor(tsa: TsaParams) {
    this.#anchors =
      tsa.trustAnchors.length === 0
        ? []
        : parsePemCertificates(tsa.trustAnchors.join('\n'), 'genesis TSA trust anchors');
    this.#toleranceMs = tsa.evidenceTokenToleranceMs;
  }

  verify(tokenDer: Uint8Array, evidence: EvidenceRecord, atMs: number): TokenRefusal | undefined {
    const r = this.#check(tokenDer, evidence.hash, evidence.hashAlg, atMs);
    return 'code' in r ? r : undefined;
  }

  verifyAnchor(
    tokenDer: Uint8Array,
    headerHash: Uint8Array,
    anchoredBlockTime: number,
    atMs: number,
    alg: HashAlg = 'sha256',
  ): TokenRefusal | undefined {
    const r = this.#check(tokenDer, headerHash, alg, atMs);
    if ('code' in r) return r;
    // A token cannot predate the block it covers, beyond the clock skew the genesis tolerates.
    if (r.genTime < anchoredBlockTime - this.#toleranceMs) {
      return {
        code: TimestampErrorCode.timeSkew,
        message:
          `genTime ${new Date(r.genTime).toISOString()} is earlier than the anchored block's time ` +
          `${new Date(anchoredBlockTime).toISOString()} minus the tolerance of ${this.#toleranceMs} ms`,
      };
    }
    return undefined;
  }

  #check(
    token: Uint8Array,
    digest: Uint8Array,
    alg: HashAlg,
    atMs: number,
  ): TokenRefusal | { genTime: number } {
    if (this.#anchors.length === 0) {
      return { code: TimestampErrorCode.badInput, message: 'the genesis configures no TSA trust anchors' };
    }
    const r = verifyEvidenceToken(token, digest, alg, {
      trustAnchors: this.#anchors,
      now: atMs,
      toleranceMs: this.#toleranceMs,
    });
    return r.ok ? { genTime: r.genTime.getTime() } : { code: r.error.code, message: r.error.message };
  }
}

/** The verifier for a chain's genesis `tsa` parameters; pass it as both `tokenVerifier` and `anchorVerifier`. */
export function createGenesisTokenVerifier(tsa: TsaParams): GenesisTokenVerifier {
  return new GenesisTokenVerifier(tsa);
}
