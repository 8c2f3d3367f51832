/** The RFC 3161 checks of a receipt: the anchor over a later header, and the evidence's own token. */

import { type BlockHeader, decodeHeader, headerHash } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import type { JrError } from '../core/errors.ts';
import type { EvidenceRecord } from '../core/evidence.ts';
import { isTimestampError, TimestampErrorCode } from '../timestamp/errors.ts';
import { verifyEvidenceTokenAsync } from '../timestamp/evidence.ts';
import { verifyTimestampAsync } from '../timestamp/verify.ts';
import { parsePemCertificates } from '../timestamp/x509.ts';
import { evaluateAsync, failed, type OptionalCheckResult, passed, reject, skipped } from './check.ts';
import { ReceiptFailureCode as Failure } from './errors.ts';
import { base64Field, decodedField, listField, objectField, RECEIPT_OBJECT_FIELDS } from './format.ts';

/** A trust-anchor bundle that does not decode is the verifier's configuration, not the receipt's fault. */
export const timestampFailure = (err: JrError) =>
  isTimestampError(err, TimestampErrorCode.badInput) ? Failure.trustAnchors : Failure.malformed;

export function requireAnchors(trustAnchorsPem: string): void {
  if (trustAnchorsPem.trim() === '') {
    reject(Failure.trustAnchors, 'no TSA trust anchors (genesis has none; pass --tsa-ca)');
  }
}

/**
 * The verification time, when the caller asks "does this receipt still prove its time on that date?". The
 * anchor token must then have been made by it and its certificates still be valid at it, unless `renewed`:
 * the receipt carries an archive record (v4) whose renewals the `archive` check verifies at that time.
 */
export interface AnchorTime {
  at: Date;
  renewed: boolean;
}

/**
 * The anchor ({height, headerHash, headers, token}, or null) links `header` by prevHash to the anchored header,
 * and its token verifies over that header's hash against `trustAnchorsPem`. Passes with the token's genTime;
 * skipped without an anchor, unless `required`.
 */
export async function checkAnchor(
  anchor: unknown,
  header: BlockHeader,
  trustAnchorsPem: string,
  required: boolean,
  suite: CryptoSuite = ED25519_SHA256,
  time?: AnchorTime,
): Promise<OptionalCheckResult<Date>> {
  if (anchor === null) {
    return required
      ? failed(Failure.anchorMissing, 'the receipt carries no time-stamp anchor')
      : skipped('block not yet anchored by a time-stamp token');
  }
  return evaluateAsync(async () => {
    const a = objectField(anchor, 'anchor', RECEIPT_OBJECT_FIELDS.anchor);
    let prev = headerHash(header, suite);
    let height = header.height;
    for (const [i, hb] of listField(a.headers, 'anchor.headers').entries()) {
      const h = decodedField(hb, `anchor.headers[${i}]`, decodeHeader);
      if (h.height !== height + 1 || !equalBytes(h.prevHash, prev)) {
        reject(
          Failure.anchorChainBroken,
          `anchor.headers[${i}] does not extend the chain from block ${height}`,
        );
      }
      prev = headerHash(h, suite);
      height = h.height;
    }
    if (height !== a.height || toHex(prev) !== a.headerHash) {
      reject(Failure.anchorChainBroken, 'header chain does not end at the anchored header');
    }
    requireAnchors(trustAnchorsPem);
    const v = await verifyTimestampAsync(base64Field(a.token, 'anchor.token'), {
      trustAnchors: parsePemCertificates(trustAnchorsPem, 'TSA trust anchors'),
      digest: prev,
      // The imprint is the header hash itself: SHA-256, or SM3 on an sm2-sm3 chain.
      hashAlg: suite.hashName,
    });
    if (!v.ok) reject(Failure.badTimestamp, `time-stamp token failed check ${v.failedCheck}: ${v.reason}`);
    const proven = `block ${header.height} existed no later than ${v.genTime.toISOString()} (TSA, via block ${height})`;
    if (time === undefined) return passed(v.genTime, proven);
    const at = time.at.toISOString();
    if (v.genTime > time.at) reject(Failure.badTimestamp, `the anchor token was made after ${at}`);
    if (v.validUntil >= time.at) return passed(v.genTime, `${proven}; valid at ${at}`);
    const expired = `the anchor token's TSA certificates expired at ${v.validUntil.toISOString()}, before ${at}`;
    if (!time.renewed) {
      reject(Failure.badTimestamp, `${expired}, and the receipt carries no renewed archive timestamp`);
    }
    return passed(v.genTime, `${proven}; ${expired}: the archive check must prove the time`);
  }, timestampFailure);
}

/**
 * The evidence's own token, when it carries one, verifies over the evidence hash and lies within the genesis
 * tolerance of the block time. Passes with its genTime; skipped when the evidence carries none.
 */
export async function checkEvidenceToken(
  evidence: EvidenceRecord,
  header: BlockHeader,
  trustAnchorsPem: string,
  toleranceMs: number,
): Promise<OptionalCheckResult<Date>> {
  const token = evidence.tsToken;
  if (token === undefined) return skipped('evidence carries no time-stamp token of its own');
  return evaluateAsync(async () => {
    requireAnchors(trustAnchorsPem);
    const v = await verifyEvidenceTokenAsync(token, evidence.hash, evidence.hashAlg, {
      trustAnchorsPem,
      now: header.time,
      toleranceMs,
    });
    if (!v.ok) reject(Failure.badTimestamp, v.error.message);
    return passed(v.genTime, `evidence hash time-stamped at ${v.genTime.toISOString()}`);
  }, timestampFailure);
}
