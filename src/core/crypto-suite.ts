/**
 * Crypto suites: the hash and signature algorithms a chain uses, behind one interface, so that a chain can be
 * created with Ed25519/SHA-256 (today's) or with the Chinese national algorithms SM2/SM3 (issue 20). Nothing in
 * genesis, tx, block or Merkle code uses this yet: they still call src/core/crypto.ts directly, which is what
 * `ED25519_SHA256` wraps. See docs/long-term.md, "National algorithms".
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  type Domain,
  domainBytes,
  domainPrefix,
  Ed25519Signer,
  PUBLIC_KEY_LENGTH,
  publicKeyFromSeed,
  SEED_LENGTH,
  SIGNATURE_LENGTH,
  type Signer,
  sha256,
  verifySignature,
} from './crypto.ts';
import { SuiteError, SuiteErrorCode } from './sm/errors.ts';
import {
  SM2_PRIVATE_KEY_LENGTH,
  SM2_PUBLIC_KEY_LENGTH,
  SM2_SIGNATURE_LENGTH,
  sm2PublicKey,
  sm2PublicPoint,
  sm2SignDigest,
  sm2Verify,
  sm2Z,
} from './sm/sm2.ts';
import { SM3_LENGTH, sm3 } from './sm/sm3.ts';

export type SuiteName = 'ed25519-sha256' | 'sm2-sm3';

export interface CryptoSuite {
  readonly name: SuiteName;
  /** Object identifiers, for X.509 / RFC 3161 / RFC 4998 structures that name the algorithms. */
  readonly oids: { readonly hash: string; readonly signature: string };
  readonly hashLength: number;
  /** The hash's node:crypto (and RFC 3161 HashAlg) name: what an anchor token's imprint of a header hash uses. */
  readonly hashName: 'sha256' | 'sm3';
  readonly privateKeyLength: number;
  readonly publicKeyLength: number;
  readonly signatureLength: number;
  hash(...parts: Uint8Array[]): Uint8Array;
  /** The hash of domain-separated bytes, for identifiers (as `taggedHash` in crypto.ts). */
  taggedHash(domain: Domain, body: Uint8Array): Uint8Array;
  /** A new random private key. */
  generatePrivateKey(): Uint8Array;
  /** The public key of a private key; a malformed private key throws a SuiteError. */
  publicKey(privateKey: Uint8Array): Uint8Array;
  /** Throws a SuiteError unless the bytes are a valid public key of this suite (check keys at the edge). */
  checkPublicKey(publicKey: Uint8Array): void;
  /** A signer over domain-separated bytes; a malformed private key throws a SuiteError. */
  signer(privateKey: Uint8Array): Signer;
  /** Whether the signature over domain-separated bytes verifies. Malformed keys or signatures give false. */
  verify(publicKey: Uint8Array, domain: Domain, body: Uint8Array, signature: Uint8Array): boolean;
}

function randomKey(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

function checkEd25519Seed(seed: Uint8Array): void {
  if (seed.length !== SEED_LENGTH) {
    throw new SuiteError(
      SuiteErrorCode.badPrivateKey,
      `Ed25519 private key (seed) must be ${SEED_LENGTH} bytes`,
    );
  }
}

/** Today's suite: SHA-256 and Ed25519 (RFC 8032), exactly the functions of src/core/crypto.ts. */
export const ED25519_SHA256: CryptoSuite = {
  name: 'ed25519-sha256',
  oids: { hash: '2.16.840.1.101.3.4.2.1', signature: '1.3.101.112' },
  hashLength: 32,
  hashName: 'sha256',
  privateKeyLength: SEED_LENGTH,
  publicKeyLength: PUBLIC_KEY_LENGTH,
  signatureLength: SIGNATURE_LENGTH,
  hash: sha256,
  taggedHash: (domain, body) => sha256(domainPrefix(domain), body),
  generatePrivateKey: () => randomKey(SEED_LENGTH),
  publicKey(seed) {
    checkEd25519Seed(seed);
    return publicKeyFromSeed(seed);
  },
  checkPublicKey(publicKey) {
    if (publicKey.length !== PUBLIC_KEY_LENGTH) {
      throw new SuiteError(
        SuiteErrorCode.badPublicKey,
        `Ed25519 public key must be ${PUBLIC_KEY_LENGTH} bytes`,
      );
    }
    try {
      ed25519.Point.fromBytes(publicKey);
    } catch {
      throw new SuiteError(SuiteErrorCode.badPublicKey, 'Ed25519 public key is not a point of the curve');
    }
  },
  signer(seed) {
    checkEd25519Seed(seed);
    return new Ed25519Signer(seed);
  },
  verify: verifySignature,
};

/** A Signer holding an SM2 private key; signs with the standard user ID. */
export class Sm2Signer implements Signer {
  readonly publicKey: Uint8Array;
  private readonly privateKey: Uint8Array;
  /** Z of the key and the default user ID, computed once. */
  private readonly z: Uint8Array;

  constructor(privateKey: Uint8Array) {
    this.publicKey = sm2PublicKey(privateKey);
    this.privateKey = privateKey.slice();
    this.z = sm2Z(this.publicKey);
  }

  sign(domain: Domain, body: Uint8Array): Uint8Array {
    return sm2SignDigest(this.privateKey, sm3(this.z, domainBytes(domain, body)));
  }
}

/** The national suite: SM3 (GM/T 0004) and SM2 with SM3 and the default user ID (GM/T 0003, GM/T 0009). */
export const SM2_SM3: CryptoSuite = {
  name: 'sm2-sm3',
  oids: { hash: '1.2.156.10197.1.401', signature: '1.2.156.10197.1.501' },
  hashLength: SM3_LENGTH,
  hashName: 'sm3',
  privateKeyLength: SM2_PRIVATE_KEY_LENGTH,
  publicKeyLength: SM2_PUBLIC_KEY_LENGTH,
  signatureLength: SM2_SIGNATURE_LENGTH,
  hash: sm3,
  taggedHash: (domain, body) => sm3(domainBytes(domain, body)),
  generatePrivateKey() {
    // Rejection sampling: a uniform 256-bit value is a valid scalar with overwhelming probability.
    for (;;) {
      const key = randomKey(SM2_PRIVATE_KEY_LENGTH);
      try {
        sm2PublicKey(key);
        return key;
      } catch {}
    }
  },
  publicKey: sm2PublicKey,
  checkPublicKey(publicKey) {
    sm2PublicPoint(publicKey);
  },
  signer: (privateKey) => new Sm2Signer(privateKey),
  verify(publicKey, domain, body, signature) {
    try {
      return sm2Verify(publicKey, domainBytes(domain, body), signature);
    } catch {
      return false;
    }
  },
};

export const CRYPTO_SUITES: Readonly<Record<SuiteName, CryptoSuite>> = {
  'ed25519-sha256': ED25519_SHA256,
  'sm2-sm3': SM2_SM3,
};

/** The suite of a name, as a genesis will record it; an unknown name throws a SuiteError. */
export function cryptoSuite(name: string): CryptoSuite {
  const suite = Object.hasOwn(CRYPTO_SUITES, name) ? CRYPTO_SUITES[name as SuiteName] : undefined;
  if (suite === undefined) {
    throw new SuiteError(SuiteErrorCode.unknownSuite, `unknown crypto suite: ${name}`, {
      known: Object.keys(CRYPTO_SUITES),
    });
  }
  return suite;
}
