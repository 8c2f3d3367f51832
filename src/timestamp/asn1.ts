/**
 * A small, strict DER reader and writer. Verification needs exact bytes (signed attributes, eContent,
 * certificates), so every decoded element keeps the slice it came from. The reader rejects what DER forbids
 * in framing: indefinite or non-minimal lengths, high tag numbers, and trailing bytes. See ADR 005.
 */
import { compareBytes, concatBytes } from '../core/bytes.ts';
import { TimestampError, TimestampErrorCode } from './errors.ts';

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Tag byte of a context-specific [n] element; constructed for EXPLICIT tags and implicit SEQUENCE/SET. */
export function ctx(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

export interface Element {
  tag: number;
  /** The whole TLV. */
  raw: Uint8Array;
  /** The contents octets. */
  value: Uint8Array;
}

export function derError(message: string): TimestampError {
  return new TimestampError(TimestampErrorCode.unparsable, message);
}

function readElement(buf: Uint8Array, offset: number, what: string): Element {
  const tag = buf[offset];
  if (tag === undefined) throw derError(`${what}: unexpected end of data`);
  if ((tag & 0x1f) === 0x1f) throw derError(`${what}: high tag numbers are not used here`);
  const first = buf[offset + 1];
  if (first === undefined) throw derError(`${what}: missing length`);
  let length: number;
  let header = 2;
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw derError(`${what}: indefinite length is not DER`);
    if (n > 4) throw derError(`${what}: length too large`);
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = buf[offset + 2 + i];
      if (b === undefined) throw derError(`${what}: truncated length`);
      if (i === 0 && b === 0) throw derError(`${what}: non-minimal length`);
      length = length * 256 + b;
    }
    if (length < 0x80) throw derError(`${what}: non-minimal length`);
    header += n;
  }
  const end = offset + header + length;
  if (end > buf.length) throw derError(`${what}: truncated (needs ${end - buf.length} more bytes)`);
  return { tag, raw: buf.subarray(offset, end), value: buf.subarray(offset + header, end) };
}

/** Decodes exactly one element that spans all of `buf`. */
export function decodeDer(buf: Uint8Array, what: string): Element {
  const el = readElement(buf, 0, what);
  if (el.raw.length !== buf.length) throw derError(`${what}: ${buf.length - el.raw.length} trailing bytes`);
  return el;
}

export function isConstructed(el: Element): boolean {
  return (el.tag & 0x20) !== 0;
}

/** Children of a constructed element, which must fill it exactly. */
export function childrenOf(el: Element, what: string): Element[] {
  if (!isConstructed(el)) throw derError(`${what}: expected a constructed element`);
  const out: Element[] = [];
  let off = 0;
  while (off < el.value.length) {
    const child = readElement(el.value, off, what);
    out.push(child);
    off += child.raw.length;
  }
  return out;
}

