/**
 * A structural check of a PEM certificate, in plain JavaScript so that genesis parsing also runs in a browser
 * (ADR 013): one base64 body whose DER is a SEQUENCE of exactly tbsCertificate (SEQUENCE), signatureAlgorithm
 * (SEQUENCE) and signatureValue (BIT STRING), each length exact. The RFC 3161 verifier parses the certificate
 * fully (src/timestamp/x509.ts) when it uses it.
 */
import { fromBase64 } from './bytes.ts';

const BODY = /^-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----\s*$/;

/** [tag, start of content, end of content] of the DER element at `at`, or undefined if it does not fit. */
function element(der: Uint8Array, at: number, end: number): [number, number, number] | undefined {
  if (at + 2 > end) return undefined;
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > end) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  return start + len <= end ? [tag, start, start + len] : undefined;
}

export function isCertificatePem(pem: string): boolean {
  const body = BODY.exec(pem)?.[1]?.replace(/\r?\n/g, '');
  if (body === undefined || body.length % 4 !== 0) return false;
  let der: Uint8Array;
  try {
    der = fromBase64(body);
  } catch {
    return false;
  }
  const outer = element(der, 0, der.length);
  if (outer === undefined || outer[0] !== 0x30 || outer[2] !== der.length) return false;
  const tags: number[] = [];
  for (let at = outer[1]; at < outer[2]; ) {
    const e = element(der, at, outer[2]);
    if (e === undefined) return false;
    tags.push(e[0]);
    at = e[2];
  }
  return tags.length === 3 && tags[0] === 0x30 && tags[1] === 0x30 && tags[2] === 0x03;
}
