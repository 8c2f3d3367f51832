/**
 * SM2 digital signatures (GM/T 0003-2012 part 2, GB/T 32918.2-2016) on the recommended curve sm2p256v1
 * (GM/T 0003 part 5), with SM3 and the Z value that binds the signer's identity: pure TypeScript over
 * @noble/curves' generic short-Weierstrass points, so it runs in browsers as well. Node's OpenSSL can sign SM2,
 * but node:crypto gives no way to pass the user ID, so it cannot compute the standard's Z value.
 *
 * Encodings (GM/T 0009 practice): a private key is the 32-byte big-endian scalar d, a public key is the
 * uncompressed point 04 || x || y (65 bytes), a signature is r || s (64 bytes); `sm2SignatureToDer` and
 * `sm2SignatureFromDer` convert to and from the DER `SM2Signature` that OpenSSL and X.509 use.
 */
import { DER } from '@noble/curves/abstract/der.js';
import { invert, mod } from '@noble/curves/abstract/modular.js';
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { concatBytes, equalBytes, toHex, utf8 } from '../bytes.ts';
import { SuiteError, SuiteErrorCode } from './errors.ts';
import { Sm3, sm3 } from './sm3.ts';

/** The recommended curve parameters of GM/T 0003 part 5 (also OpenSSL's SM2, OID 1.2.156.10197.1.301). */
export const SM2_CURVE = {
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  h: 1n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
} as const;

const Point = weierstrass(SM2_CURVE);
type Point = InstanceType<typeof Point>;
const N = SM2_CURVE.n;

/** The default user ID of GM/T 0009 and OpenSSL: the ASCII string "1234567812345678". */
export const SM2_DEFAULT_USER_ID: Uint8Array = utf8.encode('1234567812345678');
export const SM2_PRIVATE_KEY_LENGTH = 32;
export const SM2_PUBLIC_KEY_LENGTH = 65;
export const SM2_SIGNATURE_LENGTH = 64;
/** ENTL is a 16-bit count of bits, so an ID may have at most 8191 bytes. */
const MAX_USER_ID_LENGTH = 8191;

const fieldBytes = (x: bigint): Uint8Array => numberToBytesBE(x, 32);

/** The scalar d of a 32-byte private key. d must lie in [1, n-2]: signing inverts 1 + d. */
function privateScalar(privateKey: Uint8Array): bigint {
  if (privateKey.length !== SM2_PRIVATE_KEY_LENGTH) {
    throw new SuiteError(
      SuiteErrorCode.badPrivateKey,
      `SM2 private key must be ${SM2_PRIVATE_KEY_LENGTH} bytes`,
    );
  }
  const d = bytesToNumberBE(privateKey);
  if (d < 1n || d > N - 2n)
    throw new SuiteError(SuiteErrorCode.badPrivateKey, 'SM2 private key out of range');
  return d;
}

/** Decodes 04 || x || y into a point of the curve, refusing anything else with a typed error. */
export function sm2PublicPoint(publicKey: Uint8Array): Point {
  if (publicKey.length !== SM2_PUBLIC_KEY_LENGTH || publicKey[0] !== 0x04) {
    throw new SuiteError(SuiteErrorCode.badPublicKey, 'SM2 public key must be 65 bytes: 04 || x || y');
  }
  try {
    const point = Point.fromBytes(publicKey);
    point.assertValidity();
    return point;
  } catch (err) {
    throw new SuiteError(SuiteErrorCode.badPublicKey, 'SM2 public key is not a point of the curve', {
      reason: (err as Error).message,
    });
  }
}

/** The public key 04 || x || y of a private key. */
export function sm2PublicKey(privateKey: Uint8Array): Uint8Array {
  return Point.BASE.multiply(privateScalar(privateKey)).toBytes(false);
}

/** Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA), GM/T 0003 part 2 section 5.5. */
export function sm2Z(publicKey: Uint8Array, userId: Uint8Array = SM2_DEFAULT_USER_ID): Uint8Array {
  if (userId.length > MAX_USER_ID_LENGTH) {
    throw new SuiteError(SuiteErrorCode.badPublicKey, `SM2 user ID longer than ${MAX_USER_ID_LENGTH} bytes`);
  }
  const point = sm2PublicPoint(publicKey);
  const entl = userId.length * 8;
  return sm3(
    new Uint8Array([entl >>> 8, entl & 0xff]),
    userId,
    fieldBytes(SM2_CURVE.a),
    fieldBytes(SM2_CURVE.b),
    fieldBytes(SM2_CURVE.Gx),
    fieldBytes(SM2_CURVE.Gy),
    fieldBytes(point.x),
    fieldBytes(point.y),
  );
}