export function expectTag(el: Element, tag: number, what: string): Element {
  if (el.tag !== tag) {
    throw derError(`${what}: expected tag 0x${hex2(tag)}, found 0x${hex2(el.tag)}`);
  }
  return el;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Walks the children of a SEQUENCE (or any constructed element) in order. */
export class DerReader {
  readonly #items: Element[];
  readonly #what: string;
  #pos = 0;

  constructor(el: Element, what: string) {
    this.#items = childrenOf(el, what);
    this.#what = what;
  }

  static of(buf: Uint8Array, tag: number, what: string): DerReader {
    return new DerReader(expectTag(decodeDer(buf, what), tag, what), what);
  }

  peekTag(): number | undefined {
    return this.#items[this.#pos]?.tag;
  }

  next(tag: number, field: string): Element {
    const el = this.#items[this.#pos];
    if (el === undefined) throw derError(`${this.#what}: missing ${field}`);
    this.#pos++;
    return expectTag(el, tag, `${this.#what}.${field}`);
  }

  /** Any element, whatever its tag (for ANY and CHOICE fields). */
  nextAny(field: string): Element {
    const el = this.#items[this.#pos];
    if (el === undefined) throw derError(`${this.#what}: missing ${field}`);
    this.#pos++;
    return el;
  }

  optional(tag: number): Element | undefined {
    if (this.peekTag() !== tag) return undefined;
    return this.#items[this.#pos++];
  }

  end(): void {
    if (this.#pos !== this.#items.length) {
      throw derError(`${this.#what}: ${this.#items.length - this.#pos} unexpected trailing fields`);
    }
  }
}

// ---- value decoders ----

/** Two's-complement INTEGER. Non-minimal encodings are tolerated: we compare values, never bytes. */
export function readInteger(el: Element, what: string): bigint {
  expectTag(el, Tag.integer, what);
  if (el.value.length === 0) throw derError(`${what}: empty INTEGER`);
  let n = 0n;
  for (const b of el.value) n = (n << 8n) | BigInt(b);
  if ((el.value[0]! & 0x80) !== 0) n -= 1n << BigInt(el.value.length * 8);
  return n;
}

export function readSmallInt(el: Element, what: string, min: number, max: number): number {
  const n = readInteger(el, what);
  if (n < BigInt(min) || n > BigInt(max)) throw derError(`${what}: ${n} is outside ${min}..${max}`);
  return Number(n);
}

export function readOid(el: Element, what: string): string {
  expectTag(el, Tag.oid, what);
  const v = el.value;
  if (v.length === 0) throw derError(`${what}: empty OBJECT IDENTIFIER`);
  const arcs: bigint[] = [];
  let cur = 0n;
  let started = false;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (!started && b === 0x80) throw derError(`${what}: non-minimal OID arc`);
    started = true;
    cur = (cur << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(cur);
      cur = 0n;
      started = false;
    } else if (i === v.length - 1) {
      throw derError(`${what}: truncated OID`);
    }
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

export function readBoolean(el: Element, what: string): boolean {
  expectTag(el, Tag.boolean, what);
  if (el.value.length !== 1 || (el.value[0] !== 0 && el.value[0] !== 0xff)) {
    throw derError(`${what}: BOOLEAN must be 0x00 or 0xFF`);
  }
  return el.value[0] === 0xff;
}

export function readOctets(el: Element, what: string): Uint8Array {
  return expectTag(el, Tag.octetString, what).value;
}

/** BIT STRING contents without the unused-bits byte; bit 0 is the most significant bit of byte 0. */
export function readBitString(el: Element, what: string): { bytes: Uint8Array; unusedBits: number } {
  expectTag(el, Tag.bitString, what);
  const unusedBits = el.value[0];
  if (unusedBits === undefined || unusedBits > 7) throw derError(`${what}: bad BIT STRING`);
  if (el.value.length === 1 && unusedBits !== 0) throw derError(`${what}: bad empty BIT STRING`);
  return { bytes: el.value.subarray(1), unusedBits };
}

/** Positions (0 = first) of the bits set in a named-bit BIT STRING. */
export function setBits(bits: { bytes: Uint8Array }): number[] {
  const out: number[] = [];
  bits.bytes.forEach((byte, i) => {
    for (let b = 0; b < 8; b++) if (byte & (0x80 >> b)) out.push(i * 8 + b);
  });
  return out;
}

const GEN_TIME_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/;
const UTC_TIME_RE = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

function utcDate(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
  what: string,
) {
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  // Date.UTC rolls 31 Feb into March; a round trip catches impossible dates.
  if (
    date.getUTCFullYear() !== y ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    date.getUTCHours() !== h ||
    date.getUTCMinutes() !== mi ||
    date.getUTCSeconds() !== s
  ) {
    throw derError(`${what}: impossible date`);
  }
  return date;
}

/**
 * GeneralizedTime in UTC ("Z"), optionally with a fraction of a second, as RFC 3161 requires. The Date keeps
 * millisecond precision (finer digits are truncated); `text` is the exact encoded string.
 */
export function readGeneralizedTime(el: Element, what: string): { date: Date; text: string } {
  expectTag(el, Tag.generalizedTime, what);
  const text = new TextDecoder('latin1').decode(el.value);
  const m = GEN_TIME_RE.exec(text);
  if (!m) throw derError(`${what}: ${JSON.stringify(text)} is not a UTC GeneralizedTime`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));
  return { date: utcDate(+y!, +mo!, +d!, +h!, +mi!, +s!, ms, what), text };
}

/** X.509 Time: UTCTime (years 1950-2049) or GeneralizedTime, whole seconds (RFC 5280 4.1.2.5). */
export function readX509Time(el: Element, what: string): Date {
  if (el.tag === Tag.generalizedTime) return readGeneralizedTime(el, what).date;
  expectTag(el, Tag.utcTime, what);
  const text = new TextDecoder('latin1').decode(el.value);
  const m = UTC_TIME_RE.exec(text);
  if (!m) throw derError(`${what}: ${JSON.stringify(text)} is not a UTCTime`);
  const [, yy, mo, d, h, mi, s] = m;
  const year = +yy! >= 50 ? 1900 + +yy! : 2000 + +yy!;
  return utcDate(year, +mo!, +d!, +h!, +mi!, +s!, 0, what);
}

/** Directory string types found in names and PKIFreeText. */
export function readString(el: Element, what: string): string {
  switch (el.tag) {
    case Tag.utf8String:
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(el.value);
      } catch {
        throw derError(`${what}: UTF8String is not valid UTF-8`);
      }
    case Tag.printableString:
    case Tag.ia5String:
    case Tag.teletexString:
      return new TextDecoder('latin1').decode(el.value);
    case Tag.bmpString:
      return new TextDecoder('utf-16be').decode(el.value);
    case Tag.universalString: {
      let s = '';
      for (let i = 0; i + 3 < el.value.length; i += 4) {
        const v = el.value;
        const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
        if (cp > 0x10ffff) throw derError(`${what}: UniversalString holds ${cp}, beyond Unicode`);
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      throw derError(`${what}: unsupported string type 0x${hex2(el.tag)}`);
  }
}

// ---- writer ----

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function tlv(tag: number, contents: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), encodeLength(contents.length), contents);
}

