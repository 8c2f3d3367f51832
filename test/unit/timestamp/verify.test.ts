import { createHash, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, decodeDer, der, tlv } from '../../../src/timestamp/asn1.ts';
import { issueCertificate } from '../../../src/timestamp/certs.ts';
import {
  encodeGrantedResponse,
  encodeRejection,
  encodeSignedAttrs,
  encodeTstInfo,
  signingCertificateV1,
  signingCertificateV2,
} from '../../../src/timestamp/encode.ts';
import { isTimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { Oid } from '../../../src/timestamp/oids.ts';
import { buildTimeStampReq } from '../../../src/timestamp/request.ts';
import { CHECKS, type VerifyOptions, type VerifyResult } from '../../../src/timestamp/verify.ts';
import { verifyTimestamp } from '../../../src/timestamp/verify-node.ts';
import { KeyUsageBit, parseCertificate } from '../../../src/timestamp/x509.ts';
import {
  buildToken,
  DAY,
  imprintDer,
  makePki,
  type Pki,
  rewriteSignedData,
  startTsa,
  T0,
  withCertificates,
} from '../../helpers/tsa.ts';

const data = new TextEncoder().encode('statement-2026-01.pdf');
const digest = new Uint8Array(createHash('sha256').update(data).digest());

function verify(pki: Pki, input: Uint8Array, opts: Partial<VerifyOptions> = {}): VerifyResult {
  return verifyTimestamp(input, { trustAnchors: [pki.root], digest, ...opts });
}

/** Asserts the verdict is a failure of exactly `check`, after every earlier check that ran passed. */
function expectFailure(r: VerifyResult, check: (typeof CHECKS)[number], reason?: RegExp): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.failedCheck).toBe(check);
  if (reason) expect(r.reason).toMatch(reason);
  for (const c of r.checksPassed) expect(CHECKS.indexOf(c)).toBeLessThan(CHECKS.indexOf(check));
}

let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});

describe('a token from the embedded TSA', () => {
  it('passes every check and reports what it says', async () => {
    const at = T0 + 123;
    const tsa = await startTsa(pki, at, { policy: '1.2.3.4' });
    const stamp = await tsa.stamp(digest, 'sha256');
    const r = verify(pki, stamp.response, { request: stamp.request });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.genTime.getTime()).toBe(at);
    expect(r.genTimeText).toBe('20260601000000.123Z');
    expect(r.serial).toBe(stamp.serial);
    expect(r.policy).toBe('1.2.3.4');
    expect(r.hashAlg).toBe('sha256');
    expect(r.signerSubject).toBe('O=JRChain Test, CN=Test TSA');
    expect(r.chainSubjects).toEqual(['O=JRChain Test, CN=Test TSA', 'O=JRChain Test, CN=Test Root']);
    expect(r.checksPassed).toEqual(CHECKS.filter((c) => c !== 'policy'));
    expect(r.accuracy).toEqual({ seconds: 1, millis: 0, micros: 0 });
    expect(r.token).toEqual(stamp.token);
  });

  it('verifies the bare token as well as the response, against data, digest or request', async () => {
    const tsa = await startTsa(pki);
    const s = await tsa.stamp(digest, 'sha256');
    expect(verify(pki, s.token, { digest: undefined, data }).ok).toBe(true);
    expect(verify(pki, s.token, { hashAlg: 'sha256' }).ok).toBe(true);
    expect(verify(pki, s.token, { digest: undefined, request: s.request }).ok).toBe(true);
  });

  it('verifies sha384 and sha512 imprints', async () => {
    const tsa = await startTsa(pki);
    for (const alg of ['sha384', 'sha512'] as const) {
      const d = new Uint8Array(createHash(alg).update(data).digest());
      const s = await tsa.stamp(d, alg);
      const r = verify(pki, s.response, { digest: undefined, data });
      expect(r.ok && r.hashAlg).toBe(alg);
    }
  });

  it.each(['p384', 'ed25519', 'rsa'] as const)('verifies a %s-signed token', async (tsaKeyType) => {
    const other = await makePki({ tsaKeyType });
    const tsa = await startTsa(other);
    const s = await tsa.stamp(digest, 'sha256');
    const r = verify(other, s.response);
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
  });
});

