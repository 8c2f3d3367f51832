/**
 * Certification path building and validation from a TSA signer certificate to a configured trust anchor.
 * Every certificate is judged at the token's genTime, so tokens stay verifiable after the TSA certificate
 * expires. Revocation is not checked (see docs/timestamp.md).
 */
import { equalBytes } from '../core/bytes.ts';
import { TsaLimits } from './limits.ts';
import { Oid } from './oids.ts';
import { certSignatureCheck, type SignatureSteps } from './signature.ts';
import { type Cert, KeyUsageBit, UNDERSTOOD_EXTENSIONS } from './x509.ts';

/**
 * Checks beyond RFC 5280 path validation, each off by default. RFC 5280 does not let a CA certificate's
 * extendedKeyUsage constrain the certificates below it (4.2.1.12 defines EKU for the end entity), and public
 * TSAs chain through intermediates whose EKU lists other purposes (GlobalSign's, for one); refusing those is
 * a local policy a verifier must choose explicitly.
 */
export interface PathPolicy {
  /** Refuse a CA whose extendedKeyUsage lists neither timeStamping nor anyExtendedKeyUsage. */
  caEkuMustAllowTimeStamping?: boolean;
}

export type PathResult =
  | { ok: true; path: Cert[] }
  | { ok: false; check: 'chain' | 'certValidity'; reason: string };

/** Certificate signature algorithms we accept in a path; MD5 and SHA-1 based ones are refused. */
const CERT_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  Oid.ecdsaWithSha256,
  Oid.ecdsaWithSha384,
  Oid.ecdsaWithSha512,
  Oid.sha256WithRsa,
  Oid.sha384WithRsa,
  Oid.sha512WithRsa,
  Oid.rsaPss,
  Oid.ed25519,
  Oid.sm2WithSm3,
]);

function unknownCritical(cert: Cert): string | undefined {
  const ext = cert.extensions.find((e) => e.critical && !UNDERSTOOD_EXTENSIONS.has(e.oid));
  return ext && `${cert.subjectText} has an unsupported critical extension ${ext.oid}`;
}

function isSelfIssued(cert: Cert): boolean {
  return equalBytes(cert.issuer, cert.subject);
}

/** Why `ca` may not issue the next certificate down `below` (leaf first), or undefined if it may. */
function caProblem(ca: Cert, below: readonly Cert[], policy: PathPolicy): string | undefined {
  const name = ca.subjectText;
  if (!ca.basicConstraints?.ca) return `${name} is not a CA (basicConstraints cA is not set)`;
  if (ca.keyUsage && !ca.keyUsage.includes(KeyUsageBit.keyCertSign)) {
    return `${name} keyUsage does not allow keyCertSign`;
  }
  const eku = ca.extKeyUsage?.purposes;
  const ekuRefuses = eku && !eku.includes(Oid.kpTimeStamping) && !eku.includes(Oid.anyExtendedKeyUsage);
  if (policy.caEkuMustAllowTimeStamping && ekuRefuses) {
    return `${name} extendedKeyUsage does not allow timeStamping (caEkuMustAllowTimeStamping policy)`;
  }
  const pathLen = ca.basicConstraints.pathLen;
  // RFC 5280 4.2.1.9: count the non-self-issued intermediates between this CA and the leaf.
  const intermediates = below.slice(1).filter((c) => !isSelfIssued(c)).length;
  if (pathLen !== undefined && intermediates > pathLen) {
    return `${name} pathLenConstraint ${pathLen} allows fewer intermediates than ${intermediates}`;
  }
  return unknownCritical(ca);
}

function validityProblem(path: readonly Cert[], at: Date): string | undefined {
  const t = at.getTime();
  for (const c of path) {
    if (t < c.notBefore.getTime()) return `${c.subjectText} is not valid until ${c.notBefore.toISOString()}`;
    if (t > c.notAfter.getTime()) return `${c.subjectText} expired at ${c.notAfter.toISOString()}`;
  }
  return undefined;
}

/**
 * Searches issuers by name (and key identifier when both sides carry one), depth first, trying every
 * candidate: an injected certificate with a matching name cannot hide the real issuer. Work is bounded by
 * TsaLimits.pathLength and TsaLimits.pathSignatureChecks. Yields each certificate signature to check.
 */
export function* buildPath(
  leaf: Cert,
  intermediates: readonly Cert[],
  anchors: readonly Cert[],
  at: Date,
  policy: PathPolicy = {},
): SignatureSteps<PathResult> {
  const leafProblem = unknownCritical(leaf);
  if (leafProblem) return { ok: false, check: 'chain', reason: leafProblem };
  let budget = TsaLimits.pathSignatureChecks;
  let reason = `no issuer of ${leaf.subjectText} leads to a trust anchor`;
  let invalidAt: string | undefined;
  const isAnchor = (c: Cert) => anchors.some((a) => equalBytes(a.der, c.der));

  const extend = function* (path: Cert[]): SignatureSteps<Cert[] | undefined> {
    const cur = path[path.length - 1]!;
    if (path.length >= TsaLimits.pathLength) {
      reason = `path longer than ${TsaLimits.pathLength} certificates`;
      return undefined;
    }
    if (!CERT_SIGNATURE_ALGORITHMS.has(cur.signatureAlgorithm)) {
      reason = `${cur.subjectText} is signed with unsupported algorithm ${cur.signatureAlgorithm}`;
      return undefined;
    }
    const candidates = [...anchors, ...intermediates].filter(
      (c, i, all) =>
        equalBytes(c.subject, cur.issuer) &&
        !path.some((p) => equalBytes(p.der, c.der)) &&
        all.findIndex((o) => equalBytes(o.der, c.der)) === i &&
        !(cur.authorityKeyId && c.subjectKeyId && !equalBytes(cur.authorityKeyId, c.subjectKeyId)),
    );
    for (const cand of candidates) {
      const problem = caProblem(cand, path, policy);
      if (problem) {
        reason = problem;
        continue;
      }
      if (budget-- <= 0) {
        reason = `gave up after ${TsaLimits.pathSignatureChecks} certificate signature checks`;
        return undefined;
      }
      if (!(yield* signedBy(cur, cand))) {
        reason = `signature on ${cur.subjectText} does not verify with the key of ${cand.subjectText}`;
        continue;
      }
      const next = [...path, cand];
      if (isAnchor(cand)) {
        const invalid = validityProblem(next, at);
        if (!invalid) return next;
        invalidAt ??= invalid;
        continue;
      }
      const found = yield* extend(next);
      if (found) return found;
    }
    return undefined;
  };

  const path = yield* extend([leaf]);
  if (path) return { ok: true, path };
  if (invalidAt)
    return { ok: false, check: 'certValidity', reason: `at genTime ${at.toISOString()}: ${invalidAt}` };
  return { ok: false, check: 'chain', reason };
}

/** Whether `issuer`'s key produced `cert`'s signature; a signature that cannot be checked does not verify. */
function* signedBy(cert: Cert, issuer: Cert): SignatureSteps<boolean> {
  let check: ReturnType<typeof certSignatureCheck>;
  try {
    check = certSignatureCheck(cert, issuer);
  } catch {
    return false;
  }
  if (typeof check === 'string') return false;
  return (yield check) === true;
}
