/**
 * Small byte helpers used everywhere. Hex is lower-case, with no prefix. Plain JavaScript, so that the receipt
 * verifier runs in browsers too (docs/adr/013-browser-verifier.md); only `toHex` takes Node's Buffer when there
 * is one, being on hot paths (key caches) where Buffer's native hex is about twice as fast.
 */

const HEX_RE = /^(?:[0-9a-f]{2})*$/;
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

type HexBuffer = {
  from(b: ArrayBufferLike, offset: number, length: number): { toString(enc: 'hex'): string };
};
const nodeBuffer = (globalThis as { Buffer?: HexBuffer }).Buffer;

export function toHex(bytes: Uint8Array): string {
  if (nodeBuffer !== undefined)
    return nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTE[bytes[i]!];
  return out;
}

/** Parses lower- or upper-case hex; returns undefined for anything else (odd length, stray characters). */
export function tryFromHex(hex: string): Uint8Array | undefined {
  const lower = hex.toLowerCase();
  if (!HEX_RE.test(lower)) return undefined;
  const out = new Uint8Array(lower.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(lower.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Standard padded base64 (RFC 4648 section 4). */
export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** Decodes standard base64 leniently (as `atob` does); callers that need one spelling re-encode and compare. */
export function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The UTF-8 length of a string in bytes. */
export function utf8Length(s: string): number {
  return utf8.encode(s).length;
}

export function fromHex(hex: string): Uint8Array {
  const out = tryFromHex(hex);
  if (out === undefined) throw new TypeError(`invalid hex string (${hex.length} chars)`);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic comparison, for sorting keys and canonical ordering. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export const utf8 = new TextEncoder();