describe('each check rejects what it guards', () => {
  it('decode: garbage, truncation and trailing bytes', async () => {
    const tsa = await startTsa(pki);
    const { token } = await tsa.stamp(digest, 'sha256');
    expectFailure(verify(pki, new TextEncoder().encode('not a token')), 'decode');
    expectFailure(verify(pki, token.subarray(0, token.length - 1)), 'decode', /truncated/);
    expectFailure(verify(pki, Uint8Array.from([...token, 0])), 'decode', /trailing/);
  });

  it('status: a rejection, with its failure info in the reason', () => {
    const r = verify(pki, encodeRejection('badAlg', 'no SHA-1 here'));
    expectFailure(r, 'status', /rejection \(badAlg; no SHA-1 here\)/);
  });

  it('contentType: a SignedData that does not hold a TSTInfo', () => {
    const token = buildToken(pki, { digest });
    const asData = rewriteSignedData(token, (f) => [
      f[0]!,
      f[1]!,
      der.seq(der.oid('1.2.840.113549.1.7.1'), der.explicit(0, der.octets(new Uint8Array(3)))),
      ...f.slice(3),
    ]);
    expectFailure(verify(pki, asData), 'contentType', /not id-ct-TSTInfo/);
    const notSignedData = der.seq(
      der.oid('1.2.840.113549.1.7.1'),
      der.explicit(0, der.octets(new Uint8Array(1))),
    );
    expectFailure(verify(pki, notSignedData), 'contentType', /not SignedData/);
  });

  it('messageImprint: other data, other digest, other algorithm', () => {
    const token = buildToken(pki, { digest });
    expectFailure(verify(pki, token, { digest: undefined, data: new Uint8Array([1]) }), 'messageImprint');
    expectFailure(verify(pki, token, { digest: new Uint8Array(32) }), 'messageImprint', /differs/);
    expectFailure(
      verify(pki, token, { digest: new Uint8Array(48) }),
      'messageImprint',
      /given digest is sha384/,
    );
  });

  it('nonce: compared as an integer, however it is encoded', () => {
    const high = 0x80n << 56n; // top bit set: DER adds a leading 0x00
    expect(verify(pki, buildToken(pki, { digest, nonce: high }), { nonce: high }).ok).toBe(true);
    const req = buildTimeStampReq({ digest, hashAlg: 'sha256', nonce: 5n });
    expectFailure(
      verify(pki, buildToken(pki, { digest, nonce: 6n }), { request: req.der }),
      'nonce',
      /is not 5/,
    );
    expectFailure(verify(pki, buildToken(pki, { digest }), { request: req.der }), 'nonce', /no nonce/);
    // A TSTInfo whose nonce carries a superfluous 0x00 still matches the integer 5.
    const fields = [
      der.int(1n),
      der.oid('1.2.3.4'),
      imprintDer('sha256', digest),
      der.int(7n),
      der.genTime(new Date(T0)),
    ];
    const padded = der.seq(...fields, tlv(0x02, Uint8Array.of(0, 5)));
    expect(verify(pki, buildToken(pki, { digest, tstInfo: padded }), { nonce: 5n }).ok).toBe(true);
  });

  it('policy: required policy differs', () => {
    const token = buildToken(pki, { digest, policy: '1.2.3.4' });
    expect(verify(pki, token, { policy: '1.2.3.4' }).ok).toBe(true);
    expectFailure(verify(pki, token, { policy: '1.2.3.5' }), 'policy', /1\.2\.3\.4 is not 1\.2\.3\.5/);
  });

  it('signerInfo: a token with two SignerInfos', () => {
    const token = buildToken(pki, { digest });
    const twice = rewriteSignedData(token, (f) => {
      const [si] = childrenOf(decodeDer(f[f.length - 1]!, 'signerInfos'), 'signerInfos');
      return [...f.slice(0, -1), der.setOf([si!.raw, Uint8Array.from(si!.raw)])];
    });
    expectFailure(verify(pki, twice), 'signerInfo', /2 SignerInfos/);
  });

  it('signerInfo: the unsigned version and digest algorithm fields RFC 5652 fixes', () => {
    const token = buildToken(pki, { digest });
    const v1 = rewriteSignedData(token, (f) => [der.int(1n), ...f.slice(1)]);
    expectFailure(verify(pki, v1), 'signerInfo', /SignedData version 1/);
    const siVersion = rewriteSignedData(token, (f) => {
      const [si] = childrenOf(decodeDer(f[f.length - 1]!, 'signerInfos'), 'signerInfos');
      const fields = childrenOf(si!, 'SignerInfo').map((c) => c.raw);
      return [...f.slice(0, -1), der.setOf([der.seq(der.int(3n), ...fields.slice(1))])];
    });
    expectFailure(
      verify(pki, siVersion),
      'signerInfo',
      /SignerInfo version 3 with signer identifier issuerSerial/,
    );
    const otherAlgs = rewriteSignedData(token, (f) => [
      f[0]!,
      der.setOf([der.seq(der.oid(Oid.sha512))]),
      ...f.slice(2),
    ]);
    expectFailure(verify(pki, otherAlgs), 'signerInfo', /not among SignedData.digestAlgorithms/);
  });

  it('signerCert: no embedded certificate unless the chain is supplied', () => {
    const token = buildToken(pki, { digest, certificates: [] });
    expectFailure(verify(pki, token), 'signerCert', /supply the TSA certificate/);
    expect(verify(pki, token, { untrusted: [pki.tsa] }).ok).toBe(true);
  });

  it('signerCert: a subjectKeyIdentifier sid finds the signer', () => {
    expect(verify(pki, buildToken(pki, { digest, sid: 'subjectKeyIdentifier' })).ok).toBe(true);
  });

  it('signedAttrs: missing or wrong content-type attribute', () => {
    const withCt = (ct: string | null) =>
      buildToken(pki, {
        digest,
        signedAttrs: (tst) => {
          const md = der.seq(
            der.oid(Oid.attrMessageDigest),
            der.setOf([der.octets(createHash('sha256').update(tst).digest())]),
          );
          const attrs = [md, signingCertificateV2(pki.tsa)];
          if (ct) attrs.push(der.seq(der.oid(Oid.attrContentType), der.setOf([der.oid(ct)])));
          return der.setOf(attrs);
        },
      });
    expectFailure(verify(pki, withCt(null)), 'signedAttrs', /no content-type/);
    expectFailure(verify(pki, withCt('1.2.840.113549.1.7.1')), 'signedAttrs', /not id-ct-TSTInfo/);
    expect(verify(pki, withCt(Oid.tstInfo)).ok).toBe(true);
  });

  it('messageDigest: signed attributes over another TSTInfo', () => {
    const other = encodeTstInfo({
      policy: '1.2.3.4',
      imprintDer: imprintDer('sha256', digest),
      serial: 8n,
      genTime: new Date(T0),
    });
    const token = buildToken(pki, {
      digest,
      signedAttrs: () =>
        encodeSignedAttrs({ eContent: other, digestAlg: 'sha256', extra: [signingCertificateV2(pki.tsa)] }),
    });
    expectFailure(verify(pki, token), 'messageDigest');
  });

  it('essSigningCertificate: missing, wrong hash, wrong serial; v1 and SHA-384 v2 accepted', () => {
    expectFailure(verify(pki, buildToken(pki, { digest, ess: [] })), 'essSigningCertificate', /no ESS/);
    const wrongHash = signingCertificateV2(pki.tsa, pki.root.der);
    expectFailure(verify(pki, buildToken(pki, { digest, ess: [wrongHash] })), 'essSigningCertificate');
    const wrongSerial = signingCertificateV2({ ...pki.tsa, serial: pki.tsa.serial + 1n });
    expectFailure(verify(pki, buildToken(pki, { digest, ess: [wrongSerial] })), 'essSigningCertificate');
    expect(verify(pki, buildToken(pki, { digest, ess: [signingCertificateV1(pki.tsa)] })).ok).toBe(true);
    expect(
      verify(pki, buildToken(pki, { digest, ess: [signingCertificateV2(pki.tsa, pki.tsa.der, 'sha384')] }))
        .ok,
    ).toBe(true);
    const both = [signingCertificateV1(pki.tsa), signingCertificateV2(pki.tsa, pki.root.der)];
    expectFailure(verify(pki, buildToken(pki, { digest, ess: both })), 'essSigningCertificate');
  });

  it('signature: a flipped bit, or another key', () => {
    expectFailure(verify(pki, buildToken(pki, { digest, tamperSignature: true })), 'signature');
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expectFailure(
      verify(pki, buildToken(pki, { digest, signingKey: stranger })),
      'signature',
      /does not verify/,
    );
  });

  it('eku: non-critical, extra purposes, absent', async () => {
    const nonCritical = await makePki({ ekuCritical: false });
    expectFailure(verify(nonCritical, buildToken(nonCritical, { digest })), 'eku', /not critical/);
    const extra = await makePki({ ekuPurposes: [Oid.kpTimeStamping, '1.3.6.1.5.5.7.3.3'] });
    expectFailure(verify(extra, buildToken(extra, { digest })), 'eku', /only timeStamping/);
    const none = await makePki({ noEku: true });
    expectFailure(verify(none, buildToken(none, { digest })), 'eku', /no extendedKeyUsage/);
  });

  it('keyUsage: a TSA key that may only sign certificates', async () => {
    const p = await makePki({ tsaKeyUsage: [KeyUsageBit.keyCertSign] });
    expectFailure(verify(p, buildToken(p, { digest })), 'keyUsage');
  });

  it('tsaName: the tsa field names someone else', () => {
    const other = tlv(0xa4, pki.root.subject);
    expectFailure(verify(pki, buildToken(pki, { digest, tsaName: other })), 'tsaName');
    expect(verify(pki, buildToken(pki, { digest, tsaName: null })).ok).toBe(true);
  });

  it('chain: an untrusted root', async () => {
    const stranger = await makePki();
    expectFailure(verify(pki, buildToken(stranger, { digest })), 'chain', /trust anchor/);
  });

  it('chain: an issuer that is not a CA, or a pathLenConstraint exceeded', async () => {
    const notCa = await makePki({ issuerNotCa: true });
    expectFailure(verify(notCa, buildToken(notCa, { digest })), 'chain', /not a CA/);
    const tooDeep = await makePki({ intermediates: 1, rootPathLen: 0 });
    const token = buildToken(tooDeep, {
      digest,
      certificates: [tooDeep.tsa.der, tooDeep.intermediates[0]!.der],
    });
    expectFailure(verify(tooDeep, token), 'chain', /pathLenConstraint 0/);
  });

  it('chain: an unknown critical extension', async () => {
    const p = await makePki({ tsaExtra: [{ oid: '1.2.3.99', critical: true, value: der.null() }] });
    expectFailure(
      verify(p, buildToken(p, { digest })),
      'chain',
      /unsupported critical extension 1\.2\.3\.99/,
    );
  });

  it('chain: RFC 5280 by default, so an intermediate whose EKU lacks timeStamping is accepted; a stricter policy only when asked', async () => {
    // GlobalSign-style: the intermediate CA carries an EKU for other purposes (here serverAuth, clientAuth).
    const p = await makePki({
      intermediates: 1,
      intermediateEku: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
    });
    const token = buildToken(p, { digest, certificates: [p.tsa.der, p.intermediates[0]!.der] });
    expect(verify(p, token).ok).toBe(true);
    const strict = { pathPolicy: { caEkuMustAllowTimeStamping: true } };
    expectFailure(verify(p, token, strict), 'chain', /does not allow timeStamping/);
    const stamping = await makePki({ intermediates: 1, intermediateEku: [Oid.kpTimeStamping] });
    const ok = buildToken(stamping, {
      digest,
      certificates: [stamping.tsa.der, stamping.intermediates[0]!.der],
    });
    expect(verify(stamping, ok, strict).ok).toBe(true);
  });

  it('chain: intermediates from the token or supplied separately', async () => {
    const p = await makePki({ intermediates: 2 });
    const inters = p.intermediates.map((c) => c.der);
    expect(verify(p, buildToken(p, { digest, certificates: [p.tsa.der, ...inters] })).ok).toBe(true);
    const bare = buildToken(p, { digest });
    expectFailure(verify(p, bare), 'chain');
    expect(verify(p, bare, { untrusted: p.intermediates }).ok).toBe(true);
  });
});

