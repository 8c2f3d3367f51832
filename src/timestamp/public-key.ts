/**
 * SubjectPublicKeyInfo (RFC 5280 4.1.2.7) read in plain JavaScript: the key type, curve and size that the
 * signature rules depend on, the same in Node and in a browser (ADR 013).
 */
import { DerReader, type Element, readBitString, readOid, Tag } from './asn1.ts';
import { Oid } from './oids.ts';

/** `sm2`: an EC key on sm2p256v1 (GM/T 0003), which makes SM2 signatures, never ECDSA ones. */
export type KeyType = 'rsa' | 'rsa-pss' | 'ec' | 'ed25519' | 'sm2';
export type Curve = 'P-256' | 'P-384' | 'P-521';

export interface PublicKeyInfo {
  /** The whole SubjectPublicKeyInfo DER. */
  spki: Uint8Array;
  /** undefined for an algorithm no signature here uses. */
  type: KeyType | undefined;
  algorithmOid: string;
  /** The named curve of an EC key, when it is one WebCrypto knows; else its OID in `curveOid`. */
  curve?: Curve;
  curveOid?: string;
  /** RSA modulus length in bits. */
  bits?: number;
  /** An id-RSASSA-PSS key's parameters, which restrict the signatures it may make (RFC 4055 3.1). */
  pssParams?: Element;
  /** The subjectPublicKey bits (an Ed25519 key's 32 bytes, an EC point, an RSAPublicKey). */
  key: Uint8Array;
}

const CURVES: Record<string, Curve> = {
  [Oid.curveP256]: 'P-256',
  [Oid.curveP384]: 'P-384',
  [Oid.curveP521]: 'P-521',
};

function modulusBits(rsaPublicKey: Uint8Array): number {
  const seq = DerReader.of(rsaPublicKey, Tag.sequence, 'RSAPublicKey');
  const n = seq.next(Tag.integer, 'modulus').value;
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i) * 8 - Math.clz32(n[i]!) + 24;
}

/** Parses a SubjectPublicKeyInfo; throws TSA_UNPARSABLE when it does not decode. */
export function parsePublicKeyInfo(spki: Uint8Array): PublicKeyInfo {
  const r = DerReader.of(spki, Tag.sequence, 'SubjectPublicKeyInfo');
  const alg = r.next(Tag.sequence, 'algorithm');
  const bits = readBitString(r.next(Tag.bitString, 'subjectPublicKey'), 'subjectPublicKey');
  r.end();
  const a = new DerReader(alg, 'AlgorithmIdentifier');
  const algorithmOid = readOid(a.next(Tag.oid, 'algorithm'), 'algorithm');
  const key = bits.bytes;
  switch (algorithmOid) {
    case Oid.rsaEncryption:
      return { spki, type: 'rsa', algorithmOid, bits: modulusBits(key), key };
    case Oid.rsaPss: {
      const params = a.peekTag() === Tag.sequence ? a.next(Tag.sequence, 'parameters') : undefined;
      return {
        spki,
        type: 'rsa-pss',
        algorithmOid,
        bits: modulusBits(key),
        key,
        ...(params ? { pssParams: params } : {}),
      };
    }
    case Oid.ecPublicKey: {
      const curveOid = a.peekTag() === Tag.oid ? readOid(a.next(Tag.oid, 'namedCurve'), 'namedCurve') : '';
      if (curveOid === Oid.curveSm2) return { spki, type: 'sm2', algorithmOid, curveOid, key };
      const curve = CURVES[curveOid];
      return { spki, type: 'ec', algorithmOid, curveOid, ...(curve ? { curve } : {}), key };
    }
    case Oid.ed25519:
      return { spki, type: 'ed25519', algorithmOid, key };
    default:
      return { spki, type: undefined, algorithmOid, key };
  }
}
