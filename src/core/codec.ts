/**
 * The one canonical binary encoding for everything that is hashed or signed.
 *
 * Rules (docs/protocol.md, "Encoding"):
 * - integers: unsigned LEB128 varints, minimal form, at most 2^53-1; fixed-width fields are big-endian;
 * - byte strings and UTF-8 strings: varint length, then the bytes; strings must be well-formed Unicode;
 * - optional fields: a presence byte, 0x00 or 0x01, then the value;
 * - booleans: 0x00 or 0x01;
 * - every record starts with a version byte, and decoding rejects trailing bytes.
 * Every decoded value has exactly one encoding, so `encode(decode(b))` equals `b` for all accepted `b`.
 */
import { ExitCode, exitCodes, JrError } from './errors.ts';

export const CodecErrorCode = {
  truncated: 'CODEC_TRUNCATED',
  trailingBytes: 'CODEC_TRAILING_BYTES',
  nonCanonical: 'CODEC_NON_CANONICAL',
  unknownVersion: 'CODEC_UNKNOWN_VERSION',
  unknownType: 'CODEC_UNKNOWN_TYPE',
  oversize: 'CODEC_OVERSIZE',
  invalidUtf8: 'CODEC_INVALID_UTF8',
  invalidField: 'CODEC_INVALID_FIELD',
} as const;
export type CodecErrorCode = (typeof CodecErrorCode)[keyof typeof CodecErrorCode];
/** Bytes that do not decode came from an input: a file, or a node's answer to the CLI about one. */
export const CodecErrorExit = exitCodes(CodecErrorCode, {
  truncated: ExitCode.badInput,
  trailingBytes: ExitCode.badInput,
  nonCanonical: ExitCode.badInput,
  unknownVersion: ExitCode.badInput,
  unknownType: ExitCode.badInput,
  oversize: ExitCode.badInput,
  invalidUtf8: ExitCode.badInput,
  invalidField: ExitCode.badInput,
});

export class CodecError extends JrError {
  declare readonly code: CodecErrorCode;
  constructor(code: CodecErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * A Writer's working space: finish() copies out what was written and nothing beyond it is ever read, so in Node
 * it comes uninitialised from Buffer's preallocated pool instead of as a fresh zero-filled ArrayBuffer per
 * encoding (most of a message's encoding cost). The verifier runs in browsers too (ADR 013): there, a plain one.
 */
const nodeBuffer = (globalThis as { Buffer?: { allocUnsafe?: (size: number) => Uint8Array } }).Buffer;
const scratch = (size: number): Uint8Array =>
  typeof nodeBuffer?.allocUnsafe === 'function' ? nodeBuffer.allocUnsafe(size) : new Uint8Array(size);

export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = scratch(initialCapacity);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = scratch(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`u8 out of range: ${v}`);
    this.reserve(1);
    this.buf[this.len++] = v;
    return this;
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`u16 out of range: ${v}`);
    this.reserve(2);
    this.buf[this.len++] = v >>> 8;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    this.reserve(8);
    let rest = v;
    while (rest >= 0x80) {
      this.buf[this.len++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buf[this.len++] = rest;
    return this;
  }

  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }

  /** Raw bytes of a length fixed by the schema (hashes, keys, signatures). */
  fixed(b: Uint8Array, expectedLength: number): this {
    if (b.length !== expectedLength)
      throw new RangeError(`expected ${expectedLength} bytes, got ${b.length}`);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): this {
    this.varint(b.length);
    return this.fixed(b, b.length);
  }

  string(s: string): this {
    if (!s.isWellFormed()) throw new RangeError('string is not well-formed Unicode');
    return this.bytes(encoder.encode(s));
  }

  optional<T>(v: T | undefined, write: (w: this, v: T) => void): this {
    if (v === undefined) return this.u8(0);
    this.u8(1);
    write(this, v);
    return this;
  }

  finish(): Uint8Array {
    // A plain Uint8Array of its own (not a view of the shared pool).
    return new Uint8Array(this.buf.subarray(0, this.len));
  }
}

export class Reader {
  private off = 0;
  private readonly buf: Uint8Array;

