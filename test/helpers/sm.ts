/** Shared by the SM2/SM3 tests: deterministic inputs and the system openssl's SM support. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { concatBytes, fromHex } from '../../src/core/bytes.ts';

/** Deterministic test bytes: SHA-256 in counter mode over a label. */
export function testBytes(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i * 32 < length; i++) {
    const block = createHash('sha256').update(`${label}/${i}`).digest();
    out.set(block.subarray(0, Math.min(32, length - i * 32)), i * 32);
  }
  return out;
}

/** Whether the `openssl` on PATH lists the named algorithm among its digests or public-key algorithms. */
export function opensslHas(kind: 'digest' | 'public-key', name: string): boolean {
  try {
    const out = execFileSync('openssl', ['list', `-${kind}-algorithms`], { encoding: 'utf8' });
    return new RegExp(`\\b${name}\\b`, 'i').test(out);
  } catch {
    return false;
  }
}

// SubjectPublicKeyInfo { id-ecPublicKey, sm2p256v1 (1.2.156.10197.1.301) } wrapping 04 || x || y, as OpenSSL writes it.
const SM2_SPKI_PREFIX = fromHex('3059301306072a8648ce3d020106082a811ccf5501822d034200');

export function sm2Spki(publicKey: Uint8Array): Uint8Array {
  return concatBytes(SM2_SPKI_PREFIX, publicKey);
}

/** The public key 04 || x || y inside an SM2 SubjectPublicKeyInfo that OpenSSL wrote. */
export function sm2PublicKeyFromSpki(spki: Uint8Array): Uint8Array {
  return spki.subarray(SM2_SPKI_PREFIX.length);
}
