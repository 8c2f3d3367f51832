/**
 * Passphrase encryption of key files (format `jrchain-key-enc/v1`, docs/security.md#key-files). The seed is
 * sealed with AES-256-GCM under a key derived by scrypt (N=2^15, r=8, p=1, 16-byte salt; 0.29 s measured on
 * a loaded build VM). Every other field (format, type, public key, peer id, creation time, KDF and cipher
 * parameters) is the AAD, so changing any of them fails authentication like a wrong passphrase does.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { toHex, tryFromHex } from './bytes.ts';

export const ENCRYPTED_KEY_FORMAT = 'jrchain-key-enc/v1';
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
/** Upper bound on N accepted from a file, so a crafted file cannot make a load take minutes or exhaust memory. */
const MAX_SCRYPT_N = 2 ** 20;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SEED_BYTES = 32;

export interface KeyMeta {
  /** `case-store`: the key of an encrypted case-key store (ADR 015), with empty publicKey and peerId. */
  type: 'ed25519' | 'x25519' | 'case-store' | 'sm2';
  publicKey: string;
  peerId: string;
  createdAt: string;
}

interface Kdf {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
}

export interface EncryptedKeyDoc extends KeyMeta {
  format: typeof ENCRYPTED_KEY_FORMAT;
  kdf: Kdf;
  cipher: { name: 'aes-256-gcm'; nonce: string };
  ciphertext: string;
  tag: string;
}

/** The AAD: every field but the ciphertext and tag, in a fixed order. */
function aadOf(d: Omit<EncryptedKeyDoc, 'ciphertext' | 'tag'>): Buffer {
  const { N, r, p, salt } = d.kdf;
  return Buffer.from(
    JSON.stringify([
      d.format,
      d.type,
      d.publicKey,
      d.peerId,
      d.createdAt,
      [d.kdf.name, N, r, p, salt],
      [d.cipher.name, d.cipher.nonce],
    ]),
  );
}

function deriveKey(passphrase: string, kdf: Kdf): Buffer {
  const maxmem = 256 * kdf.N * kdf.r * kdf.p + 1024 * 1024;
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'hex'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem,
  });
}

export function encryptSeed(seed: Uint8Array, meta: KeyMeta, passphrase: string): EncryptedKeyDoc {
  const head = {
    format: ENCRYPTED_KEY_FORMAT,
    ...meta,
    kdf: { name: 'scrypt', ...SCRYPT_PARAMS, salt: toHex(randomBytes(SALT_BYTES)) },
    cipher: { name: 'aes-256-gcm', nonce: toHex(randomBytes(NONCE_BYTES)) },
  } as const;
  const c = createCipheriv(
    'aes-256-gcm',
    deriveKey(passphrase, head.kdf),
    Buffer.from(head.cipher.nonce, 'hex'),
  );
  c.setAAD(aadOf(head));
  const ciphertext = Buffer.concat([c.update(seed), c.final()]);
  return { ...head, ciphertext: toHex(ciphertext), tag: toHex(c.getAuthTag()) };
}

const isHex = (v: unknown, bytes: number): v is string =>
  typeof v === 'string' && tryFromHex(v)?.length === bytes;

/** Checks the shape of an encrypted document; returns why it is malformed, or undefined. */
export function malformedEncrypted(d: Record<string, unknown>): string | undefined {
  const kdf = d.kdf as Record<string, unknown> | undefined;
  const cipher = d.cipher as Record<string, unknown> | undefined;
  if (typeof kdf !== 'object' || kdf === null || kdf.name !== 'scrypt') return 'kdf is not scrypt';
  const { N, r, p } = kdf;
  if (typeof N !== 'number' || !Number.isInteger(Math.log2(N)) || N < 2 || N > MAX_SCRYPT_N)
    return `kdf N must be a power of two up to ${MAX_SCRYPT_N}`;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > 32) return 'kdf r must be 1..32';
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 16) return 'kdf p must be 1..16';
  if (!isHex(kdf.salt, SALT_BYTES)) return `kdf salt is not ${SALT_BYTES} bytes of hex`;
  if (typeof cipher !== 'object' || cipher === null || cipher.name !== 'aes-256-gcm')
    return 'cipher is not aes-256-gcm';
  if (!isHex(cipher.nonce, NONCE_BYTES)) return `cipher nonce is not ${NONCE_BYTES} bytes of hex`;
  if (!isHex(d.tag, TAG_BYTES)) return `tag is not ${TAG_BYTES} bytes of hex`;
  // An sm2 key file seals its SM2 private key and its Ed25519 peer seed together (src/core/keys.ts).
  const secretBytes = d.type === 'sm2' ? 2 * SEED_BYTES : SEED_BYTES;
  if (!isHex(d.ciphertext, secretBytes)) return `ciphertext is not ${secretBytes} bytes of hex`;
  for (const f of ['publicKey', 'peerId', 'createdAt'] as const)
    if (typeof d[f] !== 'string') return `${f} is not a string`;
  return undefined;
}

/** The seed, or undefined when the passphrase is wrong or any field was altered (GCM cannot tell which). */
export function decryptSeed(d: EncryptedKeyDoc, passphrase: string): Uint8Array | undefined {
  const dc = createDecipheriv(
    'aes-256-gcm',
    deriveKey(passphrase, d.kdf),
    Buffer.from(d.cipher.nonce, 'hex'),
  );
  dc.setAAD(aadOf(d));
  dc.setAuthTag(Buffer.from(d.tag, 'hex'));
  try {
    return new Uint8Array(Buffer.concat([dc.update(Buffer.from(d.ciphertext, 'hex')), dc.final()]));
  } catch {
    return undefined;
  }
}
