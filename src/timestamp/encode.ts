/**
 * Encoding of TSTInfo, the CMS SignedData token and TimeStampResp. Pure functions over bytes: the embedded TSA
 * composes them, and tests use them to build deliberately faulty tokens.
 */
import { createHash } from 'node:crypto';
import { ctx, der, tlv } from './asn1.ts';
import { type HashAlg, HashAlgs, Oid } from './oids.ts';
import { failureBit, PkiStatus } from './response.ts';
import type { Cert } from './x509.ts';

export interface TstInfoFields {
  policy: string;
  /** The MessageImprint bytes, copied from the request. */
  imprintDer: Uint8Array;
  serial: bigint;
  genTime: Date;
  accuracyMs?: number;
  nonce?: bigint;
  /** GeneralName naming the TSA, e.g. `generalNameDirectory(cert.subject)`. */
  tsaName?: Uint8Array;
}

export function encodeTstInfo(f: TstInfoFields): Uint8Array {
  const fields = [der.int(1n), der.oid(f.policy), f.imprintDer, der.int(f.serial), der.genTime(f.genTime)];
  if (f.accuracyMs !== undefined && f.accuracyMs > 0) fields.push(encodeAccuracy(f.accuracyMs));
  if (f.nonce !== undefined) fields.push(der.int(f.nonce));
  if (f.tsaName) fields.push(der.explicit(0, f.tsaName));
  return der.seq(...fields);
}

/** Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL, ... } */
function encodeAccuracy(ms: number): Uint8Array {
  const seconds = Math.floor(ms / 1000);
  const millis = ms % 1000;
  const parts: Uint8Array[] = [];
  if (seconds > 0) parts.push(der.int(BigInt(seconds)));
  if (millis > 0) parts.push(der.implicit(0, der.int(BigInt(millis))));
  return der.seq(...parts);
}

/** GeneralName directoryName [4] (EXPLICIT, as Name is a CHOICE). */
export function generalNameDirectory(nameDer: Uint8Array): Uint8Array {
  return tlv(ctx(4, true), nameDer);
}

function attribute(oid: string, value: Uint8Array): Uint8Array {
  return der.seq(der.oid(oid), der.setOf([value]));
}

function digestAlgorithmId(alg: HashAlg): Uint8Array {
  // RFC 5754: SHA-2 AlgorithmIdentifiers in CMS are generated with absent parameters.
  return der.seq(der.oid(HashAlgs[alg].oid));
}

/** ESS SigningCertificateV2 with one ESSCertIDv2 naming `cert` (RFC 5035). SHA-256 is the default hash. */
export function signingCertificateV2(
  cert: Cert,
  certForHash: Uint8Array = cert.der,
  alg: HashAlg = 'sha256',
) {
  const hash = new Uint8Array(createHash(alg).update(certForHash).digest());
  const issuerSerial = der.seq(der.seq(generalNameDirectory(cert.issuer)), der.int(cert.serial));
  const certId =
    alg === 'sha256'
      ? der.seq(der.octets(hash), issuerSerial)
      : der.seq(digestAlgorithmId(alg), der.octets(hash), issuerSerial);
  return attribute(Oid.attrSigningCertificateV2, der.seq(der.seq(certId)));
}

/** ESS SigningCertificate v1: SHA-1 ESSCertID (RFC 2634). */
export function signingCertificateV1(cert: Cert, certForHash: Uint8Array = cert.der): Uint8Array {
  const hash = new Uint8Array(createHash('sha1').update(certForHash).digest());
  const issuerSerial = der.seq(der.seq(generalNameDirectory(cert.issuer)), der.int(cert.serial));
  const certId = der.seq(der.octets(hash), issuerSerial);
  return attribute(Oid.attrSigningCertificate, der.seq(der.seq(certId)));
}

/** The signed attributes as the SET OF that is signed: content-type, message-digest, plus `extra`. */
export function encodeSignedAttrs(opts: {
  eContent: Uint8Array;
  digestAlg: HashAlg;
  extra: readonly Uint8Array[];
  contentType?: string;
}): Uint8Array {
  const digest = new Uint8Array(createHash(opts.digestAlg).update(opts.eContent).digest());
  return der.setOf([
    attribute(Oid.attrContentType, der.oid(opts.contentType ?? Oid.tstInfo)),
    attribute(Oid.attrMessageDigest, der.octets(digest)),
    ...opts.extra,
  ]);
}

export interface TokenParts {
  eContent: Uint8Array;
  digestAlg: HashAlg;
  /** DER SET OF signed attributes, as produced by encodeSignedAttrs (the bytes that were signed). */
  signedAttrs: Uint8Array;
  signatureAlgorithmId: Uint8Array;
  signature: Uint8Array;
  signer: Cert;
  /** Certificates to embed (usually the signer's, possibly with intermediates); empty for none. */
  certificates: readonly Uint8Array[];
  /** How the SignerInfo names the signer (default issuerAndSerialNumber, as most TSAs do). */
  sid?: 'issuerAndSerialNumber' | 'subjectKeyIdentifier';
}

/** ContentInfo { id-signedData, SignedData } around a TSTInfo, signed by one SignerInfo (RFC 3161 2.4.2). */
export function encodeToken(p: TokenParts): Uint8Array {
  const bySki = p.sid === 'subjectKeyIdentifier';
  if (bySki && !p.signer.subjectKeyId)
    throw new TypeError('the signer certificate has no subjectKeyIdentifier');
  const signerInfo = der.seq(
    // RFC 5652 5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier.
    der.int(bySki ? 3n : 1n),
    bySki ? tlv(ctx(0, false), p.signer.subjectKeyId!) : der.seq(p.signer.issuer, der.int(p.signer.serial)),
    digestAlgorithmId(p.digestAlg),
    der.implicit(0, p.signedAttrs),
    p.signatureAlgorithmId,
    der.octets(p.signature),
  );
  const fields = [
    // Version 3: eContentType is not id-data (RFC 5652 5.1).
    der.int(3n),
    der.setOf([digestAlgorithmId(p.digestAlg)]),
    der.seq(der.oid(Oid.tstInfo), der.explicit(0, der.octets(p.eContent))),
  ];
  if (p.certificates.length > 0) fields.push(der.implicit(0, der.setOf(p.certificates)));
  fields.push(der.setOf([signerInfo]));
  return der.seq(der.oid(Oid.signedData), der.explicit(0, der.seq(...fields)));
}

export function encodeGrantedResponse(token: Uint8Array): Uint8Array {
  return der.seq(der.seq(der.int(BigInt(PkiStatus.granted))), token);
}

/** A rejection with one PKIFailureInfo bit and a human-readable statusString. */
export function encodeRejection(failure: string, text: string): Uint8Array {
  const status = der.seq(
    der.int(BigInt(PkiStatus.rejection)),
    der.seq(der.utf8(text)),
    der.namedBits([failureBit(failure)]),
  );
  return der.seq(status);
}
