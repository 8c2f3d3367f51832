/**
 * The check a chain node makes on a token attached to evidence: trusted, over the evidence hash, and close
 * enough in time to a reference the caller supplies (block time), never to a clock read here.
 */

import { webVerifySignature } from './crypto-web.ts';
import { isTimestampError, TimestampError, TimestampErrorCode } from './errors.ts';
import { TsaLimits } from './limits.ts';
import type { HashAlg } from './oids.ts';
import { detectKind } from './response.ts';
import { runAsync, type SignatureSteps } from './signature.ts';
import { type CheckName, timestampSteps } from './verify.ts';
import { type Cert, parsePemCertificates } from './x509.ts';

export interface EvidenceTokenOptions {
  /** Trust anchors as PEM; or give them parsed as `trustAnchors`, which a caller checking many tokens keeps. */
  trustAnchorsPem?: string;
  trustAnchors?: readonly Cert[];
  /** Extra certificates (PEM) for TSAs whose tokens embed no certificates. */
  untrustedPem?: string;
  /** Reference time in ms since the epoch (e.g. the block time). */
  now: number;
  /** How far genTime may lie from `now`, either way. */
  toleranceMs: number;
  /** A policy the token must carry. */
  policy?: string;
}

export type EvidenceTokenResult =
  | { ok: true; genTime: Date; serial: bigint; policy: string; signerSubject: string }
  | { ok: false; error: TimestampError; failedCheck: CheckName | 'tolerance' };

/**
 * Checks a bare token attached to evidence. On failure `error.code` is one of: TSA_UNPARSABLE (not a bare
 * token), TSA_IMPRINT_MISMATCH, TSA_VERIFY_FAILED (any trust check; `details.check` names it) or
 * TSA_TIME_SKEW. Throws TSA_BAD_INPUT for unusable anchors or arguments, which are the caller's mistake.
 * Yields each signature to check: `verifyEvidenceTokenAsync` below answers with WebCrypto, the ledger's
 * `verifyEvidenceToken` (verify-node.ts) with node:crypto.
 */
export function* evidenceTokenSteps(
  tokenDer: Uint8Array,
  evidenceHash: Uint8Array,
  alg: HashAlg,
  opts: EvidenceTokenOptions,
): SignatureSteps<EvidenceTokenResult> {
  const trustAnchors = opts.trustAnchors ?? parsePemCertificates(opts.trustAnchorsPem ?? '', 'trust anchors');
  const untrusted = opts.untrustedPem
    ? parsePemCertificates(opts.untrustedPem, 'untrusted certificates')
    : [];
  if (!Number.isFinite(opts.now) || !(Number.isFinite(opts.toleranceMs) && opts.toleranceMs >= 0)) {
    throw new TimestampError(
      TimestampErrorCode.badInput,
      'now and toleranceMs must be finite, toleranceMs >= 0',
    );
  }
  const failed = (code: TimestampErrorCode, check: CheckName | 'tolerance', message: string) => ({
    ok: false as const,
    failedCheck: check,
    error: new TimestampError(code, message, { check }),
  });
  if (tokenDer.length > TsaLimits.evidenceTokenBytes) {
    return failed(
      TimestampErrorCode.unparsable,
      'decode',
      `token larger than ${TsaLimits.evidenceTokenBytes} bytes`,
    );
  }
  try {
    if (detectKind(tokenDer) !== 'token') {
      return failed(
        TimestampErrorCode.unparsable,
        'decode',
        'expected a bare TimeStampToken, not a TimeStampResp',
      );
    }
  } catch (err) {
    if (!isTimestampError(err)) throw err;
    return failed(TimestampErrorCode.unparsable, 'decode', err.message);
  }
  const r = yield* timestampSteps(tokenDer, {
    trustAnchors,
    untrusted,
    digest: evidenceHash,
    hashAlg: alg,
    ...(opts.policy === undefined ? {} : { policy: opts.policy }),
  });
  if (!r.ok) {
    const code =
      r.failedCheck === 'decode'
        ? TimestampErrorCode.unparsable
        : r.failedCheck === 'messageImprint'
          ? TimestampErrorCode.imprintMismatch
          : TimestampErrorCode.verifyFailed;
    return failed(code, r.failedCheck, `${r.failedCheck}: ${r.reason}`);
  }
  const skewMs = r.genTime.getTime() - opts.now;
  if (Math.abs(skewMs) > opts.toleranceMs) {
    return failed(
      TimestampErrorCode.timeSkew,
      'tolerance',
      `genTime ${r.genTime.toISOString()} is ${skewMs} ms from the reference time; tolerance is ${opts.toleranceMs} ms`,
    );
  }
  return { ok: true, genTime: r.genTime, serial: r.serial, policy: r.policy, signerSubject: r.signerSubject };
}

/** `evidenceTokenSteps` with WebCrypto: how receipts check an evidence token, in Node and browsers. */
export function verifyEvidenceTokenAsync(
  tokenDer: Uint8Array,
  evidenceHash: Uint8Array,
  alg: HashAlg,
  opts: EvidenceTokenOptions,
): Promise<EvidenceTokenResult> {
  return runAsync(evidenceTokenSteps(tokenDer, evidenceHash, alg, opts), webVerifySignature);
}
