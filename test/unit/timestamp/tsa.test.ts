import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ctx, der, tlv } from '../../../src/timestamp/asn1.ts';
import { isTimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { DEFAULT_TSA_POLICY, Oid } from '../../../src/timestamp/oids.ts';
import { buildTimeStampReq, parseTimeStampReq } from '../../../src/timestamp/request.ts';
import { parseTimeStampResp, parseToken } from '../../../src/timestamp/response.ts';
import { EmbeddedTsa } from '../../../src/timestamp/tsa.ts';
import { verifyTimestamp } from '../../../src/timestamp/verify-node.ts';
import { counterSerials, imprintDer, makePki, type Pki, startTsa, T0 } from '../../helpers/tsa.ts';

const digest = new Uint8Array(createHash('sha256').update('evidence').digest());

let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});

async function reply(tsa: EmbeddedTsa, request: Uint8Array) {
  const r = await tsa.respond(request);
  return { ...r, status: parseTimeStampResp(r.der).status };
}

describe('EmbeddedTsa.respond', () => {
  it('grants a well-formed request with ms genTime, accuracy, nonce, tsa name and ESS v2', async () => {
    const tsa = await startTsa(pki, T0 + 7);
    const req = buildTimeStampReq({ digest, hashAlg: 'sha256', nonce: 42n });
    const r = await reply(tsa, req.der);
    expect(r.granted).toBe(true);
    expect(r.status.statusName).toBe('granted');
    const token = parseToken(parseTimeStampResp(r.der).token!);
    const tst = token.tstInfo!;
    expect(tst.genTimeText).toBe('20260601000000.007Z');
    expect(tst.accuracy).toEqual({ seconds: 1, millis: 0, micros: 0 });
    expect(tst.nonce).toBe(42n);
    expect(tst.policy).toBe(DEFAULT_TSA_POLICY);
    expect(tst.serial).toBe(r.serial);
    expect(token.signedData!.certificates).toEqual([pki.tsa.der]);
    const attrs = token.signedData!.signerInfos[0]!.signedAttrs.map((a) => a.oid);
    expect(attrs).toContain(Oid.attrSigningCertificateV2);
  });

  it('hands out a new serial for every token', async () => {
    const tsa = await startTsa(pki);
    const req = buildTimeStampReq({ digest, hashAlg: 'sha256' });
    const serials = await Promise.all(
      Array.from({ length: 20 }, async () => (await tsa.respond(req.der)).serial),
    );
    expect(new Set(serials).size).toBe(20);
  });

  it('leaves out certificates when the request does not ask for them', async () => {
    const tsa = await startTsa(pki);
    const r = await reply(tsa, buildTimeStampReq({ digest, hashAlg: 'sha256', certReq: false }).der);
    expect(parseToken(parseTimeStampResp(r.der).token!).signedData!.certificates).toEqual([]);
  });

  it('rejects with the PKIFailureInfo the request deserves, and never throws', async () => {
    const tsa = await startTsa(pki, T0, { policy: '1.2.3.4', acceptedPolicies: ['1.2.3.4', '1.2.3.5'] });
    const sha1 = der.seq(
      der.int(1n),
      der.seq(der.seq(der.oid(Oid.sha1), der.null()), der.octets(new Uint8Array(20))),
    );
    const shortDigest = der.seq(der.int(1n), imprintDer('sha256', new Uint8Array(31)));
    const withExtensions = der.seq(
      der.int(1n),
      imprintDer('sha256', digest),
      tlv(ctx(0, true), der.seq(der.seq(der.oid('1.2.3'), der.octets(new Uint8Array(1))))),
    );
    const cases: Array<[Uint8Array, string]> = [
      [new TextEncoder().encode('garbage'), 'badDataFormat'],
      [new Uint8Array(5000), 'badDataFormat'],
      [sha1, 'badAlg'],
      [shortDigest, 'badDataFormat'],
      [buildTimeStampReq({ digest, hashAlg: 'sha256', policy: '1.2.3.6' }).der, 'unacceptedPolicy'],
      [withExtensions, 'unacceptedExtension'],
    ];
    for (const [request, failure] of cases) {
      const r = await reply(tsa, request);
      expect(r.granted).toBe(false);
      expect(r.status.statusName).toBe('rejection');
      expect(r.status.failInfo).toEqual([failure]);
      expect(r.status.statusText[0]).toBe(r.detail);
    }
    const accepted = await reply(
      tsa,
      buildTimeStampReq({ digest, hashAlg: 'sha256', policy: '1.2.3.5' }).der,
    );
    expect(accepted.granted).toBe(true);
  });

  it('answers systemFailure when it is not running or its serial source fails', async () => {
    const stopped = new EmbeddedTsa({
      certificate: pki.tsa.der,
      privateKey: pki.tsaKey,
      serials: counterSerials(),
    });
    const req = buildTimeStampReq({ digest, hashAlg: 'sha256' }).der;
    expect((await reply(stopped, req)).status.failInfo).toEqual(['systemFailure']);
    const broken = new EmbeddedTsa({
      certificate: pki.tsa.der,
      privateKey: pki.tsaKey,
      serials: { ...counterSerials(), next: () => Promise.reject(new Error('disk full')) },
    });
    await broken.start();
    const r = await reply(broken, req);
    expect(r.status.failInfo).toEqual(['systemFailure']);
    expect(r.detail).toBe('internal error');
  });
});

describe('EmbeddedTsa as a TimestampAuthority', () => {
  it('stamps a digest and returns what a caller needs', async () => {
    const tsa = await startTsa(pki, T0 + 999);
    const s = await tsa.stamp(digest, 'sha256');
    expect(s.genTime.getTime()).toBe(T0 + 999);
    expect(s.hashAlg).toBe('sha256');
    expect(s.digest).toEqual(digest);
    expect(s.verified).toBe('binding');
    expect(s.nonce).toBe(parseTimeStampReq(s.request).nonce);
    const r = verifyTimestamp(s.token, { trustAnchors: [pki.root], digest });
    expect(r.ok && r.serial).toBe(s.serial);
  });

  it('refuses a key that does not match the certificate', async () => {
    const other = await makePki();
    try {
      new EmbeddedTsa({ certificate: pki.tsa.der, privateKey: other.tsaKey, serials: counterSerials() });
      expect.unreachable();
    } catch (err) {
      expect(isTimestampError(err, TimestampErrorCode.badConfig)).toBe(true);
    }
  });

  it('reports a rejected policy as TSA_REJECTED with its failure info', async () => {
    const tsa = await startTsa(pki);
    const err = await tsa.stamp(digest, 'sha256', { policy: '1.2.3.9' }).catch((e: unknown) => e);
    expect(isTimestampError(err, TimestampErrorCode.rejected)).toBe(true);
    expect((err as { details: { failInfo: string[] } }).details.failInfo).toEqual(['unacceptedPolicy']);
  });
});
