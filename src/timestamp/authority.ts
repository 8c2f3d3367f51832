/**
 * The TimestampAuthority interface the node depends on, and the acceptance of a TimeStampResp that both
 * implementations (HTTP client, embedded TSA) share, so a token is judged the same way whichever produced it.
 */
import { TimestampError, TimestampErrorCode } from './errors.ts';
import type { HashAlg } from './oids.ts';
import type { TimeStampRequest } from './request.ts';
import { type Accuracy, parseTimeStampResp } from './response.ts';
import { checkBinding } from './verify.ts';
import { verifyTimestamp } from './verify-node.ts';
import type { Cert } from './x509.ts';

export interface StampOptions {
  /** Ask for this TSA policy; the token must then carry it. */
  policy?: string;
  /** Send a random nonce and require it back (default true). */
  nonce?: boolean;
  /** Ask the TSA to embed its certificate (default true). */
  certReq?: boolean;
  /** Cancels the request (and any retry wait). */
  signal?: AbortSignal;
}

export interface StampResult {
  /** The bare TimeStampToken (CMS ContentInfo): what evidence records carry. */
  token: Uint8Array;
  /** The whole TimeStampResp as the TSA sent it. */
  response: Uint8Array;
  /** The TimeStampReq we sent. */
  request: Uint8Array;
  genTime: Date;
  serial: bigint;
  policy: string;
  nonce: bigint | undefined;
  hashAlg: HashAlg;
  digest: Uint8Array;
  accuracy: Accuracy | undefined;
  /**
   * `full`: every verifier check passed against the configured trust anchors. `binding`: only that the
   * response answers our request (status, imprint, nonce, policy); check trust before relying on it.
   */
  verified: 'full' | 'binding';
}

export interface TimestampAuthority {
  stamp(digest: Uint8Array, alg: HashAlg, opts?: StampOptions): Promise<StampResult>;
}

/** Explicit lifecycle, as for every node component. */
export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface TrustConfig {
  trustAnchors: readonly Cert[];
  untrusted?: readonly Cert[];
}

/**
 * Turns a TimeStampResp into a StampResult, or throws: TSA_UNPARSABLE, TSA_REJECTED (details: status,
 * failInfo, statusText) or TSA_VERIFY_FAILED (details: check, reason).
 */
export function acceptResponse(
  request: TimeStampRequest,
  response: Uint8Array,
  trust: TrustConfig | undefined,
): StampResult {
  const { status } = parseTimeStampResp(response);
  if (status.status !== 0 && status.status !== 1) {
    const why = [...status.failInfo, ...status.statusText].join('; ');
    throw new TimestampError(
      TimestampErrorCode.rejected,
      `TSA answered ${status.statusName}${why ? `: ${why}` : ''}`,
      { status: status.statusName, failInfo: status.failInfo, statusText: status.statusText },
    );
  }
  const r = trust ? verifyTimestamp(response, { ...trust, request }) : checkBinding(response, { request });
  if (!r.ok) {
    if (r.failedCheck === 'decode') throw new TimestampError(TimestampErrorCode.unparsable, r.reason);
    throw new TimestampError(
      TimestampErrorCode.verifyFailed,
      `TSA response failed check ${r.failedCheck}: ${r.reason}`,
      { check: r.failedCheck, reason: r.reason },
    );
  }
  const facts = 'facts' in r ? r.facts : r;
  return {
    token: r.token,
    response,
    request: request.der,
    genTime: facts.genTime,
    serial: facts.serial,
    policy: facts.policy,
    nonce: facts.nonce,
    hashAlg: request.hashAlg!,
    digest: request.digest,
    accuracy: facts.accuracy,
    verified: trust ? 'full' : 'binding',
  };
}
