/**
 * Third-party RFC 3161 tokens from real TSAs (sigstore staging and a sigstore timestamp-authority), read in
 * place from ../shared/fixtures/rfc3161 (see its README for the expected verdicts, checked with OpenSSL).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { VerifyOptions, VerifyResult } from '../../src/timestamp/verify.ts';
import { verifyTimestamp } from '../../src/timestamp/verify-node.ts';
import { parsePemCertificates } from '../../src/timestamp/x509.ts';
import { rfc3161FixturesDir } from '../helpers/tsa.ts';

const dir = rfc3161FixturesDir();

const title = dir
  ? 'third-party RFC 3161 fixtures'
  : 'third-party RFC 3161 fixtures (skipped: ../shared/fixtures/rfc3161 is absent; set JRCHAIN_SHARED_DIR)';

describe.skipIf(dir === undefined)(title, () => {
  const bytes = (p: string) => new Uint8Array(readFileSync(join(dir!, p)));
  const chain = (p: string) => parsePemCertificates(readFileSync(join(dir!, p), 'utf8'), p);
  const verify = (p: string, opts: Omit<VerifyOptions, 'trustAnchors'>, anchors: string): VerifyResult =>
    verifyTimestamp(bytes(p), { trustAnchors: chain(anchors), ...opts });
  const hello = () => bytes('hello.txt');

  describe('sigstage', () => {
    const anchors = 'sigstage/ts_chain.pem';

    it.each(['sha256', 'sha384', 'sha512'])('response-%s.tsr is valid over "hello"', (alg) => {
      const r = verify(`sigstage/response-${alg}.tsr`, { data: hello() }, anchors);
      expect(r.ok, r.ok ? '' : `${r.failedCheck}: ${r.reason}`).toBe(true);
      if (!r.ok) return;
      expect(r.hashAlg).toBe(alg);
      expect(r.signerSubject).toBe('O=sigstore.dev, CN=sigstore-tsa');
      expect(r.policy).toBe('1.3.6.1.4.1.57264.2');
    });

    it('response-invalid-signature.tsr is rejected by the signature check', () => {
      const r = verify('sigstage/response-invalid-signature.tsr', { data: hello() }, anchors);
      expect(r.ok === false && r.failedCheck).toBe('signature');
    });

    it('response-no-embedded-cert.tsr is valid only when the chain is supplied', () => {
      const p = 'sigstage/response-no-embedded-cert.tsr';
      const without = verify(p, { data: hello() }, anchors);
      expect(without.ok === false && without.failedCheck).toBe('signerCert');
      const withChain = verify(p, { data: hello(), untrusted: chain(anchors) }, anchors);
      expect(withChain.ok).toBe(true);
    });

    it('a token over other data fails the imprint check', () => {
      const r = verify('sigstage/response-sha256.tsr', { data: new TextEncoder().encode('hello!') }, anchors);
      expect(r.ok === false && r.failedCheck).toBe('messageImprint');
    });
  });

  describe('test_tsa', () => {
    const anchors = 'test_tsa/ts_chain.pem';

    it('response.tsr is valid against request.der (sha512 imprint, nonce, policy)', () => {
      const r = verify(
        'test_tsa/response.tsr',
        { request: bytes('test_tsa/request.der'), data: hello() },
        anchors,
      );
      expect(r.ok, r.ok ? '' : `${r.failedCheck}: ${r.reason}`).toBe(true);
      if (!r.ok) return;
      expect(r.hashAlg).toBe('sha512');
      expect(r.checksPassed).toContain('nonce');
      expect(r.chainSubjects).toEqual([
        'O=local, CN=Test TSA Timestamping',
        'O=local, CN=Test TSA Intermediate',
      ]);
    });

    it('response-injected-certs.tsr is valid: the signer is found by sid, the extras are ignored', () => {
      const r = verify(
        'test_tsa/response-injected-certs.tsr',
        { request: bytes('test_tsa/request.der') },
        anchors,
      );
      expect(r.ok, r.ok ? '' : `${r.failedCheck}: ${r.reason}`).toBe(true);
    });

    it('other_response.tsr (another TSA) does not chain to ts_chain.pem', () => {
      const r = verify('test_tsa/other_response.tsr', { data: hello() }, anchors);
      expect(r.ok === false && r.failedCheck).toBe('chain');
      // Its companion request carries a different nonce than the token (as published upstream), which our
      // binding checks catch before trust; OpenSSL, which checks the chain first, reports the chain.
      const withRequest = verify(
        'test_tsa/other_response.tsr',
        { request: bytes('test_tsa/other_request.der') },
        anchors,
      );
      expect(withRequest.ok === false && withRequest.failedCheck).toBe('nonce');
    });

    it('response.tsr does not answer other_request.der', () => {
      const r = verify('test_tsa/response.tsr', { request: bytes('test_tsa/other_request.der') }, anchors);
      expect(r.ok === false && r.failedCheck).toBe('nonce');
    });
  });
});
