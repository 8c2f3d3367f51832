import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AnchorRecord, decodeAnchor, encodeAnchor } from '../../../src/core/anchor.ts';
import { CodecErrorCode } from '../../../src/core/codec.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { Limits } from '../../../src/core/limits.ts';
import { decodeTx, encodeTx, TxTypes, VALIDATOR_KEY_ID } from '../../../src/core/tx.ts';
import { codeOf } from '../../helpers/errors.ts';
import { anchorTx } from '../../helpers/fixtures.ts';

const record = (over: Partial<AnchorRecord> = {}): AnchorRecord => ({
  height: 300,
  headerHash: sha256(new Uint8Array([7])),
  token: new Uint8Array([0x30, 0x03, 1, 2, 3]),
  ...over,
});

describe('AnchorRecord codec', () => {
  it('is version, varint height, 32-byte header hash, length-prefixed token; and round-trips', () => {
    const a = record();
    const bytes = encodeAnchor(a);
    // 300 is the two-byte varint ac 02.
    expect([...bytes.subarray(0, 3)]).toEqual([1, 0xac, 0x02]);
    expect(bytes.subarray(3, 35)).toEqual(a.headerHash);
    expect([...bytes.subarray(35)]).toEqual([5, 0x30, 0x03, 1, 2, 3]);
    expect(decodeAnchor(bytes)).toEqual(a);
  });

  it('round-trips any valid record, and encode(decode(b)) = b', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        (height, headerHash, token) => {
          const bytes = encodeAnchor({ height, headerHash, token });
          expect(decodeAnchor(bytes)).toEqual({ height, headerHash, token });
          expect(encodeAnchor(decodeAnchor(bytes))).toEqual(bytes);
        },
      ),
    );
  });

  it('refuses to encode what it would not decode', () => {
    expect(codeOf(() => encodeAnchor(record({ height: 0 })))).toBe(CodecErrorCode.invalidField);
    expect(codeOf(() => encodeAnchor(record({ height: 1.5 })))).toBe(CodecErrorCode.invalidField);
    expect(codeOf(() => encodeAnchor(record({ headerHash: new Uint8Array(31) })))).toBe(
      CodecErrorCode.invalidField,
    );
    expect(codeOf(() => encodeAnchor(record({ token: new Uint8Array(0) })))).toBe(
      CodecErrorCode.invalidField,
    );
    expect(codeOf(() => encodeAnchor(record({ token: new Uint8Array(Limits.tsTokenBytes + 1) })))).toBe(
      CodecErrorCode.invalidField,
    );
    expect(encodeAnchor(record({ token: new Uint8Array(Limits.tsTokenBytes) })).length).toBeGreaterThan(
      Limits.tsTokenBytes,
    );
  });

  it('decodes strictly: version, truncation, trailing bytes, non-minimal varints, zero height, empty token', () => {
    const bytes = encodeAnchor(record());
    const v6 = bytes.slice();
    v6[0] = 6;
    expect(codeOf(() => decodeAnchor(v6))).toBe(CodecErrorCode.unknownVersion);
    // Version 2 announces an archive timestamp, which a version 1 body lacks.
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(codeOf(() => decodeAnchor(v2))).toBe(CodecErrorCode.truncated);
    expect(codeOf(() => decodeAnchor(bytes.subarray(0, bytes.length - 1)))).toBe(CodecErrorCode.truncated);
    expect(codeOf(() => decodeAnchor(new Uint8Array([...bytes, 0])))).toBe(CodecErrorCode.trailingBytes);
    const hash = record().headerHash;
    // Height 1 written as the two-byte varint 81 00.
    expect(codeOf(() => decodeAnchor(new Uint8Array([1, 0x81, 0x00, ...hash, 1, 0x30])))).toBe(
      CodecErrorCode.nonCanonical,
    );
    expect(codeOf(() => decodeAnchor(new Uint8Array([1, 0, ...hash, 1, 0x30])))).toBe(
      CodecErrorCode.invalidField,
    );
    expect(codeOf(() => decodeAnchor(new Uint8Array([1, 1, ...hash, 0])))).toBe(CodecErrorCode.invalidField);
    // A token length above the limit is refused before any token bytes are read.
    expect(codeOf(() => decodeAnchor(new Uint8Array([1, 1, ...hash, 0x81, 0x80, 0x01])))).toBe(
      CodecErrorCode.oversize,
    );
  });
});

