/** Small byte helpers used everywhere. Hex is lower-case, with no prefix. */

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Parses lower- or upper-case hex; returns undefined for anything else (odd length, stray characters). */
export function tryFromHex(hex: string): Uint8Array | undefined {
  const lower = hex.toLowerCase();
  if (!HEX_RE.test(lower)) return undefined;
  return new Uint8Array(Buffer.from(lower, 'hex'));
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
