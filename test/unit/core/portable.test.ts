/**
 * The browser half of core (ADR 013): crypto.ts without node:crypto (as in a browser, where
 * `process.getBuiltinModule` is absent) hashes and verifies exactly as with it; peer ids and the genesis
 * certificate check need no libp2p or OpenSSL.
 */
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { describe, expect, it, vi } from 'vitest';
import { fromBase64, fromHex, toBase64, toHex, utf8Length } from '../../../src/core/bytes.ts';
import * as nodeCrypto from '../../../src/core/crypto.ts';
import { ed25519PeerId } from '../../../src/core/peer-id.ts';
import { isCertificatePem } from '../../../src/core/pem-cert.ts';
import { makePki } from '../../helpers/tsa.ts';

/** core/crypto.ts loaded as a browser loads it: no process.getBuiltinModule. */
async function browserCrypto(): Promise<typeof nodeCrypto> {
  const real = process.getBuiltinModule;
  vi.resetModules();
  try {
    (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
    return await import('../../../src/core/crypto.ts');
  } finally {
    process.getBuiltinModule = real;
  }
}

describe('core/crypto.ts without node:crypto', () => {
  it('hashes as node:crypto does', async () => {
    const web = await browserCrypto();
    expect(web.usesNodeCrypto).toBe(false);
    expect(nodeCrypto.usesNodeCrypto).toBe(true);
    for (const len of [0, 1, 55, 56, 64, 1000]) {
      const data = Uint8Array.from({ length: len }, (_, i) => (i * 31) & 0xff);
      for (const alg of ['sha1', 'sha256', 'sha384', 'sha512'] as const) {
        const want = toHex(new Uint8Array(createHash(alg).update(data).digest()));
        expect(
          toHex(web.digest(alg, data.subarray(0, len >> 1), data.subarray(len >> 1))),
          `${alg} ${len}`,
        ).toBe(want);
      }
    }
  });

  it('verifies Ed25519 as OpenSSL does, strictly', async () => {
    const web = await browserCrypto();
    const { signer } = nodeCrypto.Ed25519Signer.generate();
    const body = new TextEncoder().encode('a tx body');
    const sig = signer.sign(nodeCrypto.Domain.tx, body);
    const both = (pk: Uint8Array, s: Uint8Array, domain: nodeCrypto.Domain = nodeCrypto.Domain.tx) => [
      nodeCrypto.verifySignature(pk, domain, body, s),
      web.verifySignature(pk, domain, body, s),
    ];
    expect(both(signer.publicKey, sig)).toEqual([true, true]);
    expect(both(signer.publicKey, sig, nodeCrypto.Domain.commit)).toEqual([false, false]);
    const bad = sig.slice();
    bad[5]! ^= 1;
    expect(both(signer.publicKey, bad)).toEqual([false, false]);
    // S + L: the same signature with a non-canonical S, which RFC 8032 (and OpenSSL) refuse and ZIP 215 allows.
    const L = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
    const s = sig.slice(32);
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const v = s[i]! + L[i]! + carry;
      s[i] = v & 0xff;
      carry = v >> 8;
    }
    const malleated = Uint8Array.from([...sig.subarray(0, 32), ...s]);
    expect(both(signer.publicKey, malleated)).toEqual([false, false]);
  });

  it('cannot sign, and says so', async () => {
    const web = await browserCrypto();
    expect(() => web.Ed25519Signer.generate()).toThrow('key generation needs Node.js (node:crypto)');
  });
});

describe('bytes without Buffer', () => {
  it('hex and base64 round-trip as Buffer spells them', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    expect(toHex(data)).toBe(Buffer.from(data).toString('hex'));
    expect(toBase64(data)).toBe(Buffer.from(data).toString('base64'));
    expect(fromBase64(toBase64(data))).toEqual(data);
    expect(fromHex(toHex(data).toUpperCase())).toEqual(data);
    expect(utf8Length('调解 ok')).toBe(Buffer.byteLength('调解 ok'));
  });
});

describe('peer ids without libp2p', () => {
  it('match @libp2p/peer-id for random keys, including keys with leading zero bytes', () => {
    for (let i = 0; i < 20; i++) {
      const raw = generateKeyPairSync('ed25519')
        .publicKey.export({ format: 'der', type: 'spki' })
        .subarray(12);
      const key = new Uint8Array(raw);
      if (i < 3) key.fill(0, 0, i + 1);
      expect(ed25519PeerId(key)).toBe(peerIdFromPublicKey(publicKeyFromRaw(key)).toString());
    }
  });
});

describe('the genesis certificate check', () => {
  it('accepts what OpenSSL parses and refuses what has not the shape of a certificate', async () => {
    const pki = await makePki();
    expect(new X509Certificate(pki.rootPem).subject).toBeTruthy();
    expect(isCertificatePem(pki.rootPem)).toBe(true);
    const body = pki.rootPem.split('\n').slice(1, -2).join('');
    const der = Buffer.from(body, 'base64');
    const pem = (b: Uint8Array) =>
      `-----BEGIN CERTIFICATE-----\n${Buffer.from(b).toString('base64')}\n-----END CERTIFICATE-----\n`;
    expect(isCertificatePem(pem(der))).toBe(true);
    expect(isCertificatePem(pem(der.subarray(0, der.length - 1)))).toBe(false);
    expect(isCertificatePem(pem(Uint8Array.from([...der, 0])))).toBe(false);
    expect(isCertificatePem(pem(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01])))).toBe(false);
    expect(isCertificatePem('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n')).toBe(false);
  });
});
