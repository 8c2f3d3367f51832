/**
 * SM2 RFC 3161 tokens (issue 20): a token whose TSA certificate, issuing CA and SignerInfo signature are all
 * SM2 with SM3 (OID 1.2.156.10197.1.501, default user ID) is accepted by both signature engines. OpenSSL 3.0's
 * `openssl ts -reply` and `openssl cms -sign` cannot sign with SM2, so the independent side is: OpenSSL makes
 * the SM2 keys and both certificates (`-sm3 -sigopt distid:1234567812345678`) and signs our signed attributes
 * with `openssl pkeyutl`; we only assemble the DER around them.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/crypto.ts';
import { sm3 } from '../../src/core/sm/sm3.ts';
import { der } from '../../src/timestamp/asn1.ts';
import { issueCertificate } from '../../src/timestamp/certs.ts';
import {
  encodeSignedAttrs,
  encodeToken,
  encodeTstInfo,
  generalNameDirectory,
  signingCertificateV2,
} from '../../src/timestamp/encode.ts';
import { type HashAlg, Oid } from '../../src/timestamp/oids.ts';
import { EmbeddedTsa } from '../../src/timestamp/tsa.ts';
import { verifyTimestampAsync } from '../../src/timestamp/verify.ts';
import { verifyTimestamp } from '../../src/timestamp/verify-node.ts';
import { type Cert, KeyUsageBit, parseCertificate } from '../../src/timestamp/x509.ts';
import { CA_TSA_EXTENSIONS } from '../helpers/openssl.ts';
import { opensslHas } from '../helpers/sm.ts';
import { counterSerials, imprintDer } from '../helpers/tsa.ts';

const DISTID = 'distid:1234567812345678';
const HAS_SM2 = opensslHas('public-key', 'SM2') && opensslHas('digest', 'SM3');

describe.skipIf(!HAS_SM2)('SM2 RFC 3161 tokens with OpenSSL-made SM2 certificates and signatures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jrchain-sm2-tsa-'));
  const file = (name: string) => join(dir, name);
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let ca: Cert;
  let tsa: Cert;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    writeFileSync(file('ext.cnf'), CA_TSA_EXTENSIONS);
    for (const k of ['ca', 'tsa']) run(['genpkey', '-algorithm', 'SM2', '-out', `${k}.key`]);
    const common = ['-sm3', '-sigopt', DISTID, '-config', 'ext.cnf'];
    run(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        'ca.key',
        '-subj',
        '/O=SM Interop/CN=SM2 Root',
        '-days',
        '3650',
      ].concat(common, ['-extensions', 'ca_ext', '-out', 'ca.pem', '-outform', 'DER']),
    );
    run(
      [
        'req',
        '-new',
        '-key',
        'tsa.key',
        '-subj',
        '/O=SM Interop/CN=SM2 TSA',
        '-sm3',
        '-sigopt',
        DISTID,
      ].concat(['-out', 'tsa.csr']),
    );
    run(
      ['x509', '-req', '-in', 'tsa.csr', '-CA', 'ca.pem', '-CAform', 'DER', '-CAkey', 'ca.key']
        .concat(['-set_serial', '0x5a', '-days', '365', '-sm3', '-sigopt', DISTID, '-vfyopt', DISTID])
        .concat(['-extfile', 'ext.cnf', '-extensions', 'tsa_ext', '-outform', 'DER', '-out', 'tsa.der']),
    );
    ca = parseCertificate(readFileSync(file('ca.pem')));
    tsa = parseCertificate(readFileSync(file('tsa.der')));
  });

  /** A token over `data`'s `alg` imprint, its signed attributes signed by `signAttrs`. */
  function token(data: Uint8Array, alg: HashAlg, signAttrs: (attrs: Uint8Array) => Uint8Array): Uint8Array {
    const tstInfo = encodeTstInfo({
      policy: '1.2.3.4.1',
      imprintDer: imprintDer(alg, alg === 'sm3' ? sm3(data) : sha256(data)),
      serial: 42n,
      genTime: new Date(),
      accuracyMs: 1000,
      tsaName: generalNameDirectory(tsa.subject),
    });
    const signedAttrs = encodeSignedAttrs({
      eContent: tstInfo,
      digestAlg: 'sm3',
      extra: [signingCertificateV2(tsa)],
    });
    return encodeToken({
      eContent: tstInfo,
      digestAlg: 'sm3',
      signedAttrs,
      signatureAlgorithmId: der.seq(der.oid(Oid.sm2WithSm3)),
      signature: signAttrs(signedAttrs),
      signer: tsa,
      certificates: [tsa.der],
    });
  }

  const opensslSign = (attrs: Uint8Array): Uint8Array => {
    writeFileSync(file('attrs.der'), attrs);
    run(
      ['pkeyutl', '-sign', '-rawin', '-digest', 'sm3', '-pkeyopt', DISTID, '-inkey', 'tsa.key'].concat([
        '-in',
        'attrs.der',
        '-out',
        'attrs.sig',
      ]),
    );
    return new Uint8Array(readFileSync(file('attrs.sig')));
  };

  async function bothEngines(tok: Uint8Array, data: Uint8Array) {
    const opts = { trustAnchors: [ca], data };
    return [verifyTimestamp(tok, opts), await verifyTimestampAsync(tok, opts)];
  }

  it('accepts the token in both engines, with an SM3 or a SHA-256 imprint', async () => {
    const data = utf8.encode('mediation agreement, SM chain');
    for (const alg of ['sm3', 'sha256'] as const) {
      for (const r of await bothEngines(token(data, alg, opensslSign), data)) {
        expect(r.ok, r.ok ? '' : `${r.failedCheck}: ${r.reason}`).toBe(true);
        if (r.ok) expect(r.hashAlg).toBe(alg);
      }
    }
  });

  it('refuses a tampered signature, other data, and a signature over Z with an empty user ID', async () => {
    const data = utf8.encode('evidence');
    const tampered = token(data, 'sm3', (a) => {
      const s = opensslSign(a);
      s[s.length - 3]! ^= 1;
      return s;
    });
    // node:crypto signs SM2 with Z over an empty user ID (docs/long-term.md): not the standard's signature.
    const key = createPrivateKey(readFileSync(file('tsa.key')));
    const emptyId = token(data, 'sm3', (a) => new Uint8Array(sign('sm3', a, key)));
    for (const [tok, what] of [
      [tampered, 'tampered'],
      [emptyId, 'empty user ID'],
    ] as const) {
      for (const r of await bothEngines(tok, data)) expect(r.ok, what).toBe(false);
    }
    for (const r of await bothEngines(token(data, 'sm3', opensslSign), utf8.encode('other'))) {
      expect(r.ok).toBe(false);
    }
  });

  it('refuses an SM2 key claimed as ECDSA, and an SM2 signature from a non-SM2 key type', async () => {
    const data = utf8.encode('evidence');
    const good = token(data, 'sm3', opensslSign);
    const asEcdsa = replaceOid(good, Oid.sm2WithSm3, Oid.ecdsaWithSha256);
    for (const r of await bothEngines(asEcdsa, data)) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/needs a ec key, the certificate holds sm2/);
    }
  });
});

