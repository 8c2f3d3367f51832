/** Both crypto suites pass the same compliance checks; each also matches its independent reference. */
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8 } from '../../../src/core/bytes.ts';
import { Domain, publicKeyFromSeed, sha256 } from '../../../src/core/crypto.ts';
import {
  CRYPTO_SUITES,
  type CryptoSuite,
  cryptoSuite,
  ED25519_SHA256,
  SM2_SM3,
} from '../../../src/core/crypto-suite.ts';
import { SuiteErrorCode } from '../../../src/core/sm/errors.ts';
import { sm2Verify } from '../../../src/core/sm/sm2.ts';
import { codeOf } from '../../helpers/errors.ts';
import { testBytes } from '../../helpers/sm.ts';

/** Public-key bytes of the right length that are not a point of the suite's curve, found deterministically. */
function notAPoint(suite: CryptoSuite): Uint8Array {
  for (let i = 0; ; i++) {
    const candidate = testBytes(`not-a-point-${i}`, suite.publicKeyLength);
    if (suite === SM2_SM3) candidate[0] = 4;
    if (codeOf(() => suite.checkPublicKey(candidate)) !== undefined) return candidate;
  }
}

const flip = (bytes: Uint8Array, index: number) => {
  const out = bytes.slice();
  out[index]! ^= 1;
  return out;
};

describe.each(Object.values(CRYPTO_SUITES))('crypto suite $name', (suite) => {
  const privateKey = testBytes(`${suite.name}-key`, suite.privateKeyLength);
  const signer = suite.signer(privateKey);
  const body = utf8.encode('evidence 1');

  it('hashes concatenated parts to hashLength bytes', () => {
    const a = utf8.encode('a');
    const bc = utf8.encode('bc');
    expect(suite.hash(a, bc)).toHaveLength(suite.hashLength);
    expect(toHex(suite.hash(a, bc))).toBe(toHex(suite.hash(concatBytes(a, bc))));
    expect(toHex(suite.hash(a))).not.toBe(toHex(suite.hash(bc)));
    expect(toHex(suite.taggedHash(Domain.txId, a))).not.toBe(toHex(suite.taggedHash(Domain.header, a)));
  });

  it('derives the public key the signer carries, and accepts it', () => {
    const publicKey = suite.publicKey(privateKey);
    expect(publicKey).toHaveLength(suite.publicKeyLength);
    expect(toHex(signer.publicKey)).toBe(toHex(publicKey));
    expect(() => suite.checkPublicKey(publicKey)).not.toThrow();
    const fresh = suite.generatePrivateKey();
    expect(fresh).toHaveLength(suite.privateKeyLength);
    expect(toHex(fresh)).not.toBe(toHex(suite.generatePrivateKey()));
  });

  it('verifies its signatures only for the same key, domain, body and signature', () => {
    const signature = signer.sign(Domain.tx, body);
    expect(signature).toHaveLength(suite.signatureLength);
    expect(suite.verify(signer.publicKey, Domain.tx, body, signature)).toBe(true);
    expect(suite.verify(signer.publicKey, Domain.commit, body, signature)).toBe(false);
    expect(suite.verify(signer.publicKey, Domain.tx, utf8.encode('evidence 2'), signature)).toBe(false);
    expect(suite.verify(signer.publicKey, Domain.tx, body, flip(signature, 7))).toBe(false);
    const other = suite.publicKey(testBytes(`${suite.name}-other`, suite.privateKeyLength));
    expect(suite.verify(other, Domain.tx, body, signature)).toBe(false);
  });

  it('answers false, never throws, for malformed keys and signatures', () => {
    const signature = signer.sign(Domain.tx, body);
    expect(suite.verify(signer.publicKey, Domain.tx, body, signature.subarray(1))).toBe(false);
    expect(suite.verify(signer.publicKey.subarray(1), Domain.tx, body, signature)).toBe(false);
    expect(suite.verify(notAPoint(suite), Domain.tx, body, signature)).toBe(false);
    expect(suite.verify(new Uint8Array(0), Domain.tx, body, new Uint8Array(0))).toBe(false);
  });

  it('refuses malformed keys with typed errors', () => {
    expect(codeOf(() => suite.checkPublicKey(signer.publicKey.subarray(1)))).toBe(
      SuiteErrorCode.badPublicKey,
    );
    expect(codeOf(() => suite.checkPublicKey(notAPoint(suite)))).toBe(SuiteErrorCode.badPublicKey);
    const short = privateKey.subarray(1);
    expect(codeOf(() => suite.publicKey(short))).toBe(SuiteErrorCode.badPrivateKey);
    expect(codeOf(() => suite.signer(short))).toBe(SuiteErrorCode.badPrivateKey);
  });

  it('is found by its name', () => {
    expect(cryptoSuite(suite.name)).toBe(suite);
  });
});

describe('the suites against their references', () => {
  const body = utf8.encode('evidence');

  it('ed25519-sha256 is SHA-256 and RFC 8032 Ed25519, as src/core/crypto.ts', () => {
    const seed = testBytes('ed-ref', 32);
    expect(toHex(ED25519_SHA256.hash(body))).toBe(createHash('sha256').update(body).digest('hex'));
    expect(toHex(ED25519_SHA256.taggedHash(Domain.txId, body))).toBe(
      toHex(sha256(utf8.encode(Domain.txId), new Uint8Array([0]), body)),
    );
    expect(toHex(ED25519_SHA256.publicKey(seed))).toBe(toHex(publicKeyFromSeed(seed)));
    const signature = ED25519_SHA256.signer(seed).sign(Domain.tx, body);
    const signed = concatBytes(utf8.encode(Domain.tx), new Uint8Array([0]), body);
    expect(ed25519.verify(signature, signed, publicKeyFromSeed(seed))).toBe(true);
  });

  it('sm2-sm3 is SM3 and SM2 with the default user ID over the same domain-separated bytes', () => {
    const key = testBytes('sm-ref', 32);
    expect(toHex(SM2_SM3.hash(body))).toBe(createHash('sm3').update(body).digest('hex'));
    const signer = SM2_SM3.signer(key);
    const signed = concatBytes(utf8.encode(Domain.tx), new Uint8Array([0]), body);
    expect(sm2Verify(signer.publicKey, signed, signer.sign(Domain.tx, body))).toBe(true);
  });

  it('refuses an unknown suite name with a typed error', () => {
    expect(codeOf(() => cryptoSuite('rsa-sha1'))).toBe(SuiteErrorCode.unknownSuite);
    expect(codeOf(() => cryptoSuite('toString'))).toBe(SuiteErrorCode.unknownSuite);
  });

  it('names distinct algorithms', () => {
    const oids = Object.values(CRYPTO_SUITES).flatMap((s) => [s.oids.hash, s.oids.signature]);
    expect(new Set(oids).size).toBe(oids.length);
  });
});
