/** Object identifiers used by the RFC 3161 code. Where @peculiar/asn1-* defines one, we take it from there. */

import { id_contentType, id_messageDigest, id_signedData, id_signingTime } from '@peculiar/asn1-cms';
import { id_ct_tstInfo } from '@peculiar/asn1-tsp';
import {
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_certificatePolicies,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_timeStamping,
} from '@peculiar/asn1-x509';
import { digest } from '../core/crypto.ts';

export const Oid = {
  signedData: id_signedData,
  tstInfo: id_ct_tstInfo,
  attrContentType: id_contentType,
  attrMessageDigest: id_messageDigest,
  attrSigningTime: id_signingTime,
  /** ESS signingCertificate (RFC 2634, SHA-1 cert hash) and signingCertificateV2 (RFC 5035). */
  attrSigningCertificate: '1.2.840.113549.1.9.16.2.12',
  attrSigningCertificateV2: '1.2.840.113549.1.9.16.2.47',

  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',

  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaPss: '1.2.840.113549.1.1.10',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  ed25519: '1.3.101.112',
  curveP256: '1.2.840.10045.3.1.7',
  curveP384: '1.3.132.0.34',
  curveP521: '1.3.132.0.35',
  mgf1: '1.2.840.113549.1.1.8',
  /** The national algorithms (GM/T 0006): SM3, SM2 signatures with SM3, the sm2p256v1 curve. */
  sm3: '1.2.156.10197.1.401',
  sm2WithSm3: '1.2.156.10197.1.501',
  curveSm2: '1.2.156.10197.1.301',

  extBasicConstraints: id_ce_basicConstraints,
  extKeyUsage: id_ce_keyUsage,
  extExtKeyUsage: id_ce_extKeyUsage,
  extSubjectKeyId: id_ce_subjectKeyIdentifier,
  extAuthorityKeyId: id_ce_authorityKeyIdentifier,
  extSubjectAltName: id_ce_subjectAltName,
  extCertificatePolicies: id_ce_certificatePolicies,
  kpTimeStamping: id_kp_timeStamping,
  anyExtendedKeyUsage: '2.5.29.37.0',
  extCrlNumber: '2.5.29.20',
} as const;

/**
 * Policy of the embedded TSA unless configured otherwise. An X.667 UUID OID (2.25.<uuid as integer>), which
 * needs no registration: it is UUID 9eba55d6-d79f-4c2a-8316-d620be0fbb42, chosen once for JRChain.
 */
export const DEFAULT_TSA_POLICY = '2.25.210985531576079130303232306084309875522';

export const HashAlgs = {
  sha256: { oid: Oid.sha256, length: 32 },
  sha384: { oid: Oid.sha384, length: 48 },
  sha512: { oid: Oid.sha512, length: 64 },
  sm3: { oid: Oid.sm3, length: 32 },
} as const;
/** Digest algorithms accepted for message imprints, by their node:crypto names. */
export type HashAlg = keyof typeof HashAlgs;

export function isHashAlg(s: string): s is HashAlg {
  return Object.hasOwn(HashAlgs, s);
}

export function digestOf(alg: HashAlg, data: Uint8Array): Uint8Array {
  return digest(alg, data);
}

export function hashAlgByOid(oid: string): HashAlg | undefined {
  for (const [name, a] of Object.entries(HashAlgs)) if (a.oid === oid) return name as HashAlg;
  return undefined;
}

/** Short names for the OIDs we print; anything else prints as its dotted form. */
const names: Record<string, string> = {
  [Oid.sha1]: 'sha1',
  [Oid.sha256]: 'sha256',
  [Oid.sha384]: 'sha384',
  [Oid.sha512]: 'sha512',
  [Oid.ecdsaWithSha256]: 'ecdsa-with-SHA256',
  [Oid.ecdsaWithSha384]: 'ecdsa-with-SHA384',
  [Oid.ecdsaWithSha512]: 'ecdsa-with-SHA512',
  [Oid.ecPublicKey]: 'id-ecPublicKey',
  [Oid.rsaEncryption]: 'rsaEncryption',
  [Oid.rsaPss]: 'RSASSA-PSS',
  [Oid.sha256WithRsa]: 'sha256WithRSAEncryption',
  [Oid.sha384WithRsa]: 'sha384WithRSAEncryption',
  [Oid.sha512WithRsa]: 'sha512WithRSAEncryption',
  [Oid.ed25519]: 'Ed25519',
  [Oid.sm3]: 'sm3',
  [Oid.sm2WithSm3]: 'SM2-with-SM3',
  [Oid.curveSm2]: 'sm2p256v1',
  [Oid.kpTimeStamping]: 'timeStamping',
  [Oid.anyExtendedKeyUsage]: 'anyExtendedKeyUsage',
};

export function oidName(oid: string): string {
  return names[oid] ?? oid;
}
