import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import type { EvidenceTokenResult } from '../../../src/timestamp/evidence.ts';
import { verifyEvidenceToken } from '../../../src/timestamp/verify-node.ts';
import { certToPem } from '../../../src/timestamp/x509.ts';
import { buildToken, makePki, type Pki, startTsa, T0 } from '../../helpers/tsa.ts';

const hash = new Uint8Array(createHash('sha256').update('mediation-agreement.pdf').digest());
let pki: Pki;
let token: Uint8Array;
let response: Uint8Array;

beforeAll(async () => {
  pki = await makePki();
  const tsa = await startTsa(pki, T0);
  const s = await tsa.stamp(hash, 'sha256');
  token = s.token;
  response = s.response;
});

function expectCode(r: EvidenceTokenResult, code: string, check?: string): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe(code);
  if (check) expect(r.failedCheck).toBe(check);
}

describe('verifyEvidenceToken', () => {
  const opts = () => ({ trustAnchorsPem: pki.rootPem, now: T0 + 30_000, toleranceMs: 60_000 });

  it('accepts a trusted token over the evidence hash within the tolerance', () => {
    const r = verifyEvidenceToken(token, hash, 'sha256', opts());
    expect(r).toMatchObject({ ok: true, signerSubject: 'O=JRChain Test, CN=Test TSA' });
    expect(r.ok && r.genTime.getTime()).toBe(T0);
  });

  it('TSA_IMPRINT_MISMATCH for another hash or algorithm', () => {
    expectCode(
      verifyEvidenceToken(token, new Uint8Array(32), 'sha256', opts()),
      TimestampErrorCode.imprintMismatch,
    );
    expectCode(
      verifyEvidenceToken(token, new Uint8Array(48), 'sha384', opts()),
      TimestampErrorCode.imprintMismatch,
    );
  });

  it('TSA_TIME_SKEW when genTime is too far from the reference time, either way', () => {
    expectCode(
      verifyEvidenceToken(token, hash, 'sha256', { ...opts(), now: T0 + 60_001 }),
      TimestampErrorCode.timeSkew,
      'tolerance',
    );
    expectCode(
      verifyEvidenceToken(token, hash, 'sha256', { ...opts(), now: T0 - 60_001 }),
      TimestampErrorCode.timeSkew,
    );
    expect(verifyEvidenceToken(token, hash, 'sha256', { ...opts(), now: T0 + 60_000 }).ok).toBe(true);
  });

  it('TSA_UNPARSABLE for garbage, and for a full response (evidence carries bare tokens)', () => {
    expectCode(
      verifyEvidenceToken(new Uint8Array([1, 2, 3]), hash, 'sha256', opts()),
      TimestampErrorCode.unparsable,
    );
    expectCode(
      verifyEvidenceToken(response, hash, 'sha256', opts()),
      TimestampErrorCode.unparsable,
      'decode',
    );
    expectCode(
      verifyEvidenceToken(new Uint8Array(16 * 1024 + 1), hash, 'sha256', opts()),
      TimestampErrorCode.unparsable,
    );
  });

  it('TSA_VERIFY_FAILED with the check for an untrusted or tampered token', async () => {
    const stranger = await makePki();
    const r = verifyEvidenceToken(buildToken(stranger, { digest: hash }), hash, 'sha256', opts());
    expectCode(r, TimestampErrorCode.verifyFailed, 'chain');
    expect(!r.ok && r.error.details).toEqual({ check: 'chain' });
    const tampered = buildToken(pki, { digest: hash, tamperSignature: true });
    expectCode(
      verifyEvidenceToken(tampered, hash, 'sha256', opts()),
      TimestampErrorCode.verifyFailed,
      'signature',
    );
  });

  it('uses untrusted certificates for tokens without embedded ones, and enforces a policy', () => {
    const bare = buildToken(pki, { digest: hash, certificates: [], policy: '1.2.3.4' });
    expectCode(
      verifyEvidenceToken(bare, hash, 'sha256', opts()),
      TimestampErrorCode.verifyFailed,
      'signerCert',
    );
    const withTsa = { ...opts(), untrustedPem: certToPem(pki.tsa.der) };
    expect(verifyEvidenceToken(bare, hash, 'sha256', withTsa).ok).toBe(true);
    expectCode(
      verifyEvidenceToken(bare, hash, 'sha256', { ...withTsa, policy: '1.2.3.5' }),
      TimestampErrorCode.verifyFailed,
      'policy',
    );
  });

  it('throws TSA_BAD_INPUT for anchors that are not PEM certificates', () => {
    expect(() => verifyEvidenceToken(token, hash, 'sha256', { ...opts(), trustAnchorsPem: 'nope' })).toThrow(
      /no certificate/,
    );
  });
});
