import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type CodecError, CodecErrorCode, decodeExact, Reader, Writer } from '../../../src/core/codec.ts';
import { codeOf } from '../../helpers/errors.ts';

describe('varint', () => {
  it('round-trips every safe integer and has one encoding', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        const bytes = new Writer().varint(n).finish();
        expect(decodeExact(bytes, 16, 'v', (r) => r.varint())).toBe(n);
      }),
    );
  });

  it('encodes boundaries minimally', () => {
    expect(new Writer().varint(0).finish()).toEqual(new Uint8Array([0]));
    expect(new Writer().varint(127).finish()).toEqual(new Uint8Array([0x7f]));
    expect(new Writer().varint(128).finish()).toEqual(new Uint8Array([0x80, 0x01]));
    expect(new Writer().varint(Number.MAX_SAFE_INTEGER).finish().length).toBe(8);
  });

  it('rejects non-minimal forms', () => {
    expect(codeOf(() => new Reader(new Uint8Array([0x80, 0x00])).varint())).toBe(CodecErrorCode.nonCanonical);
    expect(codeOf(() => new Reader(new Uint8Array([0xff, 0x80, 0x00])).varint())).toBe(
      CodecErrorCode.nonCanonical,
    );
  });

  it('rejects values above 2^53-1 and overlong encodings', () => {
    const tooBig = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(codeOf(() => new Reader(tooBig).varint())).toBe(CodecErrorCode.nonCanonical);
    const nineBytes = new Uint8Array([0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01]);
    expect(codeOf(() => new Reader(nineBytes).varint())).toBe(CodecErrorCode.nonCanonical);
  });

  it('rejects truncation', () => {
    expect(codeOf(() => new Reader(new Uint8Array([0x80])).varint())).toBe(CodecErrorCode.truncated);
  });

  it('refuses to write negative, fractional or unsafe values', () => {
    expect(() => new Writer().varint(-1)).toThrow(RangeError);
    expect(() => new Writer().varint(1.5)).toThrow(RangeError);
    expect(() => new Writer().varint(2 ** 53)).toThrow(RangeError);
  });
});

describe('strings, bytes, options', () => {
  it('round-trips well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 50 }), (s) => {
        const bytes = new Writer().string(s).finish();
        expect(decodeExact(bytes, 1024, 's', (r) => r.string(512))).toBe(s);
      }),
    );
  });

  it('rejects invalid UTF-8', () => {
    const bytes = new Uint8Array([2, 0xc3, 0x28]);
    expect(codeOf(() => decodeExact(bytes, 16, 's', (r) => r.string(16)))).toBe(CodecErrorCode.invalidUtf8);
  });

  it('refuses to write lone surrogates', () => {
    expect(() => new Writer().string('\ud800')).toThrow(RangeError);
  });

  it('rejects byte strings over their limit before reading them', () => {
    const bytes = new Writer().bytes(new Uint8Array(10)).finish();
    const err = (() => {
      try {
        decodeExact(bytes, 64, 'b', (r) => r.bytes(9));
      } catch (e) {
        return e as CodecError;
      }
    })();
    expect(err?.code).toBe(CodecErrorCode.oversize);
    expect(err?.details).toMatchObject({ length: 10, limit: 9 });
  });

  it('rejects presence and boolean bytes other than 0 and 1', () => {
    expect(codeOf(() => new Reader(new Uint8Array([2])).bool())).toBe(CodecErrorCode.nonCanonical);
    expect(codeOf(() => new Reader(new Uint8Array([2, 0])).optional((r) => r.u8()))).toBe(
      CodecErrorCode.nonCanonical,
    );
  });

  it('rejects trailing bytes and oversize input', () => {
    expect(codeOf(() => decodeExact(new Uint8Array([1, 2]), 16, 'x', (r) => r.u8()))).toBe(
      CodecErrorCode.trailingBytes,
    );
    expect(codeOf(() => decodeExact(new Uint8Array(17), 16, 'x', (r) => r.u8()))).toBe(
      CodecErrorCode.oversize,
    );
  });

  it('round-trips fixed-width integers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xff }), (a, b) => {
        const bytes = new Writer().u16(a).u8(b).finish();
        expect(decodeExact(bytes, 3, 'x', (r) => [r.u16(), r.u8()])).toEqual([a, b]);
      }),
    );
  });
});

describe('Writer working space', () => {
  const encode = (W: typeof Writer) =>
    new W(4).u8(7).u16(515).varint(300).bytes(new Uint8Array(100).fill(9)).string('é').finish();

  it('finish() returns a plain Uint8Array of exactly the bytes written, not a view of a shared pool', () => {
    const a = encode(Writer);
    const b = encode(Writer);
    expect(a.constructor).toBe(Uint8Array);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(a.length);
    a.fill(0);
    expect(b[0]).toBe(7);
  });

  it('encodes the same bytes without Node’s Buffer (the verifier runs in browsers, ADR 013)', async () => {
    const want = encode(Writer);
    vi.resetModules();
    vi.stubGlobal('Buffer', undefined);
    try {
      const { Writer: BrowserWriter } = await import('../../../src/core/codec.ts');
      expect(encode(BrowserWriter)).toEqual(want);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('Writer working space reuse', () => {
  it('gives each finished encoding bytes of its own, across nested and later Writers', () => {
    const outer = new Writer().u8(1);
    const inner = new Writer().fixed(new Uint8Array(40).fill(7), 40).finish();
    const a = outer.bytes(inner).finish();
    // The next Writers take the spaces back and overwrite them: the earlier outputs must not change.
    const b = new Writer().fixed(new Uint8Array(300).fill(9), 300).finish();
    const c = new Writer().fixed(new Uint8Array(41).fill(5), 41).finish();
    expect(inner).toEqual(new Uint8Array(40).fill(7));
    expect(a).toEqual(new Uint8Array([1, 40, ...new Uint8Array(40).fill(7)]));
    expect(b).toEqual(new Uint8Array(300).fill(9));
    expect(c).toEqual(new Uint8Array(41).fill(5));
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(a.length);
  });

  it('refuses a Writer used or finished again after finish()', () => {
    const w = new Writer().u8(1);
    w.finish();
    expect(() => w.u8(2)).toThrow(/after finish/);
    expect(() => w.finish()).toThrow(/finished twice/);
    // Its old space went to the next Writer, which is unaffected.
    expect(new Writer().u8(3).finish()).toEqual(new Uint8Array([3]));
  });
});

describe('Writer.string', () => {
  it('encodes a repeated string the same each time and still refuses ill-formed ones', () => {
    const id = `jrchain-test@${'ab'.repeat(32)}/3`;
    const once = new Writer().string(id).finish();
    const again = new Writer().string(id).finish();
    expect(again).toEqual(once);
    expect(decodeExact(again, 1024, 's', (r) => r.string(256))).toBe(id);
    expect(() => new Writer().string('\ud800')).toThrow(RangeError);
    expect(() => new Writer().string('\ud800')).toThrow(RangeError);
  });
});
