/** RFC 3161 interop with OpenSSL 3 (`openssl ts`), an independent implementation, in both directions. */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { HttpTsaClient } from '../../src/timestamp/client.ts';
import { initTsaDir, openEmbeddedTsa } from '../../src/timestamp/dir.ts';
import type { HashAlg } from '../../src/timestamp/oids.ts';
import { buildTimeStampReq, parseTimeStampReq } from '../../src/timestamp/request.ts';
import { parseTimeStampResp } from '../../src/timestamp/response.ts';
import { QUERY_CONTENT_TYPE, REPLY_CONTENT_TYPE } from '../../src/timestamp/server.ts';
import type { EmbeddedTsa } from '../../src/timestamp/tsa.ts';
import type { VerifyResult } from '../../src/timestamp/verify.ts';
import { verifyTimestamp } from '../../src/timestamp/verify-node.ts';
import { type Cert, parsePemCertificates } from '../../src/timestamp/x509.ts';
import { reply, type ScriptedServer, scriptedServer } from '../helpers/http.ts';
import {
  makeOpensslTsa,
  OPENSSL_OTHER_POLICY,
  OPENSSL_POLICY,
  type OpensslTsa,
  openssl,
  opensslVerifies,
} from '../helpers/openssl.ts';
import { makePki, tempDir } from '../helpers/tsa.ts';

const data = new TextEncoder().encode('mediation agreement, case 2026-BJ-CC-000123\n');
const digestOf = (alg: HashAlg) => new Uint8Array(createHash(alg).update(data).digest());

let tmp: { path: string; cleanup: () => Promise<void> };
let ossl: OpensslTsa;
let osslRoot: Cert[];
let osslTsa: Cert[];

beforeAll(async () => {
  tmp = await tempDir('jrchain-interop-');
  ossl = await makeOpensslTsa(tmp.path);
  osslRoot = parsePemCertificates(ossl.caPem, 'ca.pem');
  osslTsa = parsePemCertificates(ossl.tsaPem, 'tsa.pem');
  await writeFile(join(tmp.path, 'data.txt'), data);
});
afterAll(() => tmp.cleanup());

function expectValid(r: VerifyResult): asserts r is Extract<VerifyResult, { ok: true }> {
  expect(r.ok, r.ok ? '' : `${r.failedCheck}: ${r.reason}`).toBe(true);
}

