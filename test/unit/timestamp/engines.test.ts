/**
 * The signature rules and both engines on token signatures `openssl ts` cannot make (RSA-PSS, Ed25519), and
 * the ECDSA DER-to-raw conversion WebCrypto needs (ADR 013). test/interop/engines.test.ts compares whole
 * verifications on real tokens.
 */
import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeDer, der } from '../../../src/timestamp/asn1.ts';
import { nodeVerifySignature } from '../../../src/timestamp/crypto-node.ts';
import { ecdsaDerToRaw, webVerifySignature } from '../../../src/timestamp/crypto-web.ts';
import { Oid } from '../../../src/timestamp/oids.ts';
import { cmsSignatureCheck, type SignatureCheck } from '../../../src/timestamp/signature.ts';

const data = new TextEncoder().encode('signed attributes');
const spki = (k: KeyObject) => new Uint8Array(k.export({ type: 'spki', format: 'der' }));
const sha256Id = der.seq(der.oid(Oid.sha256), der.null());
const pssParams = (salt: number, mgfHash = sha256Id) =>
  decodeDer(
    der.seq(
      der.explicit(0, sha256Id),
      der.explicit(1, der.seq(der.oid(Oid.mgf1), mgfHash)),
      der.explicit(2, der.int(BigInt(salt))),
    ),
    'params',
  );

async function answers(check: SignatureCheck | string): Promise<[boolean, boolean]> {
  if (typeof check === 'string') throw new Error(check);
  return [nodeVerifySignature(check), await webVerifySignature(check)];
}

function flipped(sig: Uint8Array): Uint8Array {
  const out = sig.slice();
  out[out.length - 1]! ^= 1;
  return out;
}

describe('token signatures on both engines', () => {
  it('RSA-PSS (SHA-256, MGF1 SHA-256, salt 32) verifies, and not with a flipped bit', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sig = new Uint8Array(
      sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
    );
    const alg = { oid: Oid.rsaPss, params: pssParams(32) };
    expect(await answers(cmsSignatureCheck(alg, Oid.sha256, spki(publicKey), data, sig))).toEqual([
      true,
      true,
    ]);
    expect(await answers(cmsSignatureCheck(alg, Oid.sha256, spki(publicKey), data, flipped(sig)))).toEqual([
      false,
      false,
    ]);
    // A different salt length in the parameters is a different signature scheme: it does not verify.
    const other = { oid: Oid.rsaPss, params: pssParams(20) };
    expect(await answers(cmsSignatureCheck(other, Oid.sha256, spki(publicKey), data, sig))).toEqual([
      false,
      false,
    ]);
  });

  it('an id-RSASSA-PSS key: re-wrapped for WebCrypto, and its parameters restrict what it signs', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa-pss', {
      modulusLength: 2048,
      hashAlgorithm: 'sha256',
      mgf1HashAlgorithm: 'sha256',
      // @types/node declares saltLength a string; Node takes (and documents) a number.
      saltLength: 32 as unknown as string,
    });
    const sig = new Uint8Array(
      sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
    );
    const alg = { oid: Oid.rsaPss, params: pssParams(32) };
    expect(await answers(cmsSignatureCheck(alg, Oid.sha256, spki(publicKey), data, sig))).toEqual([
      true,
      true,
    ]);
    expect(
      cmsSignatureCheck({ oid: Oid.rsaPss, params: pssParams(20) }, Oid.sha256, spki(publicKey), data, sig),
    ).toBe('the RSA-PSS key requires a salt of at least 32 bytes');
    const sha384Id = der.seq(der.oid(Oid.sha384), der.null());
    const sha384Params = decodeDer(
      der.seq(
        der.explicit(0, sha384Id),
        der.explicit(1, der.seq(der.oid(Oid.mgf1), sha384Id)),
        der.explicit(2, der.int(48n)),
      ),
      'params',
    );
    expect(
      cmsSignatureCheck({ oid: Oid.rsaPss, params: sha384Params }, Oid.sha384, spki(publicKey), data, sig),
    ).toBe('the RSA-PSS key is restricted to sha256');
    // PKCS#1 v1.5 is not a scheme an RSA-PSS key may make.
    expect(
      cmsSignatureCheck(
        { oid: Oid.sha256WithRsa, params: undefined },
        Oid.sha256,
        spki(publicKey),
        data,
        sig,
      ),
    ).toBe('signature algorithm needs a rsa key, the certificate holds rsa-pss');
  });

  it('RSA-PSS whose mask uses another hash than the signature is refused before any engine runs', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const mgfSha1 = der.seq(der.oid(Oid.sha1), der.null());
    const alg = { oid: Oid.rsaPss, params: pssParams(32, mgfSha1) };
    expect(cmsSignatureCheck(alg, Oid.sha256, spki(publicKey), data, new Uint8Array(256))).toBe(
      'RSASSA-PSS mask generation is not MGF1 with the signature hash',
    );
  });

  it('Ed25519 (RFC 8419) verifies, and not with a flipped bit', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const sig = new Uint8Array(sign(null, data, privateKey));
    const alg = { oid: Oid.ed25519, params: undefined };
    expect(await answers(cmsSignatureCheck(alg, Oid.sha512, spki(publicKey), data, sig))).toEqual([
      true,
      true,
    ]);
    expect(await answers(cmsSignatureCheck(alg, Oid.sha512, spki(publicKey), data, flipped(sig)))).toEqual([
      false,
      false,
    ]);
  });

  it('keys the token rules refuse give the same reason whatever the engine', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const rsaAlg = { oid: Oid.sha256WithRsa, params: undefined };
    expect(cmsSignatureCheck(rsaAlg, Oid.sha256, spki(small), data, new Uint8Array(128))).toBe(
      'RSA key shorter than 2048 bits',
    );
    const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey;
    const ecAlg = { oid: Oid.ecdsaWithSha256, params: undefined };
    expect(cmsSignatureCheck(ecAlg, Oid.sha256, spki(p521), data, new Uint8Array(8))).toBe(
      'unsupported curve 1.3.132.0.35',
    );
    const ed = generateKeyPairSync('ed25519').publicKey;
    expect(cmsSignatureCheck(ecAlg, Oid.sha256, spki(ed), data, new Uint8Array(8))).toBe(
      'signature algorithm needs a ec key, the certificate holds ed25519',
    );
  });
});

describe('ECDSA signatures as WebCrypto takes them', () => {
  const sig = (r: string, s: string) => der.seq(der.int(BigInt(`0x${r}`)), der.int(BigInt(`0x${s}`)));

  it('pads r and s to the field width and drops the sign byte DER adds', () => {
    const raw = ecdsaDerToRaw(sig('ff01', '02'), 4);
    expect(raw && Buffer.from(raw).toString('hex')).toBe('0000ff0100000002');
  });

  it('refuses what OpenSSL refuses: too wide, negative, non-minimal, trailing bytes', () => {
    expect(ecdsaDerToRaw(sig('0102030405', '01'), 4)).toBeUndefined();
    const negative = der.seq(Uint8Array.from([0x02, 0x01, 0x80]), Uint8Array.from([0x02, 0x01, 0x01]));
    expect(ecdsaDerToRaw(negative, 4)).toBeUndefined();
    const nonMinimal = der.seq(
      Uint8Array.from([0x02, 0x02, 0x00, 0x01]),
      Uint8Array.from([0x02, 0x01, 0x01]),
    );
    expect(ecdsaDerToRaw(nonMinimal, 4)).toBeUndefined();
    expect(ecdsaDerToRaw(Uint8Array.from([...sig('01', '01'), 0]), 4)).toBeUndefined();
  });
});
