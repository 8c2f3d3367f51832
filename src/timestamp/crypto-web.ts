/**
 * The asynchronous signature engine for receipts, the same in Node and in browsers: WebCrypto
 * (`globalThis.crypto.subtle`) for RSA and ECDSA, @noble/curves for Ed25519 (strict RFC 8032, as OpenSSL).
 * signature.ts has already decided the scheme and that the key may make it (ADR 013). Two differences from
 * OpenSSL are bridged here: WebCrypto takes ECDSA signatures as raw r||s, not DER; and it imports RSA keys
 * only under rsaEncryption, so an id-RSASSA-PSS key is re-wrapped.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes } from '../core/bytes.ts';
import { DerReader, der, Tag } from './asn1.ts';
import { Oid } from './oids.ts';
import { type SignatureCheck, verifySm2Check } from './signature.ts';

const HASH = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' } as const;
const FIELD_BYTES = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const;

/**
 * ECDSA-Sig-Value (SEQUENCE of r, s) to the fixed-width r||s WebCrypto verifies; undefined for any value
 * OpenSSL would not verify either (non-DER, non-minimal or negative integers, or too wide for the curve).
 */
export function ecdsaDerToRaw(signature: Uint8Array, fieldBytes: number): Uint8Array | undefined {
  try {
    return toRaw(signature, fieldBytes);
  } catch {
    return undefined;
  }
}

function toRaw(signature: Uint8Array, fieldBytes: number): Uint8Array {
  const seq = DerReader.of(signature, Tag.sequence, 'ECDSA-Sig-Value');
  const parts = [seq.next(Tag.integer, 'r').value, seq.next(Tag.integer, 's').value];
  seq.end();
  return concatBytes(
    ...parts.map((v) => {
      // Minimal, positive INTEGERs only: OpenSSL refuses any other spelling of a signature.
      if (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) throw new Error('non-minimal ECDSA integer');
      const n = v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
      if (n.length > fieldBytes || (v[0]! & 0x80) !== 0)
        throw new Error('ECDSA signature integer out of range');
      const out = new Uint8Array(fieldBytes);
      out.set(n, fieldBytes - n.length);
      return out;
    }),
  );
}

function rsaSpki(c: SignatureCheck): Uint8Array {
  if (c.key.type !== 'rsa-pss') return c.key.spki;
  return der.seq(der.seq(der.oid(Oid.rsaEncryption), der.null()), der.bitString(c.key.key));
}

type Subtle = typeof globalThis.crypto.subtle;

const subtle = (): Subtle => {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new Error('WebCrypto (crypto.subtle) is not available here');
  return s;
};

const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;

export async function webVerifySignature(c: SignatureCheck): Promise<boolean> {
  const s = c.scheme;
  switch (s.kind) {
    case 'ed25519':
      if (c.key.key.length !== 32) throw new Error('an Ed25519 key is 32 bytes');
      return ed25519.verify(c.signature, c.data, c.key.key, { zip215: false });
    case 'sm2':
      return verifySm2Check(c);
    case 'ecdsa': {
      const curve = c.key.curve;
      if (curve === undefined) throw new Error(`unsupported curve ${c.key.curveOid}`);
      const alg = { name: 'ECDSA', namedCurve: curve };
      const key = await subtle().importKey('spki', buf(c.key.spki), alg, false, ['verify']);
      const raw = ecdsaDerToRaw(c.signature, FIELD_BYTES[curve]);
      if (raw === undefined) return false;
      return subtle().verify({ name: 'ECDSA', hash: HASH[s.hash] }, key, buf(raw), buf(c.data));
    }
    case 'rsa-pkcs1':
    case 'rsa-pss': {
      const name = s.kind === 'rsa-pss' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5';
      const key = await subtle().importKey('spki', buf(rsaSpki(c)), { name, hash: HASH[s.hash] }, false, [
        'verify',
      ]);
      const params = s.kind === 'rsa-pss' ? { name, saltLength: s.saltLength } : { name };
      return subtle().verify(params, key, buf(c.signature), buf(c.data));
    }
  }
}
