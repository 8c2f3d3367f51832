/**
 * Hashing and Ed25519. In Node they run on node:crypto (OpenSSL): about 11x faster than pure JS here (GUIDE
 * section 2), so every hot path goes through this module. In a browser, where the receipt verifier also runs
 * (ADR 013), hashing and verifying fall back to @noble; Node's module is reached through
 * `process.getBuiltinModule`, not an import, so this file's module graph stays free of `node:` modules.
 * Signing needs Node. Signatures always cover domain-separated bytes (`domainBytes`), so a signature made for
 * one purpose can never be replayed for another.
 */
import type { KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha1 as nobleSha1 } from '@noble/hashes/legacy.js';
import { sha256 as nobleSha256, sha384 as nobleSha384, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8 } from './bytes.ts';
import { sm3 } from './sm/sm3.ts';

type NodeCrypto = typeof import('node:crypto');
/** node:crypto takes any Uint8Array where its types say Buffer. */
type AsBuffer = import('node:buffer').Buffer;

/** node:crypto when running on Node, else undefined (a browser). */
const node: NodeCrypto | undefined = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;

/** Whether hashing and verification run on node:crypto (true in Node) or on @noble (a browser). */
export const usesNodeCrypto = node !== undefined;

function nodeCrypto(what: string): NodeCrypto {
  if (node === undefined) throw new Error(`${what} needs Node.js (node:crypto)`);
  return node;
}

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
  /** A node's signature over its audit log's head (src/api/audit.ts, ADR 015). */
  auditHead: 'jrchain/audit-head/v1',
} as const;
export type Domain = (typeof Domain)[keyof typeof Domain];

const domainPrefixes = new Map<string, Uint8Array>();

/** `domain` as UTF-8 and a 0x00 separator: what `domainBytes` puts before the body. */
export function domainPrefix(domain: Domain): Uint8Array {
  let prefix = domainPrefixes.get(domain);
  if (prefix === undefined) {
    prefix = concatBytes(utf8.encode(domain), new Uint8Array([0]));
    domainPrefixes.set(domain, prefix);
  }
  return prefix;
}

/** `domain` as UTF-8, a 0x00 separator, then the body. */
export function domainBytes(domain: Domain, body: Uint8Array): Uint8Array {
  return concatBytes(domainPrefix(domain), body);
}

// SHA-1 only for reading ESS signingCertificate (v1) attributes of RFC 3161 tokens.
const NOBLE_HASH = {
  sha1: nobleSha1,
  sha256: nobleSha256,
  sha384: nobleSha384,
  sha512: nobleSha512,
} as const;

export type DigestName = keyof typeof NOBLE_HASH | 'sm3';

/** The digest of the concatenated parts with a hash function named as node:crypto names it. */
export function digest(alg: DigestName, ...parts: Uint8Array[]): Uint8Array {
  // sm3() picks node:crypto or pure TypeScript itself (node:crypto may be built without SM3).
  if (alg === 'sm3') return sm3(...parts);
  if (node !== undefined) {
    // One part (most calls): the one-shot node:crypto.hash, without a Hash object per digest.
    if (parts.length === 1 && typeof node.hash === 'function')
      return new Uint8Array(node.hash(alg, parts[0] as AsBuffer, 'buffer'));
    const h = node.createHash(alg);
    for (const p of parts) h.update(p);
    // The digest Buffer owns a fresh ArrayBuffer of its own (not Node's pool): view it rather than copy.
    const out = h.digest();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  const h = NOBLE_HASH[alg].create();
  for (const p of parts) h.update(p);
  return h.digest();
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  return digest('sha256', ...parts);
}

export function sha384(...parts: Uint8Array[]): Uint8Array {
  return digest('sha384', ...parts);
}

export function sha512(...parts: Uint8Array[]): Uint8Array {
  return digest('sha512', ...parts);
}

/** Domain-separated SHA-256, for identifiers (tx ids, header hashes, set hashes). */
export function taggedHash(domain: Domain, body: Uint8Array): Uint8Array {
  // Hashed in two parts: the same bytes as domainBytes(domain, body), without copying the body.
  return sha256(domainPrefix(domain), body);
}

// DER prefixes that wrap a raw 32-byte Ed25519 key as PKCS#8 / SPKI (RFC 8410).
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');
const SPKI_PREFIX = fromHex('302a300506032b6570032100');

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== SEED_LENGTH) throw new RangeError(`Ed25519 seed must be ${SEED_LENGTH} bytes`);
  const key = concatBytes(PKCS8_PREFIX, seed);
  return nodeCrypto('signing').createPrivateKey({ key: key as AsBuffer, format: 'der', type: 'pkcs8' });
}

export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) throw new RangeError(`Ed25519 public key must be 32 bytes`);
  const key = concatBytes(SPKI_PREFIX, publicKey);
  return nodeCrypto('a key object').createPublicKey({ key: key as AsBuffer, format: 'der', type: 'spki' });
}

export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const der = nodeCrypto('signing')
    .createPublicKey(privateKeyFromSeed(seed))
    .export({ format: 'der', type: 'spki' });
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
    const seed = new Uint8Array(nodeCrypto('key generation').randomBytes(SEED_LENGTH));
    return { signer: new Ed25519Signer(seed), seed };
  }

  sign(domain: Domain, body: Uint8Array): Uint8Array {
    return new Uint8Array(nodeCrypto('signing').sign(null, domainBytes(domain, body), this.key));
  }
}

// Building a KeyObject costs more than a verify, so keys are cached. The cache is bounded: keys come from the
// genesis and validator set, but a flood of unknown keys must not grow memory.
const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<string, KeyObject>();

/** The KeyObject of an Ed25519 public key, from the bounded cache (throws on a malformed key). */
export function cachedPublicKey(publicKey: Uint8Array): KeyObject {
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
  if (node === undefined) return nobleVerify(publicKey, domainBytes(domain, body), signature);
  let key: KeyObject;
  try {
    key = cachedPublicKey(publicKey);
  } catch {
    return false;
  }
  return node.verify(null, domainBytes(domain, body), key, signature);
}

/** Strict RFC 8032 verification, as OpenSSL does it: noble's ZIP 215 mode would accept more signatures. */
function nobleVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
