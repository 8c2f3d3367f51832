/**
 * CRLs for evidence records' revocation data (docs/long-term.md): the embedded TSA's root issues one that
 * OpenSSL verifies against the root, it reads back from PEM and DER, and the RevocationValues wrapping
 * round-trips. Files that hold no CRL are refused with TSA_BAD_INPUT.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../../src/core/bytes.ts';
import { issueCrl } from '../../../src/timestamp/certs.ts';
import {
  crlsOfRevocationValues,
  encodeRevocationValues,
  parseCrl,
  readCrls,
} from '../../../src/timestamp/crl.ts';
import { issueTsaCrl, TSA_CRL_FILE } from '../../../src/timestamp/dir.ts';
import { initTsaDir, TsaFiles } from '../../../src/timestamp/index.ts';
import { removeDir, tempDir } from '../../helpers/ledger.ts';
import { openssl } from '../../helpers/openssl.ts';
import { DAY, makePki, type Pki, T0 } from '../../helpers/tsa.ts';

let pki: Pki;
let dir: string;

beforeAll(async () => {
  pki = await makePki();
  dir = await tempDir('crl');
});
afterAll(() => removeDir(dir));

const pem = (der: Uint8Array) =>
  `-----BEGIN X509 CRL-----\n${toBase64(der).replace(/.{1,64}/g, '$&\n')}-----END X509 CRL-----\n`;

describe('CRLs', () => {
  it('issues a v2 CRL that reads back with its issuer, times and revoked serials', () => {
    const crl = issueCrl({
      issuer: pki.root,
      signingKey: pki.rootKey,
      thisUpdate: new Date(T0),
      nextUpdate: new Date(T0 + 30 * DAY),
      number: 7n,
      revoked: [{ serial: 0x1234n, date: new Date(T0 - DAY) }],
    });
    expect(parseCrl(crl)).toEqual({
      der: crl,
      issuer: pki.root.subjectText,
      thisUpdate: new Date(T0),
      nextUpdate: new Date(T0 + 30 * DAY),
      revoked: [0x1234n],
    });
    expect(readCrls(crl, 'der').map((c) => c.der)).toEqual([crl]);
    expect(readCrls(new TextEncoder().encode(pem(crl) + pem(crl)), 'pem')).toHaveLength(2);
    expect(crlsOfRevocationValues(encodeRevocationValues([crl, crl]))).toEqual([crl, crl]);
  });

  it('the embedded TSA issues its root CRL, which OpenSSL verifies against the root', async () => {
    const tsaDir = join(dir, 'tsa');
    await initTsaDir(tsaDir, { organization: 'CRL Test', now: new Date() });
    const r = await issueTsaCrl(tsaDir, { now: new Date(), days: 10 });
    expect(r.file).toBe(join(tsaDir, TSA_CRL_FILE));
    const v = await openssl(['crl', '-in', r.file, '-CAfile', join(tsaDir, TsaFiles.rootCert), '-noout']);
    expect(v.stderr + v.stdout).toMatch(/verify OK/);
    expect(v.code).toBe(0);
    // Another root does not verify it.
    await writeFile(join(dir, 'other.pem'), pki.rootPem);
    const other = await openssl(['crl', '-in', r.file, '-CAfile', join(dir, 'other.pem'), '-noout']);
    expect(other.stderr + other.stdout).not.toMatch(/verify OK/);
  });

  it('refuses files that hold no CRL, and CRL blocks that do not decode', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(() =>
      readCrls(enc('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n'), 'f'),
    ).toThrow(/TSA_BAD_INPUT|no X509 CRL found/);
    expect(() => readCrls(enc('not a crl'), 'f')).toThrow(/CRL 1 does not decode/);
    expect(() => readCrls(pki.root.der, 'f')).toThrow(/CRL 1 does not decode/);
  });
});
