/**
 * Hashing and Ed25519 on node:crypto (OpenSSL): about 11x faster than pure JS here (GUIDE section 2), so every
 * hot path goes through this module. Signatures always cover domain-separated bytes (`domainBytes`), so a
 * signature made for one purpose can never be replayed for another.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { concatBytes, toHex, utf8 } from './bytes.ts';

export const HASH_LENGTH = 32;
export const PUBLIC_KEY_LENGTH = 32;
export const SEED_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

/** Signature domains. Each signed structure has its own; the domain is part of the signed bytes. */
export const Domain = {
  tx: 'jrchain/tx/v1',
  commit: 'jrchain/commit/v1',
  prePrepare: 'jrchain/pre-prepare/v1',
  prepare: 'jrchain/prepare/v1',
  checkpoint: 'jrchain/checkpoint/v1',
  viewChange: 'jrchain/view-change/v1',
  newView: 'jrchain/new-view/v1',
  txId: 'jrchain/txid/v1',
  batch: 'jrchain/batch/v1',
  validatorSet: 'jrchain/validator-set/v1',
  genesis: 'jrchain/genesis/v1',
  header: 'jrchain/header/v1',
  /** A party's co-signature over a case agreement (src/core/case.ts). */
  caseAgreement: 'jrchain/case-agreement/v1',
  /** The salted commitment to a case's claimant (src/core/case.ts). */
  claimant: 'jrchain/claimant/v1',
} as const;
export type Domain = (typeof Domain)[keyof typeof Domain];

const domainPrefixes = new Map<string, Uint8Array>();

/** `domain` as UTF-8, a 0x00 separator, then the body. */
export function domainBytes(domain: Domain, body: Uint8Array): Uint8Array {
  let prefix = domainPrefixes.get(domain);
  if (prefix === undefined) {
    prefix = concatBytes(utf8.encode(domain), new Uint8Array([0]));
    domainPrefixes.set(domain, prefix);
  }
  return concatBytes(prefix, body);
}

function digest(alg: string, parts: Uint8Array[]): Uint8Array {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  return digest('sha256', parts);
}

export function sha384(...parts: Uint8Array[]): Uint8Array {
  return digest('sha384', parts);
}

export function sha512(...parts: Uint8Array[]): Uint8Array {
  return digest('sha512', parts);
}

/** Domain-separated SHA-256, for identifiers (tx ids, header hashes, set hashes). */
export function taggedHash(domain: Domain, body: Uint8Array): Uint8Array {
  return sha256(domainBytes(domain, body));
}

// DER prefixes that wrap a raw 32-byte Ed25519 key as PKCS#8 / SPKI (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== SEED_LENGTH) throw new RangeError(`Ed25519 seed must be ${SEED_LENGTH} bytes`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) throw new RangeError(`Ed25519 public key must be 32 bytes`);
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const der = createPublicKey(privateKeyFromSeed(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(SPKI_PREFIX.length));
}

/** Something that can sign: a key file, a test double, later an HSM. */
export interface Signer {
  readonly publicKey: Uint8Array;
  sign(domain: Domain, body: Uint8Array): Uint8Array;
}

export class Ed25519Signer implements Signer {
  readonly publicKey: Uint8Array;
  private readonly key: KeyObject;

  constructor(seed: Uint8Array) {
    this.key = privateKeyFromSeed(seed);
    this.publicKey = publicKeyFromSeed(seed);
  }

  static generate(): { signer: Ed25519Signer; seed: Uint8Array } {
    const seed = new Uint8Array(randomBytes(SEED_LENGTH));
    return { signer: new Ed25519Signer(seed), seed };
  }

  sign(domain: Domain, body: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, domainBytes(domain, body), this.key));
  }
}

// Building a KeyObject costs more than a verify, so keys are cached. The cache is bounded: keys come from the
// genesis and validator set, but a flood of unknown keys must not grow memory.
const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<string, KeyObject>();

function cachedPublicKey(publicKey: Uint8Array): KeyObject {
  const id = toHex(publicKey);
  let key = keyCache.get(id);
  if (key === undefined) {
    key = publicKeyObject(publicKey);
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(id, key);
  }
  return key;
}

/** Verifies a domain-separated Ed25519 signature. Malformed keys or signatures verify as false. */
export function verifySignature(
  publicKey: Uint8Array,
  domain: Domain,
  body: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
  let key: KeyObject;
  try {
    key = cachedPublicKey(publicKey);
  } catch {
    return false;
  }
  return verify(null, domainBytes(domain, body), key, signature);
}