describe('AnchorRecord with an archive timestamp (version 2)', () => {
  const archive = { from: 5, root: sha256(new Uint8Array([9])), token: new Uint8Array([0x30, 0x01, 7]) };

  it('appends varint from, 32-byte root and the length-prefixed token to a version 2 body; round-trips', () => {
    const a = record({ archive });
    const bytes = encodeAnchor(a);
    const v1 = encodeAnchor(record());
    expect(bytes[0]).toBe(2);
    expect(bytes.subarray(1, v1.length)).toEqual(v1.subarray(1));
    expect([...bytes.subarray(v1.length, v1.length + 1)]).toEqual([5]);
    expect(bytes.subarray(v1.length + 1, v1.length + 33)).toEqual(archive.root);
    expect([...bytes.subarray(v1.length + 33)]).toEqual([3, 0x30, 0x01, 7]);
    expect(decodeAnchor(bytes)).toEqual(a);
  });

  it('refuses an archive that starts at 0 or above the anchored height, a short root, an empty token', () => {
    for (const bad of [
      { ...archive, from: 0 },
      { ...archive, from: 301 },
      { ...archive, root: new Uint8Array(31) },
      { ...archive, token: new Uint8Array(0) },
    ]) {
      expect(codeOf(() => encodeAnchor(record({ archive: bad })))).toBe(CodecErrorCode.invalidField);
    }
    const bytes = encodeAnchor(record({ archive: { ...archive, from: 300 } }));
    const v1Length = encodeAnchor(record()).length;
    // from = 301 (varint ad 02) is above the anchored height 300.
    const edited = new Uint8Array([
      ...bytes.subarray(0, v1Length),
      0xad,
      0x02,
      ...bytes.subarray(v1Length + 2),
    ]);
    expect(codeOf(() => decodeAnchor(edited))).toBe(CodecErrorCode.invalidField);
  });
});

describe('AnchorRecord with a renewal (version 3)', () => {
  const archive = { from: 5, root: sha256(new Uint8Array([9])), token: new Uint8Array([0x30, 0x01, 7]) };
  const renewal = { upTo: 299, root: sha256(new Uint8Array([8])), token: new Uint8Array([0x30, 0x01, 6]) };

  it('appends an optional archive (presence byte) and the renewal to a version 3 body; round-trips', () => {
    const v1 = encodeAnchor(record());
    const alone = encodeAnchor(record({ renewal }));
    expect(alone[0]).toBe(3);
    expect(alone.subarray(1, v1.length)).toEqual(v1.subarray(1));
    // No archive (00), then upTo 299 (ab 02), the root and the token.
    expect([...alone.subarray(v1.length, v1.length + 3)]).toEqual([0, 0xab, 0x02]);
    expect(alone.subarray(v1.length + 3, v1.length + 35)).toEqual(renewal.root);
    expect([...alone.subarray(v1.length + 35)]).toEqual([3, 0x30, 0x01, 6]);
    expect(decodeAnchor(alone)).toEqual(record({ renewal }));
    const both = encodeAnchor(record({ archive, renewal }));
    expect(both[0]).toBe(3);
    expect(both[v1.length]).toBe(1);
    expect(decodeAnchor(both)).toEqual(record({ archive, renewal }));
  });

  it('refuses a renewal of archives at or above the anchored height, a short root, an empty token', () => {
    for (const bad of [
      { ...renewal, upTo: 0 },
      { ...renewal, upTo: 300 },
      { ...renewal, root: new Uint8Array(31) },
      { ...renewal, token: new Uint8Array(0) },
    ]) {
      expect(codeOf(() => encodeAnchor(record({ renewal: bad })))).toBe(CodecErrorCode.invalidField);
    }
  });
});

