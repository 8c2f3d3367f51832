/**
 * A receipt's fingerprint (docs/receipts.md "Fingerprint"): SHA-256 of its canonical JSON, RFC 8785 (JCS):
 * object members sorted by their names' UTF-16 code units, no whitespace, strings and numbers as ECMAScript's
 * JSON.stringify writes them (receipts hold only strings, safe integers, booleans and null). Pretty-printing
 * or reordering a receipt file keeps its fingerprint; changing any value changes it.
 */
import { toHex, utf8 } from '../core/bytes.ts';
import { sha256 } from '../core/crypto.ts';

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const members = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`);
    return `{${members.join(',')}}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) throw new TypeError('JSON has no non-finite numbers');
  return JSON.stringify(v) ?? 'null';
}

/** Lower-case hex SHA-256 of the receipt's canonical JSON. */
export function receiptFingerprint(doc: unknown): string {
  return toHex(sha256(utf8.encode(canonicalJson(doc))));
}