describe('tokens from `openssl ts -reply` pass our verifier', () => {
  it.each(['sha256', 'sha384', 'sha512'] as const)('%s, with nonce and embedded certificate', async (alg) => {
    const req = buildTimeStampReq({ digest: digestOf(alg), hashAlg: alg });
    const r = verifyTimestamp(await ossl.reply(req.der), { trustAnchors: osslRoot, request: req.der, data });
    expectValid(r);
    expect(r.hashAlg).toBe(alg);
    expect(r.policy).toBe(OPENSSL_POLICY);
    expect(r.nonce).toBe(req.nonce);
    expect(r.accuracy).toEqual({ seconds: 1, millis: 500, micros: 0 });
    expect(r.signerSubject).toBe('O=OpenSSL Interop, CN=OpenSSL TSA');
    expect(r.checksPassed).toContain('nonce');
    // clock_precision_digits = 3: genTime carries milliseconds, and the Date keeps them.
    expect(r.genTimeText).toMatch(/^\d{14}(\.\d{1,3})?Z$/);
    expect(r.genTime.toISOString().slice(0, 19).replace(/\D/g, '')).toBe(r.genTimeText.slice(0, 14));
    const fraction = /\.(\d+)Z$/.exec(r.genTimeText)?.[1] ?? '';
    expect(r.genTime.getUTCMilliseconds()).toBe(Number(fraction.padEnd(3, '0')));
  });

  it('without a nonce', async () => {
    const req = buildTimeStampReq({ digest: digestOf('sha256'), hashAlg: 'sha256', nonce: null });
    const r = verifyTimestamp(await ossl.reply(req.der), { trustAnchors: osslRoot, request: req.der });
    expectValid(r);
    expect(r.nonce).toBeUndefined();
  });

  it('without embedded certificates: valid only when the TSA certificate is supplied', async () => {
    const req = buildTimeStampReq({ digest: digestOf('sha384'), hashAlg: 'sha384', certReq: false });
    const resp = await ossl.reply(req.der);
    const bare = verifyTimestamp(resp, { trustAnchors: osslRoot, request: req.der });
    expect(bare.ok === false && bare.failedCheck).toBe('signerCert');
    expectValid(verifyTimestamp(resp, { trustAnchors: osslRoot, untrusted: osslTsa, request: req.der }));
  });

  it('with ESS signingCertificate (SHA-1) and signingCertificateV2, and another policy', async () => {
    const v1 = buildTimeStampReq({ digest: digestOf('sha256'), hashAlg: 'sha256' });
    const r1 = verifyTimestamp(await ossl.reply(v1.der, 'tsa_ess_v1'), {
      trustAnchors: osslRoot,
      request: v1.der,
    });
    expectValid(r1);
    expect(r1.checks.find((c) => c.name === 'essSigningCertificate')?.detail).toBe('v1');
    const v2 = buildTimeStampReq({
      digest: digestOf('sha256'),
      hashAlg: 'sha256',
      policy: OPENSSL_OTHER_POLICY,
    });
    const r2 = verifyTimestamp(await ossl.reply(v2.der, 'tsa_ess_v2'), {
      trustAnchors: osslRoot,
      request: v2.der,
    });
    expectValid(r2);
    expect(r2.checks.find((c) => c.name === 'essSigningCertificate')?.detail).toBe('v2');
    expect(r2.policy).toBe(OPENSSL_OTHER_POLICY);
  });

  it('for a query made by `openssl ts -query`', async () => {
    const q = join(tmp.path, 'openssl-query.tsq');
    const made = await openssl(
      ['ts', '-query', '-data', 'data.txt', '-sha512', '-cert', '-out', q],
      tmp.path,
    );
    expect(made.code).toBe(0);
    const query = new Uint8Array(await readFile(q));
    const parsed = parseTimeStampReq(query);
    expect(parsed.hashAlg).toBe('sha512');
    expect(parsed.digest).toEqual(digestOf('sha512'));
    expectValid(verifyTimestamp(await ossl.reply(query), { trustAnchors: osslRoot, request: query, data }));
  });

  it('and are rejected by the named check when they do not hold', async () => {
    const req = buildTimeStampReq({ digest: digestOf('sha256'), hashAlg: 'sha256' });
    const resp = await ossl.reply(req.der);
    const failed = (r: VerifyResult) => (r.ok ? 'ok' : r.failedCheck);
    expect(failed(verifyTimestamp(resp, { trustAnchors: osslRoot, data: new Uint8Array([1]) }))).toBe(
      'messageImprint',
    );
    expect(failed(verifyTimestamp(resp, { trustAnchors: osslRoot, data, nonce: req.nonce! + 1n }))).toBe(
      'nonce',
    );
    const stranger = (await makePki()).root;
    expect(failed(verifyTimestamp(resp, { trustAnchors: [stranger], data }))).toBe('chain');
    const tampered = Uint8Array.from(resp);
    tampered[tampered.length - 3]! ^= 0x01; // inside the ECDSA signature, the last field of the response
    expect(failed(verifyTimestamp(tampered, { trustAnchors: osslRoot, data }))).toBe('signature');
  });

  it('and an OpenSSL rejection fails our status check with its failure info', async () => {
    const sha1Query = await openssl(
      ['ts', '-query', '-data', 'data.txt', '-sha1', '-out', 'sha1.tsq'],
      tmp.path,
    );
    expect(sha1Query.code).toBe(0);
    const resp = await ossl.reply(new Uint8Array(await readFile(join(tmp.path, 'sha1.tsq'))));
    expect(parseTimeStampResp(resp).status.failInfo).toEqual(['badAlg']);
    const r = verifyTimestamp(resp, { trustAnchors: osslRoot, data });
    expect(r.ok === false && r.failedCheck).toBe('status');
  });
});