/** e = SM3(Z || M), the value SM2 signs. */
export function sm2Digest(publicKey: Uint8Array, message: Uint8Array, userId?: Uint8Array): Uint8Array {
  return sm3(sm2Z(publicKey, userId), message);
}

function hmacSm3(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  // Keys here are 32 bytes, under SM3's 64-byte block, so they are only zero-padded (RFC 2104).
  const pad = (byte: number) => Uint8Array.from({ length: 64 }, (_, i) => (key[i] ?? 0) ^ byte);
  const inner = new Sm3().update(pad(0x36));
  for (const p of parts) inner.update(p);
  return sm3(pad(0x5c), inner.digest());
}

/**
 * The nonces of RFC 6979 section 3.2 with HMAC-SM3, as a generator: a deterministic k from d and e (plus
 * optional extra entropy, section 3.6), and the next candidate whenever a k is unusable.
 */
function* rfc6979Nonces(d: bigint, e: Uint8Array, extra: Uint8Array): Generator<bigint> {
  const seed = concatBytes(fieldBytes(d), fieldBytes(mod(bytesToNumberBE(e), N)), extra);
  let v: Uint8Array = new Uint8Array(32).fill(1);
  let k: Uint8Array = new Uint8Array(32);
  k = hmacSm3(k, v, new Uint8Array([0]), seed);
  v = hmacSm3(k, v);
  k = hmacSm3(k, v, new Uint8Array([1]), seed);
  v = hmacSm3(k, v);
  for (;;) {
    v = hmacSm3(k, v);
    const candidate = bytesToNumberBE(v);
    if (candidate >= 1n && candidate < N) yield candidate;
    k = hmacSm3(k, v, new Uint8Array([0]));
    v = hmacSm3(k, v);
  }
}

/**
 * Steps A3 to A7 of GM/T 0003 part 2 section 6.1 for one nonce k: r || s, or undefined when the standard says
 * to pick another k (r = 0, r + k = n or s = 0). Exported for the standard's example, which fixes k.
 */
export function sm2SignWithNonce(privateKey: Uint8Array, e: Uint8Array, k: bigint): Uint8Array | undefined {
  const d = privateScalar(privateKey);
  if (k < 1n || k >= N) throw new RangeError('SM2 nonce out of range');
  const x1 = Point.BASE.multiply(k).x;
  const r = mod(bytesToNumberBE(e) + x1, N);
  if (r === 0n || r + k === N) return undefined;
  const s = mod(invert(1n + d, N) * (k - r * d), N);
  if (s === 0n) return undefined;
  return concatBytes(fieldBytes(r), fieldBytes(s));
}

export interface Sm2SignOptions {
  userId?: Uint8Array;
  /** Extra entropy mixed into the deterministic nonce (RFC 6979 section 3.6); the default adds none. */
  extraEntropy?: Uint8Array;
}

/** Signs SM3(Z || message) with a deterministic nonce; returns r || s. */
export function sm2Sign(
  privateKey: Uint8Array,
  message: Uint8Array,
  options: Sm2SignOptions = {},
): Uint8Array {
  const e = sm2Digest(sm2PublicKey(privateKey), message, options.userId);
  return sm2SignDigest(privateKey, e, options.extraEntropy);
}

/** Signs a computed e = SM3(Z || M) (a signer that keeps its Z saves a scalar multiplication per signature). */
export function sm2SignDigest(
  privateKey: Uint8Array,
  e: Uint8Array,
  extraEntropy: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const d = privateScalar(privateKey);
  for (const k of rfc6979Nonces(d, e, extraEntropy)) {
    const signature = sm2SignWithNonce(privateKey, e, k);
    if (signature !== undefined) return signature;
  }
  throw new Error('unreachable: the nonce generator is infinite');
}

/** r and s of r || s; any other length throws a SuiteError. */
function splitSignature(signature: Uint8Array): { r: bigint; s: bigint } {
  if (signature.length !== SM2_SIGNATURE_LENGTH) {
    throw new SuiteError(
      SuiteErrorCode.badSignature,
      `SM2 signature must be ${SM2_SIGNATURE_LENGTH} bytes: r || s`,
    );
  }
  return { r: bytesToNumberBE(signature.subarray(0, 32)), s: bytesToNumberBE(signature.subarray(32)) };
}

