/**
 * CMS SignerInfo signature verification with node:crypto: RSA PKCS#1 v1.5, ECDSA (P-256, P-384) and
 * Ed25519 (RFC 8419). Returns a reason string on failure, so the verifier can report it.
 */
import { type KeyObject, verify } from 'node:crypto';
import { Oid } from './oids.ts';

const ECDSA_HASH: Record<string, string> = {
  [Oid.ecdsaWithSha256]: 'sha256',
  [Oid.ecdsaWithSha384]: 'sha384',
  [Oid.ecdsaWithSha512]: 'sha512',
};
const RSA_HASH: Record<string, string> = {
  [Oid.sha256WithRsa]: 'sha256',
  [Oid.sha384WithRsa]: 'sha384',
  [Oid.sha512WithRsa]: 'sha512',
};
const DIGEST_NAME: Record<string, string> = {
  [Oid.sha256]: 'sha256',
  [Oid.sha384]: 'sha384',
  [Oid.sha512]: 'sha512',
};
const EC_CURVES = new Set(['prime256v1', 'secp384r1']);
const MIN_RSA_BITS = 2048;

/**
 * Checks `signature` over `data` (the DER SET of signed attributes). `digestAlgorithm` supplies the hash when
 * the signature algorithm names only the key type (rsaEncryption, id-ecPublicKey), as CMS allows.
 */
export function checkCmsSignature(
  signatureAlgorithm: string,
  digestAlgorithm: string,
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): string | undefined {
  let hash: string | null;
  let keyType: 'ec' | 'rsa' | 'ed25519';
  if (ECDSA_HASH[signatureAlgorithm] || signatureAlgorithm === Oid.ecPublicKey) {
    keyType = 'ec';
    hash = ECDSA_HASH[signatureAlgorithm] ?? DIGEST_NAME[digestAlgorithm] ?? null;
  } else if (RSA_HASH[signatureAlgorithm] || signatureAlgorithm === Oid.rsaEncryption) {
    keyType = 'rsa';
    hash = RSA_HASH[signatureAlgorithm] ?? DIGEST_NAME[digestAlgorithm] ?? null;
  } else if (signatureAlgorithm === Oid.ed25519) {
    keyType = 'ed25519';
    hash = null;
  } else {
    return `unsupported signature algorithm ${signatureAlgorithm}`;
  }
  if (keyType !== 'ed25519' && hash === null) return `unsupported digest algorithm ${digestAlgorithm}`;
  if (key.asymmetricKeyType !== keyType) {
    return `signature algorithm needs a ${keyType} key, the certificate holds ${key.asymmetricKeyType}`;
  }
  if (keyType === 'ec' && !EC_CURVES.has(key.asymmetricKeyDetails?.namedCurve ?? '')) {
    return `unsupported curve ${key.asymmetricKeyDetails?.namedCurve}`;
  }
  if (keyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    return `RSA key shorter than ${MIN_RSA_BITS} bits`;
  }
  let ok: boolean;
  try {
    ok = verify(hash, data, key, signature);
  } catch (err) {
    return `signature does not decode: ${(err as Error).message}`;
  }
  return ok ? undefined : 'signature does not verify with the signer certificate key';
}