describe('tokens from our embedded TSA pass `openssl ts -verify`', () => {
  let dir: string;
  let tsa: EmbeddedTsa;

  beforeAll(async () => {
    dir = join(tmp.path, 'embedded');
    await initTsaDir(dir, { organization: 'Bank Interop', now: new Date() });
    tsa = await openEmbeddedTsa(dir);
    await tsa.start();
  });
  afterAll(() => tsa.stop());

  it.each(['sha256', 'sha384', 'sha512'] as const)(
    '%s: -queryfile with the response, -digest with the token',
    async (alg) => {
      const s = await tsa.stamp(digestOf(alg), alg);
      await writeFile(join(dir, `q-${alg}.tsq`), s.request);
      await writeFile(join(dir, `r-${alg}.tsr`), s.response);
      await writeFile(join(dir, `t-${alg}.der`), s.token);
      const byQuery = await opensslVerifies(
        ['-queryfile', `q-${alg}.tsq`, '-in', `r-${alg}.tsr`, '-CAfile', 'root.pem'],
        dir,
      );
      expect(byQuery.ok, byQuery.output).toBe(true);
      const byDigest = await opensslVerifies(
        ['-digest', toHex(digestOf(alg)), '-token_in', '-in', `t-${alg}.der`, '-CAfile', 'root.pem'],
        dir,
      );
      expect(byDigest.ok, byDigest.output).toBe(true);
    },
  );

  it('and OpenSSL rejects them for other data (the check can fail)', async () => {
    const s = await tsa.stamp(digestOf('sha256'), 'sha256');
    await writeFile(join(dir, 'neg.der'), s.token);
    const other = toHex(new Uint8Array(createHash('sha256').update('other').digest()));
    const r = await opensslVerifies(
      ['-digest', other, '-token_in', '-in', 'neg.der', '-CAfile', 'root.pem'],
      dir,
    );
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/message imprint mismatch/);
  });

  it('without embedded certificates, with -untrusted tsa.pem', async () => {
    const s = await tsa.stamp(digestOf('sha256'), 'sha256', { certReq: false });
    await writeFile(join(dir, 'nocert.der'), s.token);
    const args = [
      '-digest',
      toHex(digestOf('sha256')),
      '-token_in',
      '-in',
      'nocert.der',
      '-CAfile',
      'root.pem',
    ];
    expect((await opensslVerifies(args, dir)).ok).toBe(false);
    const withTsa = await opensslVerifies([...args, '-untrusted', 'tsa.pem'], dir);
    expect(withTsa.ok, withTsa.output).toBe(true);
  });

  it('answering a query made by `openssl ts -query`, shown by `openssl ts -reply -text`', async () => {
    const hex = toHex(digestOf('sha256'));
    expect(
      (await openssl(['ts', '-query', '-digest', hex, '-sha256', '-cert', '-out', 'o.tsq'], dir)).code,
    ).toBe(0);
    const reply1 = await tsa.respond(new Uint8Array(await readFile(join(dir, 'o.tsq'))));
    expect(reply1.granted).toBe(true);
    await writeFile(join(dir, 'o.tsr'), reply1.der);
    const v = await opensslVerifies(['-queryfile', 'o.tsq', '-in', 'o.tsr', '-CAfile', 'root.pem'], dir);
    expect(v.ok, v.output).toBe(true);
    const text = await openssl(['ts', '-reply', '-in', 'o.tsr', '-text'], dir);
    expect(text.stdout).toMatch(/Status: Granted/);
    expect(text.stdout).toMatch(/Accuracy: 0x01 seconds/);
    expect(text.stdout).toMatch(/TSA: DirName:\/O=Bank Interop\/CN=Bank Interop Embedded TSA/);
  });
});

describe('our HTTP client against an OpenSSL-backed HTTP TSA', () => {
  let server: ScriptedServer;
  beforeAll(async () => {
    server = await scriptedServer(async (res, body, _n, req) => {
      if (req.method !== 'POST' || req.headers['content-type'] !== QUERY_CONTENT_TYPE) {
        return reply(res, 415, 'text/plain', 'send a timestamp-query');
      }
      reply(res, 200, REPLY_CONTENT_TYPE, await ossl.reply(new Uint8Array(body)));
    });
  });
  afterAll(() => server.close());

  it('gets fully verified tokens, several at once, with distinct serials', async () => {
    const client = new HttpTsaClient({ url: server.url, trust: { trustAnchors: osslRoot } });
    await client.start();
    try {
      const algs: HashAlg[] = ['sha256', 'sha384', 'sha512', 'sha256'];
      const stamps = await Promise.all(algs.map((alg) => client.stamp(digestOf(alg), alg)));
      for (const s of stamps) {
        expect(s.verified).toBe('full');
        expect(s.policy).toBe(OPENSSL_POLICY);
      }
      expect(new Set(stamps.map((s) => s.serial)).size).toBe(algs.length);
      const other = await client.stamp(digestOf('sha256'), 'sha256', {
        policy: OPENSSL_OTHER_POLICY,
        nonce: false,
      });
      expect(other.policy).toBe(OPENSSL_OTHER_POLICY);
      expect(other.nonce).toBeUndefined();
    } finally {
      await client.stop();
    }
  });
});
