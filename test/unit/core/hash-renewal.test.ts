import { describe, expect, it } from 'vitest';
import { CodecError, CodecErrorCode } from '../../../src/core/codec.ts';
import {
  decodeHashRenewal,
  encodeHashRenewal,
  type HashRenewalRequest,
} from '../../../src/core/hash-renewal.ts';

const request: HashRenewalRequest = {
  evidenceTx: new Uint8Array(32).fill(1),
  hashAlg: 'sha384',
  hash: new Uint8Array(48).fill(2),
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodecError) return err.code;
    throw err;
  }
  return undefined;
}

describe('hash renewal request encoding', () => {
  it('round-trips sha384 and sha512 requests', () => {
    expect(decodeHashRenewal(encodeHashRenewal(request))).toEqual(request);
    const strong = { ...request, hashAlg: 'sha512' as const, hash: new Uint8Array(64).fill(3) };
    expect(decodeHashRenewal(encodeHashRenewal(strong))).toEqual(strong);
  });

  it('refuses SHA-256 or unknown algorithms, wrong lengths, other versions and trailing bytes', () => {
    const bytes = encodeHashRenewal(request);
    const withCode = (code: number) => Uint8Array.from(bytes, (b, i) => (i === 33 ? code : b));
    expect(codeOf(() => decodeHashRenewal(withCode(1)))).toBe(CodecErrorCode.invalidField);
    expect(codeOf(() => decodeHashRenewal(withCode(9)))).toBe(CodecErrorCode.invalidField);
    expect(codeOf(() => decodeHashRenewal(withCode(3)))).toBeDefined(); // 48 bytes where sha512 needs 64
    expect(codeOf(() => decodeHashRenewal(Uint8Array.of(2, ...bytes.subarray(1))))).toBe(
      CodecErrorCode.unknownVersion,
    );
    expect(codeOf(() => decodeHashRenewal(Uint8Array.of(...bytes, 0)))).toBeDefined();
    expect(codeOf(() => decodeHashRenewal(bytes))).toBeUndefined();
    expect(codeOf(() => encodeHashRenewal({ ...request, hash: new Uint8Array(64) }))).toBe(
      CodecErrorCode.invalidField,
    );
    expect(
      codeOf(() => encodeHashRenewal({ ...request, hashAlg: 'sha256' as never, hash: new Uint8Array(32) })),
    ).toBe(CodecErrorCode.invalidField);
    expect(codeOf(() => encodeHashRenewal({ ...request, evidenceTx: new Uint8Array(31) }))).toBe(
      CodecErrorCode.invalidField,
    );
  });
});