describe('AnchorRecord with a hash renewal (version 4)', () => {
  const archive = { from: 5, root: sha256(new Uint8Array([9])), token: new Uint8Array([0x30, 0x01, 7]) };
  const renewal = { upTo: 299, root: sha256(new Uint8Array([8])), token: new Uint8Array([0x30, 0x01, 6]) };
  const hashRenewal = {
    hashAlg: 'sha512' as const,
    requests: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)],
    root: new Uint8Array(64).fill(3),
    token: new Uint8Array([0x30, 0x01, 5]),
  };

  it('appends optional archive and renewal, then alg code, count, requests, root and token; round-trips', () => {
    const v1 = encodeAnchor(record());
    const alone = encodeAnchor(record({ hashRenewal }));
    expect(alone[0]).toBe(4);
    expect(alone.subarray(1, v1.length)).toEqual(v1.subarray(1));
    // No archive (00), no renewal (00), sha512 (03), two requests (02).
    expect([...alone.subarray(v1.length, v1.length + 4)]).toEqual([0, 0, 3, 2]);
    expect(alone.subarray(v1.length + 4, v1.length + 68)).toEqual(
      new Uint8Array([...hashRenewal.requests[0]!, ...hashRenewal.requests[1]!]),
    );
    expect(alone.subarray(v1.length + 68, v1.length + 132)).toEqual(hashRenewal.root);
    expect([...alone.subarray(v1.length + 132)]).toEqual([3, 0x30, 0x01, 5]);
    expect(decodeAnchor(alone)).toEqual(record({ hashRenewal }));
    const all = record({ archive, renewal, hashRenewal });
    expect(decodeAnchor(encodeAnchor(all))).toEqual(all);
    const sha384 = { ...hashRenewal, hashAlg: 'sha384' as const, root: new Uint8Array(48) };
    expect(decodeAnchor(encodeAnchor(record({ hashRenewal: sha384 })))).toEqual(
      record({ hashRenewal: sha384 }),
    );
  });

  it('refuses no requests, a repeated request, a root of the wrong length, sha256, an empty token', () => {
    for (const bad of [
      { ...hashRenewal, requests: [] },
      { ...hashRenewal, requests: [hashRenewal.requests[0]!, hashRenewal.requests[0]!] },
      { ...hashRenewal, requests: [new Uint8Array(31)] },
      { ...hashRenewal, root: new Uint8Array(48) },
      { ...hashRenewal, hashAlg: 'sha256' as 'sha512', root: new Uint8Array(32) },
      { ...hashRenewal, token: new Uint8Array(0) },
    ]) {
      expect(codeOf(() => encodeAnchor(record({ hashRenewal: bad })))).toBe(CodecErrorCode.invalidField);
    }
    const bytes = encodeAnchor(record({ hashRenewal }));
    const v1 = encodeAnchor(record()).length;
    const withAlg = Uint8Array.from(bytes, (b, i) => (i === v1 + 2 ? 1 : b));
    expect(codeOf(() => decodeAnchor(withAlg))).toBe(CodecErrorCode.invalidField);
    const zero = Uint8Array.from(bytes, (b, i) => (i === v1 + 3 ? 0 : b));
    expect(codeOf(() => decodeAnchor(zero))).toBe(CodecErrorCode.invalidField);
    expect(codeOf(() => decodeAnchor(Uint8Array.of(6, ...bytes.subarray(1))))).toBe(
      CodecErrorCode.unknownVersion,
    );
  });

  it('version 5 carries stamp renewals (ADR 018), with or without the other stamps, and refuses bad ones', () => {
    const stamp = (hashAlg: 'sha384' | 'sha512', upTo = 2) => ({
      hashAlg,
      upTo,
      root: new Uint8Array(hashAlg === 'sha512' ? 64 : 48).fill(3),
      token: Uint8Array.of(0x30, 4),
    });
    const hashRenewal = {
      hashAlg: 'sha512' as const,
      requests: [new Uint8Array(32).fill(9)],
      root: new Uint8Array(64).fill(5),
      token: Uint8Array.of(0x30, 6),
    };
    for (const extra of [
      { stampRenewals: [stamp('sha512')] },
      { stampRenewals: [stamp('sha384'), stamp('sha512', 1)], hashRenewal },
    ]) {
      const a = record(extra);
      const bytes = encodeAnchor(a);
      expect(bytes[0]).toBe(5);
      expect(decodeAnchor(bytes)).toEqual(a);
    }
    // Without stamp renewals, a hash renewal keeps version 4.
    expect(encodeAnchor(record({ hashRenewal }))[0]).toBe(4);
    for (const bad of [
      [],
      [stamp('sha512'), stamp('sha512')],
      [stamp('sha384'), stamp('sha512'), stamp('sha384')],
      [stamp('sha512', 0)],
      [stamp('sha512', record().height)],
      [{ ...stamp('sha512'), root: new Uint8Array(48) }],
      [{ ...stamp('sha512'), hashAlg: 'sha256' as 'sha512' }],
      [{ ...stamp('sha512'), token: new Uint8Array(0) }],
    ]) {
      expect(codeOf(() => encodeAnchor(record({ stampRenewals: bad })))).toBe(CodecErrorCode.invalidField);
    }
    // A count of 0 on the wire is refused too.
    const bytes = encodeAnchor(record({ stampRenewals: [stamp('sha512')] }));
    const v1 = encodeAnchor(record()).length;
    const zero = Uint8Array.from(bytes, (b, i) => (i === v1 + 3 ? 0 : b));
    expect(codeOf(() => decodeAnchor(zero))).toBe(CodecErrorCode.invalidField);
  });
});

describe('anchor txs', () => {
  it('carry wire code 2, the validator key id, and decode back', () => {
    expect(TxTypes.anchor).toBe(2);
    const env = anchorTx(record());
    const typeOffset = 1 + 1 + 'jrchain-test'.length;
    expect(env.bytes[typeOffset]).toBe(2);
    const tx = decodeTx(env.bytes);
    expect(tx.type).toBe('anchor');
    expect(tx.keyId).toBe(VALIDATOR_KEY_ID);
    expect(decodeAnchor(tx.payload)).toEqual(record());
    expect(encodeTx(tx)).toEqual(env.bytes);
  });
});
