/**
 * The two signature engines reach the same verdicts (ADR 013): node:crypto, synchronous, which the ledger
 * uses, and WebCrypto with @noble, asynchronous, which receipts use in Node and in the browser page. Each token
 * is verified by both and the whole results compared: the third-party fixtures (ECDSA P-384 and P-256
 * chains, a bad signature, injected certificates) and OpenSSL TSAs whose tokens are signed with RSA PKCS#1
 * v1.5, ECDSA P-256 and P-384, and whose CA signs the TSA certificate with RSA-PSS or Ed25519 (`openssl ts`
 * cannot sign a token with those; test/unit/timestamp/engines.test.ts checks such token signatures).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTimeStampReq } from '../../src/timestamp/request.ts';
import { parseToken } from '../../src/timestamp/response.ts';
import { type VerifyOptions, type VerifyResult, verifyTimestampAsync } from '../../src/timestamp/verify.ts';
import { verifyTimestamp } from '../../src/timestamp/verify-node.ts';
import { parsePemCertificates } from '../../src/timestamp/x509.ts';
import { makeOpensslTsa } from '../helpers/openssl.ts';
import { rfc3161FixturesDir, tempDir } from '../helpers/tsa.ts';

/** Both engines' results, which must be equal; returns the one receipts would see. */
async function bothEngines(input: Uint8Array, opts: VerifyOptions): Promise<VerifyResult> {
  const sync = verifyTimestamp(input, opts);
  const web = await verifyTimestampAsync(input, opts);
  expect(web).toEqual(sync);
  return web;
}

const verdict = (r: VerifyResult) => (r.ok ? 'ok' : `${r.failedCheck}: ${r.reason}`);

const dir = rfc3161FixturesDir();
describe.skipIf(dir === undefined)(
  `third-party fixtures through both engines${dir ? '' : ' (skipped: ../shared/fixtures/rfc3161 is absent)'}`,
  () => {
    const bytes = (p: string) => new Uint8Array(readFileSync(join(dir!, p)));
    const chain = (p: string) => parsePemCertificates(readFileSync(join(dir!, p), 'utf8'), p);
    const hello = () => bytes('hello.txt');

    it.each([
      ['sigstage/response-sha256.tsr', 'ok'],
      ['sigstage/response-sha384.tsr', 'ok'],
      ['sigstage/response-sha512.tsr', 'ok'],
      ['sigstage/response-invalid-signature.tsr', 'signature'],
      ['sigstage/response-no-embedded-cert.tsr', 'signerCert'],
    ])('%s: %s', async (file, want) => {
      const r = await bothEngines(bytes(file), {
        data: hello(),
        trustAnchors: chain('sigstage/ts_chain.pem'),
      });
      expect(r.ok ? 'ok' : r.failedCheck, verdict(r)).toBe(want);
    });

    it('sigstage without embedded certificates verifies once the chain is supplied', async () => {
      const anchors = chain('sigstage/ts_chain.pem');
      const r = await bothEngines(bytes('sigstage/response-no-embedded-cert.tsr'), {
        data: hello(),
        trustAnchors: anchors,
        untrusted: anchors,
      });
      expect(verdict(r)).toBe('ok');
    });

    it.each([
      ['test_tsa/response.tsr', 'test_tsa/request.der', 'ok'],
      ['test_tsa/response-injected-certs.tsr', 'test_tsa/request.der', 'ok'],
      ['test_tsa/other_response.tsr', 'test_tsa/other_request.der', 'nonce'],
      ['test_tsa/other_response.tsr', undefined, 'chain'],
    ])('%s against %s: %s', async (file, request, want) => {
      const r = await bothEngines(bytes(file), {
        ...(request === undefined ? { data: hello() } : { request: bytes(request) }),
        trustAnchors: chain('test_tsa/ts_chain.pem'),
      });
      expect(r.ok ? 'ok' : r.failedCheck, verdict(r)).toBe(want);
    });
  },
);

/** Flips one bit of the SignerInfo signature, found by its bytes in the token. */
function flipSignature(token: Uint8Array): Uint8Array {
  const sig = parseToken(token).signedData!.signerInfos[0]!.signature;
  const out = token.slice();
  for (let i = out.length - sig.length; i >= 0; i--) {
    if (out.subarray(i, i + sig.length).every((b, j) => b === sig[j])) {
      out[i + sig.length - 10]! ^= 0x01;
      return out;
    }
  }
  throw new Error('signature not found in the token');
}

describe('OpenSSL TSAs of every key type through both engines', () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  beforeAll(async () => {
    tmp = await tempDir('jrchain-engines-');
  });
  afterAll(async () => {
    await tmp.cleanup();
  });

  const rsa = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
  const p384 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'];
  it.each([
    ['token and certificate RSA PKCS#1 v1.5', { ca: rsa, tsa: rsa }],
    ['token ECDSA P-384, certificate ECDSA P-384', { ca: p384, tsa: p384 }],
    [
      'token ECDSA P-256, certificate RSA-PSS',
      { ca: ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'] },
    ],
    ['token ECDSA P-256, certificate Ed25519', { ca: ['-algorithm', 'ED25519'] }],
  ])(
    '%s: a genuine token verifies and a flipped signature bit fails the signature check',
    async (name, keys) => {
      const sub = join(tmp.path, name.replace(/[^A-Za-z0-9]/g, '_'));
      await mkdir(sub);
      const ossl = await makeOpensslTsa(sub, keys);
      const data = new TextEncoder().encode(`engines ${name}`);
      const digest = new Uint8Array(createHash('sha256').update(data).digest());
      const req = buildTimeStampReq({ digest, hashAlg: 'sha256' });
      const resp = await ossl.reply(req.der);
      const opts = { trustAnchors: parsePemCertificates(ossl.caPem, 'ca'), request: req.der, data };
      const good = await bothEngines(resp, opts);
      expect(verdict(good)).toBe('ok');
      if (!good.ok) return;
      const bad = await bothEngines(flipSignature(good.token), opts);
      expect(bad.ok ? 'ok' : bad.failedCheck).toBe('signature');
    },
  );
});