export const der = {
  seq: (...items: Uint8Array[]) => tlv(Tag.sequence, concatBytes(...items)),
  /** SET OF: DER sorts the encoded elements. */
  setOf: (items: readonly Uint8Array[]) => tlv(Tag.set, concatBytes(...[...items].sort(compareBytes))),
  /** [n] EXPLICIT wrapper. */
  explicit: (n: number, inner: Uint8Array) => tlv(ctx(n, true), inner),
  /** [n] IMPLICIT: re-tag an encoded element, keeping its contents and its constructed bit. */
  implicit: (n: number, encoded: Uint8Array) => {
    const el = decodeDer(encoded, 'implicit');
    return tlv(ctx(n, isConstructed(el)), el.value);
  },
  int: (n: bigint) => tlv(Tag.integer, intContents(n)),
  bool: (b: boolean) => tlv(Tag.boolean, Uint8Array.of(b ? 0xff : 0)),
  null: () => Uint8Array.of(Tag.null, 0),
  octets: (b: Uint8Array) => tlv(Tag.octetString, b),
  utf8: (s: string) => tlv(Tag.utf8String, new TextEncoder().encode(s)),
  printable: (s: string) => tlv(Tag.printableString, new TextEncoder().encode(s)),
  oid: (dotted: string) => tlv(Tag.oid, oidContents(dotted)),
  bitString: (bytes: Uint8Array, unusedBits = 0) =>
    tlv(Tag.bitString, concatBytes(Uint8Array.of(unusedBits), bytes)),
  /** Named-bit BIT STRING with the given bit positions set, trailing zero bits removed (X.690 11.2.2). */
  namedBits: (positions: readonly number[]) => {
    if (positions.length === 0) return tlv(Tag.bitString, Uint8Array.of(0));
    const max = Math.max(...positions);
    const bytes = new Uint8Array(Math.floor(max / 8) + 1);
    for (const p of positions) bytes[p >> 3]! |= 0x80 >> (p & 7);
    return tlv(Tag.bitString, concatBytes(Uint8Array.of(7 - (max & 7)), bytes));
  },
  /** GeneralizedTime in UTC with millisecond precision; DER drops trailing zeros of the fraction. */
  genTime: (d: Date) => {
    const p = (n: number, w: number) => String(n).padStart(w, '0');
    const base =
      p(d.getUTCFullYear(), 4) +
      p(d.getUTCMonth() + 1, 2) +
      p(d.getUTCDate(), 2) +
      p(d.getUTCHours(), 2) +
      p(d.getUTCMinutes(), 2) +
      p(d.getUTCSeconds(), 2);
    const ms = d.getUTCMilliseconds();
    const frac = ms === 0 ? '' : `.${p(ms, 3).replace(/0+$/, '')}`;
    return tlv(Tag.generalizedTime, new TextEncoder().encode(`${base}${frac}Z`));
  },
  /** UTCTime for years 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5), whole seconds. */
  x509Time: (d: Date) => {
    const y = d.getUTCFullYear();
    if (y < 1950 || y > 2049) return der.genTime(new Date(Math.floor(d.getTime() / 1000) * 1000));
    const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
    const s = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16);
    return tlv(Tag.utcTime, new TextEncoder().encode(`${s}${iso.slice(17, 19)}Z`));
  },
};

/** Minimal two's-complement contents of an INTEGER. */
export function intContents(n: bigint): Uint8Array {
  const bytes: number[] = [];
  let v = n;
  for (;;) {
    const b = Number(v & 0xffn);
    bytes.unshift(b);
    v >>= 8n;
    if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(bytes);
}

/** Unsigned big-endian bytes to a non-negative bigint. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function oidContents(dotted: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(dotted)) throw new TypeError(`bad OID ${dotted}`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const [a0, a1, ...rest] = arcs as [bigint, bigint, ...bigint[]];
  if (a0 < 2n && a1 >= 40n) throw new TypeError(`bad OID ${dotted}`);
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...rest]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return Uint8Array.from(out);
}

/** Upper-case hex of a non-negative integer, as OpenSSL prints serials and nonces. */
export function bigHex(n: bigint): string {
  const h = n.toString(16).toUpperCase();
  return h.length % 2 === 0 ? h : `0${h}`;
}
