/**
 * The synchronous signature engine on node:crypto (OpenSSL), for the ledger's token checks, which must be
 * synchronous. signature.ts has already decided the scheme and that the key may make it (ADR 013).
 */
import { constants, createPublicKey, verify } from 'node:crypto';
import { type SignatureCheck, verifySm2Check } from './signature.ts';

export function nodeVerifySignature(c: SignatureCheck): boolean {
  if (c.scheme.kind === 'sm2') return verifySm2Check(c);
  const key = createPublicKey({ key: Buffer.from(c.key.spki), format: 'der', type: 'spki' });
  switch (c.scheme.kind) {
    case 'ed25519':
      return verify(null, c.data, key, c.signature);
    case 'ecdsa':
    case 'rsa-pkcs1':
      return verify(c.scheme.hash, c.data, key, c.signature);
    case 'rsa-pss':
      return verify(
        c.scheme.hash,
        c.data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: c.scheme.saltLength },
        c.signature,
      );
  }
}