describe.skipIf(!HAS_SM2)('the embedded TSA with an SM2 key and SM2 certificates we issue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jrchain-sm2-embedded-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const now = Date.UTC(2026, 5, 1);

  it('issues SM2 certificates that `openssl verify` accepts, and signs tokens both engines accept', async () => {
    const rootKeys = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const tsaKeys = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const validity = { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 365 * 86_400_000) };
    const root = parseCertificate(
      issueCertificate({
        subject: [['CN', 'SM2 Root']],
        publicKey: rootKeys.publicKey,
        signingKey: rootKeys.privateKey,
        ca: {},
        keyUsage: [KeyUsageBit.keyCertSign],
        ...validity,
      }),
    );
    const tsaCert = parseCertificate(
      issueCertificate({
        subject: [['CN', 'SM2 TSA']],
        publicKey: tsaKeys.publicKey,
        issuer: root,
        signingKey: rootKeys.privateKey,
        keyUsage: [KeyUsageBit.digitalSignature],
        extKeyUsage: { purposes: [Oid.kpTimeStamping], critical: true },
        ...validity,
      }),
    );
    expect(tsaCert.signatureAlgorithm).toBe(Oid.sm2WithSm3);
    // OpenSSL checks our SM2 certificate signatures (default user ID), the independent side here.
    writeFileSync(join(dir, 'root.der'), root.der);
    writeFileSync(join(dir, 'tsa.der'), tsaCert.der);
    execFileSync('openssl', ['x509', '-inform', 'DER', '-in', 'root.der', '-out', 'root.pem'], { cwd: dir });
    execFileSync('openssl', ['x509', '-inform', 'DER', '-in', 'tsa.der', '-out', 'tsa.pem'], { cwd: dir });
    const ok = execFileSync(
      'openssl',
      [
        'verify',
        '-attime',
        String(Math.floor(now / 1000)),
        '-vfyopt',
        DISTID,
        '-CAfile',
        'root.pem',
        'tsa.pem',
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(ok).toMatch(/tsa.pem: OK/);

    const tsa = new EmbeddedTsa({
      certificate: tsaCert.der,
      privateKey: tsaKeys.privateKey,
      serials: counterSerials(),
      clock: () => now,
    });
    await tsa.start();
    try {
      const digest = sm3(utf8.encode('a header hash'));
      const { token } = await tsa.stamp(digest, 'sm3');
      const opts = { trustAnchors: [root], digest, hashAlg: 'sm3' as const };
      for (const r of [verifyTimestamp(token, opts), await verifyTimestampAsync(token, opts)]) {
        expect(r.ok, r.ok ? '' : `${r.failedCheck}: ${r.reason}`).toBe(true);
      }
      const tampered = token.slice();
      tampered[tampered.length - 3]! ^= 1;
      expect(verifyTimestamp(tampered, opts).ok).toBe(false);
    } finally {
      await tsa.stop();
    }
  });
});

/** The token with one OID's DER (same length) swapped for another's. */
function replaceOid(tok: Uint8Array, from: string, to: string): Uint8Array {
  const a = der.oid(from);
  const b = der.oid(to);
  const hex = Buffer.from(tok).toString('hex');
  const ah = Buffer.from(a).toString('hex');
  if (a.length !== b.length) {
    // sm2WithSm3 and ecdsa-with-SHA256 are both 8-byte OIDs plus tag and length.
    throw new Error('OID lengths differ');
  }
  const at = hex.lastIndexOf(ah);
  return new Uint8Array(
    Buffer.from(hex.slice(0, at) + Buffer.from(b).toString('hex') + hex.slice(at + ah.length), 'hex'),
  );
}
