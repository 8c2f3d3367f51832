import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { der } from '../../../src/timestamp/asn1.ts';
import { createTsaCredentials, generateP256, issueCertificate } from '../../../src/timestamp/certs.ts';
import { nodeVerifySignature } from '../../../src/timestamp/crypto-node.ts';
import { webVerifySignature } from '../../../src/timestamp/crypto-web.ts';
import { isTimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { Oid } from '../../../src/timestamp/oids.ts';
import { certSignatureCheck } from '../../../src/timestamp/signature.ts';
import {
  type Cert,
  certToPem,
  formatName,
  KeyUsageBit,
  parseCertificate,
  parsePemCertificates,
} from '../../../src/timestamp/x509.ts';

/** Whether `issuer` signed `cert`, by both signature engines, which must agree. */
async function certSignedBy(cert: Cert, issuer: Cert): Promise<boolean> {
  const check = certSignatureCheck(cert, issuer);
  if (typeof check === 'string') return false;
  const sync = nodeVerifySignature(check);
  expect(await webVerifySignature(check)).toBe(sync);
  return sync;
}

describe('createTsaCredentials', () => {
  it('issues a P-256 root and a TSA certificate with the extensions verifiers require', async () => {
    const now = new Date(Date.UTC(2026, 5, 1));
    const creds = await createTsaCredentials({ organization: 'Bank A', now });
    const root = parseCertificate(creds.rootCert);
    const tsa = parseCertificate(creds.tsaCert);

    expect(root.subjectText).toBe('O=Bank A, CN=Bank A Time-Stamping Root CA');
    expect(root.basicConstraints).toEqual({ ca: true, pathLen: 0 });
    expect(root.keyUsage).toEqual([KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign]);
    expect(root.extensions.find((e) => e.oid === Oid.extKeyUsage)?.critical).toBe(true);

    expect(tsa.subjectText).toBe('O=Bank A, CN=Bank A Embedded TSA');
    expect(tsa.extKeyUsage).toEqual({ critical: true, purposes: [Oid.kpTimeStamping] });
    expect(tsa.keyUsage).toEqual([KeyUsageBit.digitalSignature]);
    expect(tsa.basicConstraints).toBeUndefined();
    expect(tsa.authorityKeyId).toEqual(root.subjectKeyId);
    expect(tsa.issuer).toEqual(root.subject);
    expect(tsa.notBefore.getTime()).toBe(now.getTime() - 3600_000);
    expect(tsa.notAfter.getUTCFullYear()).toBe(2036);
    expect(await certSignedBy(tsa, root)).toBe(true);
    expect(await certSignedBy(root, root)).toBe(true);
    expect(await certSignedBy(root, tsa)).toBe(false);

    // OpenSSL (through node:crypto) reads them the same way.
    const x = new X509Certificate(creds.tsaCert);
    expect(x.checkIssued(new X509Certificate(creds.rootCert))).toBe(true);
    expect(x.keyUsage).toEqual([Oid.kpTimeStamping]);
    expect(new X509Certificate(creds.rootCert).ca).toBe(true);
  });
});

describe('parseCertificate', () => {
  it('reads every field the verifier uses', async () => {
    const k = await generateP256();
    const der1 = issueCertificate({
      subject: [
        ['C', 'CN'],
        ['O', 'Bank B'],
        ['CN', 'Bank B TSA'],
      ],
      publicKey: k.publicKey,
      signingKey: k.privateKey,
      serial: 0x0102n,
      notBefore: new Date(Date.UTC(2025, 0, 1)),
      notAfter: new Date(Date.UTC(2055, 0, 1)),
      ca: { pathLen: 3 },
    });
    const c = parseCertificate(der1);
    expect(c.serial).toBe(0x0102n);
    expect(c.subjectText).toBe('C=CN, O=Bank B, CN=Bank B TSA');
    expect(c.notAfter.toISOString()).toBe('2055-01-01T00:00:00.000Z');
    expect(c.basicConstraints).toEqual({ ca: true, pathLen: 3 });
    expect(c.signatureAlgorithm).toBe(Oid.ecdsaWithSha256);
    expect(toHex(c.der)).toBe(toHex(der1));
  });

  it('refuses duplicate extensions and trailing bytes', async () => {
    const k = await generateP256();
    const base = {
      subject: [['CN', 'x']] as const,
      publicKey: k.publicKey,
      signingKey: k.privateKey,
      notBefore: new Date(0),
      notAfter: new Date(1e12),
    };
    const dup = issueCertificate({
      ...base,
      extraExtensions: [{ oid: Oid.extSubjectKeyId, critical: false, value: der.octets(new Uint8Array(4)) }],
    });
    expect(() => parseCertificate(dup)).toThrow(/duplicate extension/);
    expect(() => parseCertificate(Uint8Array.from([...issueCertificate(base), 0]))).toThrow(/trailing/);
  });

  it('prints names with unknown attribute types as OIDs', () => {
    const name = der.seq(der.setOf([der.seq(der.oid('1.2.3.4'), der.utf8('v'))]));
    expect(formatName(name)).toBe('1.2.3.4=v');
  });
});

describe('parsePemCertificates', () => {
  it('reads every certificate of a bundle and rejects bundles without one', async () => {
    const creds = await createTsaCredentials({ organization: 'Bank C', now: new Date() });
    const pem = `junk\n${certToPem(creds.tsaCert)}\n${certToPem(creds.rootCert)}`;
    expect(parsePemCertificates(pem, 'bundle').map((c) => c.subjectText)).toEqual([
      'O=Bank C, CN=Bank C Embedded TSA',
      'O=Bank C, CN=Bank C Time-Stamping Root CA',
    ]);
    for (const bad of ['', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n']) {
      let code: string | undefined;
      try {
        parsePemCertificates(bad, 'bundle');
      } catch (err) {
        code = isTimestampError(err) ? err.code : 'other';
      }
      expect(code).toBe(TimestampErrorCode.badInput);
    }
  });
});