/**
 * Verifies r || s over message as GM/T 0003 part 2 section 7.1 says: r and s in [1, n-1], t = r + s mod n not
 * 0, (x1, y1) = [s]G + [t]P_A, and R = e + x1 mod n equal to r. A key or signature that is not even well
 * formed throws a SuiteError; a well-formed signature that does not verify returns false.
 */
export function sm2Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  userId?: Uint8Array,
): boolean {
  const { r, s } = splitSignature(signature);
  const key = userId === undefined ? cachedKey(publicKey) : undefined;
  const point = key?.point ?? sm2PublicPoint(publicKey);
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  const t = mod(r + s, N);
  if (t === 0n) return false;
  // [s]G + [t]P: G always has a precomputed table, P once its key is hot (see `cachedKey`).
  const sum = Point.BASE.multiplyUnsafe(s).add(point.multiplyUnsafe(t));
  if (sum.is0()) return false;
  const e = key === undefined ? sm2Digest(publicKey, message, userId) : sm3(key.z, message);
  return mod(bytesToNumberBE(e) + sum.toAffine().x, N) === r;
}

/**
 * Verification cost is two scalar multiplications, [s]G and [t]P. G carries noble's precomputed table; a
 * public key verified often (a validator's, a busy client's) gets a width-4 table too, which makes verify about
 * 4x faster (docs/long-term.md has the figures). Keys are cached with their decoded point and default-ID Z value,
 * in bounded maps, so that a flood of unknown keys costs neither unbounded memory nor table building.
 */
interface CachedKey {
  readonly point: Point;
  readonly z: Uint8Array;
  uses: number;
  tabled: boolean;
}
const KEY_CACHE_LIMIT = 4096;
/** A width-4 table holds 520 points (about 80 KB): tables for at most this many keys. */
const TABLE_LIMIT = 256;
/** A table costs about 15 verifies' worth of work: build it on a key's 16th verify. */
const TABLE_AFTER_USES = 16;
const keyCache = new Map<string, CachedKey>();
let tabledKeys = 0;

function cachedKey(publicKey: Uint8Array): CachedKey {
  const id = toHex(publicKey);
  let key = keyCache.get(id);
  if (key === undefined) {
    const point = sm2PublicPoint(publicKey);
    key = { point, z: sm2Z(publicKey), uses: 0, tabled: false };
    if (keyCache.size >= KEY_CACHE_LIMIT) {
      const oldest = keyCache.keys().next().value!;
      if (keyCache.get(oldest)!.tabled) tabledKeys--;
      keyCache.delete(oldest);
    }
    keyCache.set(id, key);
  }
  key.uses++;
  if (!key.tabled && key.uses >= TABLE_AFTER_USES && tabledKeys < TABLE_LIMIT) {
    key.point.precompute(4, false);
    key.tabled = true;
    tabledKeys++;
  }
  return key;
}

/** r || s as the DER SEQUENCE { r INTEGER, s INTEGER } of GM/T 0009 and OpenSSL. */
export function sm2SignatureToDer(signature: Uint8Array): Uint8Array {
  const hex = DER.hexFromSig(splitSignature(signature));
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

/** A strict DER SM2Signature as r || s; r and s must fit 32 bytes (their range is checked by verification). */
export function sm2SignatureFromDer(der: Uint8Array): Uint8Array {
  let sig: { r: bigint; s: bigint };
  try {
    sig = DER.toSig(der);
  } catch (err) {
    throw new SuiteError(SuiteErrorCode.badSignature, 'SM2 signature is not a DER SEQUENCE of two INTEGERs', {
      reason: (err as Error).message,
    });
  }
  if (sig.r >= 2n ** 256n || sig.s >= 2n ** 256n) {
    throw new SuiteError(SuiteErrorCode.badSignature, 'SM2 signature INTEGER longer than 32 bytes');
  }
  const out = concatBytes(fieldBytes(sig.r), fieldBytes(sig.s));
  // DER.toSig must have consumed exactly this encoding: re-encoding gives back the same bytes.
  if (!equalBytes(sm2SignatureToDer(out), der)) {
    throw new SuiteError(SuiteErrorCode.badSignature, 'SM2 signature DER is not canonical');
  }
  return out;
}
