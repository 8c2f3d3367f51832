import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { der } from '../../../src/timestamp/asn1.ts';
import { isTimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { HashAlgs } from '../../../src/timestamp/oids.ts';
import { buildTimeStampReq, parseTimeStampReq, randomNonce } from '../../../src/timestamp/request.ts';

const digest = new Uint8Array(createHash('sha512').update('hello').digest());

describe('TimeStampReq', () => {
  it('round-trips every field', () => {
    const req = buildTimeStampReq({
      digest,
      hashAlg: 'sha512',
      nonce: 0x80n,
      policy: '1.2.3.4',
      certReq: true,
    });
    const parsed = parseTimeStampReq(req.der);
    expect(parsed.hashAlg).toBe('sha512');
    expect(parsed.digest).toEqual(digest);
    expect(parsed.nonce).toBe(0x80n);
    expect(parsed.policy).toBe('1.2.3.4');
    expect(parsed.certReq).toBe(true);
    expect(parsed.hasExtensions).toBe(false);
    expect(parsed.imprintDer).toEqual(req.imprintDer);
  });

  it('encodes like OpenSSL: NULL digest parameters, nonce, certReq', () => {
    const d = new Uint8Array(32);
    const req = buildTimeStampReq({ digest: d, hashAlg: 'sha256', nonce: 1n });
    const expected = der.seq(
      der.int(1n),
      der.seq(der.seq(der.oid(HashAlgs.sha256.oid), der.null()), der.octets(d)),
      der.int(1n),
      der.bool(true),
    );
    expect(toHex(req.der)).toBe(toHex(expected));
  });

  it('sends a fresh positive nonce unless told not to', () => {
    const a = buildTimeStampReq({ digest, hashAlg: 'sha512' });
    const b = buildTimeStampReq({ digest, hashAlg: 'sha512' });
    expect(a.nonce).toBeGreaterThan(0n);
    expect(a.nonce).not.toBe(b.nonce);
    expect(buildTimeStampReq({ digest, hashAlg: 'sha512', nonce: null }).nonce).toBeUndefined();
    expect(randomNonce()).toBeLessThan(1n << 64n);
  });

  it('rejects a digest of the wrong length with TSA_BAD_INPUT', () => {
    try {
      buildTimeStampReq({ digest: new Uint8Array(31), hashAlg: 'sha256' });
      expect.unreachable();
    } catch (err) {
      expect(isTimestampError(err, TimestampErrorCode.badInput)).toBe(true);
    }
  });

  it('parses an unknown digest algorithm without accepting it', () => {
    const sha1 = der.seq(
      der.int(1n),
      der.seq(der.seq(der.oid('1.3.14.3.2.26')), der.octets(new Uint8Array(20))),
    );
    const parsed = parseTimeStampReq(sha1);
    expect(parsed.hashAlg).toBeUndefined();
    expect(parsed.hashAlgOid).toBe('1.3.14.3.2.26');
  });

  it('refuses version 2 and digest parameters other than NULL', () => {
    const v2 = der.seq(
      der.int(2n),
      der.seq(der.seq(der.oid(HashAlgs.sha256.oid)), der.octets(new Uint8Array(32))),
    );
    expect(() => parseTimeStampReq(v2)).toThrow(/version/);
    const params = der.seq(
      der.int(1n),
      der.seq(der.seq(der.oid(HashAlgs.sha256.oid), der.int(0n)), der.octets(new Uint8Array(32))),
    );
    expect(() => parseTimeStampReq(params)).toThrow(/absent or NULL/);
  });
});