describe('validity is judged at genTime, not now', () => {
  // The TSA certificate was valid during 2020 only.
  const from = Date.UTC(2020, 0, 1);
  const to = Date.UTC(2021, 0, 1);
  let old: Pki;
  beforeAll(async () => {
    old = await makePki({ tsaValidity: [from, to], rootValidity: [from - 365 * DAY, T0 + 3650 * DAY] });
  });

  it('accepts a token made while the TSA certificate was valid, long after it expired', async () => {
    const tsa = await startTsa(old, Date.UTC(2020, 6, 1));
    const r = verify(old, (await tsa.stamp(digest, 'sha256')).response);
    expect(r.ok).toBe(true);
  });

  it('rejects genTime after expiry and before notBefore', async () => {
    const late = await startTsa(old, to + 1000);
    expectFailure(verify(old, (await late.stamp(digest, 'sha256')).response), 'certValidity', /expired/);
    const early = await startTsa(old, from - DAY);
    expectFailure(
      verify(old, (await early.stamp(digest, 'sha256')).response),
      'certValidity',
      /not valid until/,
    );
  });

  it('rejects a root that had expired at genTime', async () => {
    const p = await makePki({ rootValidity: [T0 - 10 * DAY, T0 - DAY] });
    expectFailure(verify(p, buildToken(p, { digest, genTime: T0 })), 'certValidity', /Test Root expired/);
  });
});

