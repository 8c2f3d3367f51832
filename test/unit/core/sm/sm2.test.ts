/**
 * SM2 signatures (GM/T 0003-2012): the standard's example on the recommended curve, the verification rules,
 * typed refusal of malformed input, and interop with OpenSSL in both directions.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../../../../src/core/bytes.ts';
import { SuiteErrorCode } from '../../../../src/core/sm/errors.ts';
import {
  SM2_CURVE,
  sm2Digest,
  sm2PublicKey,
  sm2Sign,
  sm2SignatureFromDer,
  sm2SignatureToDer,
  sm2SignWithNonce,
  sm2Verify,
  sm2Z,
} from '../../../../src/core/sm/sm2.ts';
import { codeOf } from '../../../helpers/errors.ts';
import { opensslHas, sm2PublicKeyFromSpki, sm2Spki, testBytes } from '../../../helpers/sm.ts';

// GM/T 0003-2012 part 5 (GB/T 32918.5-2017), the signature example on the recommended curve.
const EXAMPLE = {
  d: fromHex('3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8'),
  publicKey: fromHex(
    '0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020' +
      'ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13',
  ),
  message: utf8.encode('message digest'),
  z: 'b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3',
  e: 'f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640',
  k: 0x59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21n,
  r: 'f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3',
  s: 'b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa',
};

const N = SM2_CURVE.n;
const scalar = (x: bigint) => fromHex(x.toString(16).padStart(64, '0'));
const sig = (r: bigint, s: bigint) => concatBytes(scalar(r), scalar(s));
const flip = (bytes: Uint8Array, index: number) => {
  const out = bytes.slice();
  out[index]! ^= 1;
  return out;
};

describe('SM2, the standard example (GM/T 0003 part 5)', () => {
  it('derives the public key, Z, e, and with the given k exactly r and s', () => {
    expect(toHex(sm2PublicKey(EXAMPLE.d))).toBe(toHex(EXAMPLE.publicKey));
    expect(toHex(sm2Z(EXAMPLE.publicKey))).toBe(EXAMPLE.z);
    const e = sm2Digest(EXAMPLE.publicKey, EXAMPLE.message);
    expect(toHex(e)).toBe(EXAMPLE.e);
    const signature = sm2SignWithNonce(EXAMPLE.d, e, EXAMPLE.k);
    expect(toHex(signature!)).toBe(EXAMPLE.r + EXAMPLE.s);
    expect(sm2Verify(EXAMPLE.publicKey, EXAMPLE.message, signature!)).toBe(true);
  });
});

describe('SM2 signing and verification', () => {
  const message = utf8.encode('mediation agreement, case 2026-BJ-CC-000123');
  const signature = sm2Sign(EXAMPLE.d, message);

  it('signs deterministically, and extra entropy gives another valid signature', () => {
    expect(toHex(sm2Sign(EXAMPLE.d, message))).toBe(toHex(signature));
    const hedged = sm2Sign(EXAMPLE.d, message, { extraEntropy: testBytes('entropy', 32) });
    expect(toHex(hedged)).not.toBe(toHex(signature));
    expect(sm2Verify(EXAMPLE.publicKey, message, hedged)).toBe(true);
  });

  it('verifies its own signatures for many keys and messages', () => {
    for (let i = 0; i < 8; i++) {
      const d = testBytes(`key-${i}`, 32);
      const m = testBytes(`message-${i}`, i * 37);
      expect(sm2Verify(sm2PublicKey(d), m, sm2Sign(d, m)), `case ${i}`).toBe(true);
    }
  });

  it('binds the user ID through Z', () => {
    const userId = utf8.encode('ALICE123@YAHOO.COM');
    const withId = sm2Sign(EXAMPLE.d, message, { userId });
    expect(sm2Verify(EXAMPLE.publicKey, message, withId, userId)).toBe(true);
    expect(sm2Verify(EXAMPLE.publicKey, message, withId)).toBe(false);
    expect(sm2Verify(EXAMPLE.publicKey, message, signature, userId)).toBe(false);
  });

  it('rejects a changed message, r, s or key', () => {
    expect(sm2Verify(EXAMPLE.publicKey, flip(message, 0), signature)).toBe(false);
    expect(sm2Verify(EXAMPLE.publicKey, message, flip(signature, 5))).toBe(false);
    expect(sm2Verify(EXAMPLE.publicKey, message, flip(signature, 40))).toBe(false);
    const other = sm2PublicKey(testBytes('other', 32));
    expect(sm2Verify(other, message, signature)).toBe(false);
  });

  it('verifies the same way once a hot key has its precomputed table', () => {
    const key = testBytes('hot key', 32);
    const publicKey = sm2PublicKey(key);
    // 40 rounds cross the table threshold (the 16th use); before and after, good passes and tampered fails.
    for (let i = 0; i < 40; i++) {
      const m = utf8.encode(`hot ${i}`);
      const sg = sm2Sign(key, m);
      expect(sm2Verify(publicKey, m, sg), `round ${i}`).toBe(true);
      expect(sm2Verify(publicKey, m, flip(sg, 63)), `round ${i}`).toBe(false);
      expect(sm2Verify(publicKey, flip(m, 0), sg), `round ${i}`).toBe(false);
    }
    // The example's known-good signature still verifies through the same cache.
    expect(sm2Verify(EXAMPLE.publicKey, EXAMPLE.message, fromHex(EXAMPLE.r + EXAMPLE.s))).toBe(true);
  });

  it('rejects r or s outside [1, n-1] and r + s = n, as the standard requires', () => {
    const r = BigInt(`0x${toHex(signature.subarray(0, 32))}`);
    const s = BigInt(`0x${toHex(signature.subarray(32))}`);
    for (const [bad, why] of [
      [sig(0n, s), 'r = 0'],
      [sig(r, 0n), 's = 0'],
      [sig(N + 1n, s), 'r = n + 1'],
      [sig(r, N + 1n), 's = n + 1'],
      [sig(r, N), 's = n'],
      [sig(N, s), 'r = n'],
      [sig(r, N - r), 'r + s = n'],
    ] as const) {
      expect(sm2Verify(EXAMPLE.publicKey, message, bad), why).toBe(false);
    }
  });

  it('refuses malformed signatures and keys with typed errors', () => {
    const pk = EXAMPLE.publicKey;
    expect(codeOf(() => sm2Verify(pk, message, signature.subarray(0, 63)))).toBe(SuiteErrorCode.badSignature);
    expect(codeOf(() => sm2Verify(pk, message, concatBytes(signature, new Uint8Array(1))))).toBe(
      SuiteErrorCode.badSignature,
    );
    const compressed = concatBytes(new Uint8Array([2 + (pk[64]! & 1)]), pk.subarray(1, 33));
    const offCurve = flip(pk, 64);
    for (const bad of [pk.subarray(0, 64), compressed, flip(pk, 0), offCurve, new Uint8Array(65)]) {
      expect(
        codeOf(() => sm2Verify(bad, message, signature)),
        toHex(bad),
      ).toBe(SuiteErrorCode.badPublicKey);
    }
    for (const bad of [
      new Uint8Array(32),
      scalar(N - 1n),
      scalar(N),
      new Uint8Array(31),
      new Uint8Array(33),
    ]) {
      expect(
        codeOf(() => sm2Sign(bad, message)),
        toHex(bad),
      ).toBe(SuiteErrorCode.badPrivateKey);
    }
    expect(codeOf(() => sm2Z(pk, new Uint8Array(8192)))).toBe(SuiteErrorCode.badPublicKey);
  });

  it('converts to and from DER, refusing non-canonical encodings', () => {
    const der = sm2SignatureToDer(signature);
    expect(toHex(sm2SignatureFromDer(der))).toBe(toHex(signature));
    expect(codeOf(() => sm2SignatureFromDer(concatBytes(der, new Uint8Array(1))))).toBe(
      SuiteErrorCode.badSignature,
    );
    expect(codeOf(() => sm2SignatureFromDer(der.subarray(0, der.length - 1)))).toBe(
      SuiteErrorCode.badSignature,
    );
    // r with a superfluous leading zero byte: the same number, but not DER.
    const padded = fromHex(`3008020300${'01'.repeat(2)}020101`);
    expect(codeOf(() => sm2SignatureFromDer(padded))).toBe(SuiteErrorCode.badSignature);
    expect(codeOf(() => sm2SignatureToDer(signature.subarray(1)))).toBe(SuiteErrorCode.badSignature);
    // A 33-byte r (a value of 2^256) does not fit r || s.
    const tooLong = fromHex(`3026022101${'00'.repeat(32)}020101`);
    expect(codeOf(() => sm2SignatureFromDer(tooLong))).toBe(SuiteErrorCode.badSignature);
  });
});

describe.skipIf(!opensslHas('public-key', 'SM2'))(
  'SM2 against OpenSSL (skipped when this openssl lacks SM2)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'jrchain-sm2-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string) => join(dir, name);
    const message = testBytes('openssl message', 300);
    writeFileSync(file('msg'), message);
    const pkeyutl = (args: string[]) =>
      execFileSync(
        'openssl',
        [
          'pkeyutl',
          ...args,
          '-rawin',
          '-digest',
          'sm3',
          '-pkeyopt',
          'distid:1234567812345678',
          '-in',
          file('msg'),
        ],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );

    it('verifies what `openssl pkeyutl -sign` signed', () => {
      execFileSync('openssl', ['genpkey', '-algorithm', 'SM2', '-out', file('key.pem')]);
      execFileSync('openssl', [
        'pkey',
        '-in',
        file('key.pem'),
        '-pubout',
        '-outform',
        'DER',
        '-out',
        file('pub.der'),
      ]);
      const publicKey = sm2PublicKeyFromSpki(readFileSync(file('pub.der')));
      pkeyutl(['-sign', '-inkey', file('key.pem'), '-out', file('ossl.sig')]);
      const signature = sm2SignatureFromDer(readFileSync(file('ossl.sig')));
      expect(sm2Verify(publicKey, message, signature)).toBe(true);
      expect(sm2Verify(publicKey, flip(message, 3), signature)).toBe(false);
    });

    it('has its signatures verified by `openssl pkeyutl -verify`, and a tampered one refused', () => {
      const d = testBytes('openssl key', 32);
      writeFileSync(file('ours.der'), sm2Spki(sm2PublicKey(d)));
      const signature = sm2Sign(d, message);
      writeFileSync(file('ours.sig'), sm2SignatureToDer(signature));
      const verify = [
        '-verify',
        '-pubin',
        '-keyform',
        'DER',
        '-inkey',
        file('ours.der'),
        '-sigfile',
        file('ours.sig'),
      ];
      expect(pkeyutl(verify)).toMatch(/Signature Verified Successfully/);
      writeFileSync(file('ours.sig'), sm2SignatureToDer(flip(signature, 63)));
      expect(() => pkeyutl(verify)).toThrow(/Signature Verification Failure|Command failed/);
    });
  },
);
