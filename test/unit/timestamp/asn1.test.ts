import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import {
  childrenOf,
  DerReader,
  decodeDer,
  der,
  readBitString,
  readGeneralizedTime,
  readInteger,
  readOid,
  readX509Time,
  setBits,
  Tag,
} from '../../../src/timestamp/asn1.ts';
import { isTimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));

function unparsable(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isTimestampError(err, TimestampErrorCode.unparsable)) return err.message;
    throw err;
  }
  throw new Error('expected TSA_UNPARSABLE');
}

describe('DER reader', () => {
  it('decodes nested elements and keeps their exact bytes', () => {
    const bytes = hex('3006 0201 05 0401 ff');
    const el = decodeDer(bytes, 'x');
    const [i, o] = childrenOf(el, 'x');
    expect(el.tag).toBe(Tag.sequence);
    expect(toHex(i!.raw)).toBe('020105');
    expect(toHex(o!.value)).toBe('ff');
  });

  it('rejects framing that DER forbids', () => {
    expect(unparsable(() => decodeDer(hex('0201 05 00'), 'x'))).toMatch(/1 trailing bytes/);
    expect(unparsable(() => decodeDer(hex('3080 0000'), 'x'))).toMatch(/indefinite/);
    expect(unparsable(() => decodeDer(hex('0281 01 05'), 'x'))).toMatch(/non-minimal length/);
    expect(unparsable(() => decodeDer(hex('0282 0001 05'), 'x'))).toMatch(/non-minimal length/);
    expect(unparsable(() => decodeDer(hex('1f22 00'), 'x'))).toMatch(/high tag/);
    expect(unparsable(() => decodeDer(hex('0405 0102'), 'x'))).toMatch(/truncated/);
    expect(unparsable(() => decodeDer(new Uint8Array(), 'x'))).toMatch(/end of data/);
  });

  it('reads sequences field by field and insists on the end', () => {
    const r = DerReader.of(hex('3006 0201 01 0101 ff'), Tag.sequence, 'S');
    expect(readInteger(r.next(Tag.integer, 'a'), 'a')).toBe(1n);
    expect(r.optional(Tag.octetString)).toBeUndefined();
    expect(unparsable(() => r.end())).toMatch(/1 unexpected trailing fields/);
  });
});

describe('values', () => {
  it('round-trips integers, including sign and leading 0x00', () => {
    for (const n of [0n, 1n, 127n, 128n, 255n, 256n, -1n, -128n, -129n, 2n ** 64n + 5n, (1n << 159n) - 1n]) {
      expect(readInteger(decodeDer(der.int(n), 'i'), 'i')).toBe(n);
    }
    expect(toHex(der.int(128n))).toBe('02020080');
    expect(toHex(der.int(-128n))).toBe('020180');
    // A non-minimal encoding still reads as its value: nonces are compared as integers.
    expect(readInteger(decodeDer(hex('0203 000005'), 'i'), 'i')).toBe(5n);
  });

  it('round-trips OIDs, including 128-bit UUID arcs', () => {
    for (const oid of [
      '1.2.840.113549.1.9.16.1.4',
      '2.25.210985531576079130303232306084309875522',
      '0.9.2342',
      '2.999.1',
    ]) {
      expect(readOid(decodeDer(der.oid(oid), 'o'), 'o')).toBe(oid);
    }
    expect(toHex(der.oid('2.16.840.1.101.3.4.2.1'))).toBe('0609608648016503040201');
    expect(unparsable(() => readOid(decodeDer(hex('0602 8001'), 'o'), 'o'))).toMatch(/non-minimal/);
  });

  it('encodes GeneralizedTime with milliseconds and no trailing zeros', () => {
    const text = (ms: number) => new TextDecoder().decode(decodeDer(der.genTime(new Date(ms)), 't').value);
    expect(text(Date.UTC(2026, 0, 2, 3, 4, 5, 120))).toBe('20260102030405.12Z');
    expect(text(Date.UTC(2026, 0, 2, 3, 4, 5, 7))).toBe('20260102030405.007Z');
    expect(text(Date.UTC(2026, 0, 2, 3, 4, 5, 0))).toBe('20260102030405Z');
  });

  it('reads GeneralizedTime to the millisecond and refuses non-UTC or impossible times', () => {
    const read = (s: string) =>
      readGeneralizedTime(
        { tag: Tag.generalizedTime, raw: new Uint8Array(), value: new TextEncoder().encode(s) },
        't',
      );
    expect(read('20260102030405.123456Z').date.toISOString()).toBe('2026-01-02T03:04:05.123Z');
    expect(read('20260102030405.5Z').date.getUTCMilliseconds()).toBe(500);
    expect(read('20260102030405.123456Z').text).toBe('20260102030405.123456Z');
    expect(unparsable(() => read('20260102030405+0100'))).toMatch(/not a UTC GeneralizedTime/);
    expect(unparsable(() => read('20260231000000Z'))).toMatch(/impossible date/);
  });

  it('reads X.509 UTCTime with the 1950-2049 window', () => {
    const utc = (s: string) =>
      readX509Time({ tag: Tag.utcTime, raw: new Uint8Array(), value: new TextEncoder().encode(s) }, 't');
    expect(utc('491231235959Z').getUTCFullYear()).toBe(2049);
    expect(utc('500101000000Z').getUTCFullYear()).toBe(1950);
    expect(
      readX509Time(decodeDer(der.x509Time(new Date(Date.UTC(2060, 0, 1))), 't'), 't').getUTCFullYear(),
    ).toBe(2060);
  });

  it('encodes named bit strings minimally and reads the bits back', () => {
    expect(toHex(der.namedBits([0]))).toBe('03020780'); // badAlg
    expect(toHex(der.namedBits([5]))).toBe('03020204'); // badDataFormat
    expect(toHex(der.namedBits([15]))).toBe('0303000001'); // unacceptedPolicy
    expect(setBits(readBitString(decodeDer(der.namedBits([2, 17, 25]), 'b'), 'b'))).toEqual([2, 17, 25]);
  });

  it('sorts SET OF elements by their encoding', () => {
    expect(toHex(der.setOf([der.int(2n), der.int(1n)]))).toBe('3106020101020102');
  });
});