describe('injected certificates do not change the outcome', () => {
  it('ignores unrelated extra certificates', async () => {
    const other = await makePki();
    const token = withCertificates(buildToken(pki, { digest }), [other.tsa.der, other.root.der], true);
    expect(verify(pki, token).ok).toBe(true);
  });

  it('ignores a look-alike placed first with the signer issuer and serial', async () => {
    const fakeKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const lookalike = issueCertificate({
      subject: [['CN', 'Test TSA']],
      publicKey: fakeKey.publicKey,
      issuer: pki.root,
      signingKey: fakeKey.privateKey,
      serial: pki.tsa.serial,
      notBefore: new Date(T0 - DAY),
      notAfter: new Date(T0 + DAY),
      extKeyUsage: { purposes: [Oid.kpTimeStamping], critical: true },
    });
    expect(parseCertificate(lookalike).issuer).toEqual(pki.tsa.issuer);
    const genuine = withCertificates(buildToken(pki, { digest }), [lookalike], true);
    expect(verify(pki, genuine).ok).toBe(true);

    // A forger who signs with the look-alike's key and names it in ESS still cannot chain to the root.
    const forged = buildToken(pki, {
      digest,
      signer: parseCertificate(lookalike),
      signingKey: fakeKey.privateKey,
      certificates: [lookalike, pki.tsa.der],
      tsaName: null,
    });
    expectFailure(verify(pki, forged), 'chain', /does not verify/);
  });

  it('finds the real issuer when an impostor CA with the same name and key id comes first', async () => {
    const p = await makePki({ intermediates: 1 });
    const impostorKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const impostor = issueCertificate({
      subject: [
        ['O', 'JRChain Test'],
        ['CN', 'Test Intermediate 1'],
      ],
      publicKey: impostorKey.publicKey,
      signingKey: impostorKey.privateKey,
      notBefore: new Date(T0 - DAY),
      notAfter: new Date(T0 + DAY),
      ca: {},
      subjectKeyId: p.intermediates[0]!.subjectKeyId!,
    });
    const token = withCertificates(buildToken(p, { digest }), [impostor, p.tsa.der, p.intermediates[0]!.der]);
    const r = verify(p, token);
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    // Without the real intermediate, the impostor is tried and refused.
    const alone = withCertificates(token, [impostor, p.tsa.der]);
    expectFailure(verify(p, alone), 'chain', /does not verify with the key of .*Test Intermediate 1/);
  });
});

describe('caller mistakes', () => {
  it('throws TSA_BAD_INPUT when nothing is given to match the imprint, or no anchors', () => {
    const token = buildToken(pki, { digest });
    const bad = (o: VerifyOptions) => {
      try {
        verifyTimestamp(token, o);
      } catch (err) {
        return isTimestampError(err, TimestampErrorCode.badInput);
      }
      return false;
    };
    expect(bad({ trustAnchors: [pki.root] })).toBe(true);
    expect(bad({ trustAnchors: [], digest })).toBe(true);
  });

  it('reports a response with a granted status but a broken token as decode', () => {
    const broken = encodeGrantedResponse(
      der.seq(der.oid(Oid.signedData), der.explicit(0, der.seq(der.int(1n)))),
    );
    expectFailure(verify(pki, broken), 'decode');
  });
});