  constructor(buf: Uint8Array, maxLength = Number.POSITIVE_INFINITY, what = 'input') {
    if (buf.length > maxLength) {
      throw new CodecError(CodecErrorCode.oversize, `${what} is ${buf.length} bytes, limit ${maxLength}`, {
        length: buf.length,
        limit: maxLength,
      });
    }
    this.buf = buf;
  }

  get remaining(): number {
    return this.buf.length - this.off;
  }

  private need(n: number, what: string): void {
    if (this.remaining < n) {
      throw new CodecError(CodecErrorCode.truncated, `truncated input reading ${what}`, { offset: this.off });
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.off++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = (this.buf[this.off]! << 8) | this.buf[this.off + 1]!;
    this.off += 2;
    return v;
  }

  varint(what = 'varint'): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i >= 8) throw new CodecError(CodecErrorCode.nonCanonical, `${what}: varint longer than 8 bytes`);
      const b = this.u8(what);
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0)
          throw new CodecError(CodecErrorCode.nonCanonical, `${what}: non-minimal varint`);
        break;
      }
      scale *= 0x80;
    }
    if (!Number.isSafeInteger(result)) {
      throw new CodecError(CodecErrorCode.nonCanonical, `${what}: varint exceeds 2^53-1`);
    }
    return result;
  }

  /** A varint that must lie in [min, max]. */
  varintIn(min: number, max: number, what: string): number {
    const v = this.varint(what);
    if (v < min || v > max) {
      throw new CodecError(CodecErrorCode.invalidField, `${what} ${v} outside [${min}, ${max}]`);
    }
    return v;
  }

  bool(what = 'bool'): boolean {
    const b = this.u8(what);
    if (b > 1) throw new CodecError(CodecErrorCode.nonCanonical, `${what}: boolean byte ${b}`);
    return b === 1;
  }

  fixed(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }

  bytes(maxLength: number, what = 'bytes'): Uint8Array {
    const n = this.varint(`${what} length`);
    if (n > maxLength) {
      throw new CodecError(CodecErrorCode.oversize, `${what} is ${n} bytes, limit ${maxLength}`, {
        length: n,
        limit: maxLength,
      });
    }
    return this.fixed(n, what);
  }

  string(maxBytes: number, what = 'string'): string {
    const b = this.bytes(maxBytes, what);
    try {
      return strictUtf8.decode(b);
    } catch {
      throw new CodecError(CodecErrorCode.invalidUtf8, `${what} is not valid UTF-8`);
    }
  }

  optional<T>(read: (r: this) => T, what = 'optional'): T | undefined {
    return this.bool(`${what} presence`) ? read(this) : undefined;
  }

  /** Rejects trailing bytes: every accepted input has exactly one encoding. */
  end(what = 'input'): void {
    if (this.remaining !== 0) {
      throw new CodecError(CodecErrorCode.trailingBytes, `${this.remaining} trailing bytes after ${what}`);
    }
  }
}

/** Reads a version byte and rejects any version other than the supported one. */
export function expectVersion(r: Reader, supported: number, what: string): void {
  const v = r.u8(`${what} version`);
  if (v !== supported) {
    throw new CodecError(CodecErrorCode.unknownVersion, `unknown ${what} version ${v}`, { version: v });
  }
}

/** Decodes a whole buffer with `read`, enforcing the size limit and the absence of trailing bytes. */
export function decodeExact<T>(
  bytes: Uint8Array,
  maxLength: number,
  what: string,
  read: (r: Reader) => T,
): T {
  const r = new Reader(bytes, maxLength, what);
  const v = read(r);
  r.end(what);
  return v;
}

export function invalidField(message: string, details?: Record<string, unknown>): CodecError {
  return new CodecError(CodecErrorCode.invalidField, message, details);
}
