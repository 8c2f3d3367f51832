/**
 * X.509 certificates as the verifier needs them: exact DER, raw names for matching, validity, and the
 * extensions that decide trust. Plain JavaScript (it runs in browsers too, ADR 013); signatures are checked in
 * signature.ts.
 */
import { fromBase64, toBase64, toHex } from '../core/bytes.ts';
import {
  childrenOf,
  ctx,
  DerReader,
  decodeDer,
  der,
  derError,
  type Element,
  expectTag,
  readBitString,
  readBoolean,
  readInteger,
  readOctets,
  readOid,
  readSmallInt,
  readString,
  readX509Time,
  setBits,
  Tag,
} from './asn1.ts';
import { TimestampError, TimestampErrorCode } from './errors.ts';
import { TsaLimits } from './limits.ts';
import { Oid } from './oids.ts';

/** KeyUsage bit positions (RFC 5280 4.2.1.3). */
export const KeyUsageBit = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

export interface Extension {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

export interface Cert {
  der: Uint8Array;
  tbs: Uint8Array;
  serial: bigint;
  /** Raw DER of the issuer and subject Names; names are matched by exact bytes. */
  issuer: Uint8Array;
  subject: Uint8Array;
  subjectText: string;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithm: string;
  /** The certificate's outer signatureAlgorithm and signatureValue, which the issuer's key must verify. */
  signature: { algorithm: Element; tbsAlgorithm: Element; value: Uint8Array };
  spki: Uint8Array;
  extensions: Extension[];
  basicConstraints?: { ca: boolean; pathLen?: number };
  /** Set bit positions, when the extension is present. */
  keyUsage?: number[];
  extKeyUsage?: { critical: boolean; purposes: string[] };
  subjectKeyId?: Uint8Array;
  authorityKeyId?: Uint8Array;
  /** Raw GeneralName elements of subjectAltName. */
  subjectAltNames: Uint8Array[];
}

/** Extensions this code understands; a critical extension outside this list makes a path invalid. */
export const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set([
  Oid.extBasicConstraints,
  Oid.extKeyUsage,
  Oid.extExtKeyUsage,
  Oid.extSubjectKeyId,
  Oid.extAuthorityKeyId,
  Oid.extSubjectAltName,
  // Accepted as "any policy": we impose no initial policy set, as OpenSSL does by default.
  Oid.extCertificatePolicies,
]);

export function parseCertificate(der: Uint8Array): Cert {
  const outer = DerReader.of(der, Tag.sequence, 'Certificate');
  const tbsEl = outer.next(Tag.sequence, 'tbsCertificate');
  const outerAlg = outer.next(Tag.sequence, 'signatureAlgorithm');
  const sigBits = readBitString(outer.next(Tag.bitString, 'signatureValue'), 'signatureValue');
  outer.end();

  const t = new DerReader(tbsEl, 'TBSCertificate');
  const versionEl = t.optional(ctx(0, true));
  const version = versionEl ? readSmallInt(decodeDer(versionEl.value, 'version'), 'version', 0, 2) : 0;
  const serial = readInteger(t.next(Tag.integer, 'serialNumber'), 'serialNumber');
  const tbsAlg = t.next(Tag.sequence, 'signature');
  const sigAlg = new DerReader(tbsAlg, 'AlgorithmIdentifier');
  const signatureAlgorithm = readOid(sigAlg.next(Tag.oid, 'algorithm'), 'signature.algorithm');
  const issuer = t.next(Tag.sequence, 'issuer').raw;
  const validity = new DerReader(t.next(Tag.sequence, 'validity'), 'Validity');
  const notBefore = readX509Time(validity.nextAny('notBefore'), 'notBefore');
  const notAfter = readX509Time(validity.nextAny('notAfter'), 'notAfter');
  validity.end();
  const subject = t.next(Tag.sequence, 'subject').raw;
  const spki = t.next(Tag.sequence, 'subjectPublicKeyInfo').raw;
  t.optional(ctx(1, false));
  t.optional(ctx(2, false));
  const extsEl = t.optional(ctx(3, true));
  t.end();
  if (extsEl && version !== 2) throw derError('Certificate: extensions in a certificate older than v3');

  const cert: Cert = {
    der,
    tbs: tbsEl.raw,
    serial,
    issuer,
    subject,
    subjectText: formatName(subject),
    notBefore,
    notAfter,
    signatureAlgorithm,
    signature: { algorithm: outerAlg, tbsAlgorithm: tbsAlg, value: sigBits.bytes },
    spki,
    extensions: extsEl ? parseExtensions(extsEl) : [],
    subjectAltNames: [],
  };
  decodeKnownExtensions(cert);
  return cert;
}

function parseExtensions(el: Element): Extension[] {
  const seq = expectTag(decodeDer(el.value, 'Extensions'), Tag.sequence, 'Extensions');
  const out: Extension[] = [];
  for (const extEl of childrenOf(seq, 'Extensions')) {
    const r = new DerReader(expectTag(extEl, Tag.sequence, 'Extension'), 'Extension');
    const oid = readOid(r.next(Tag.oid, 'extnID'), 'extnID');
    const critEl = r.optional(Tag.boolean);
    const critical = critEl ? readBoolean(critEl, 'critical') : false;
    const value = readOctets(r.next(Tag.octetString, 'extnValue'), 'extnValue');
    r.end();
    if (out.some((e) => e.oid === oid)) throw derError(`Certificate: duplicate extension ${oid}`);
    out.push({ oid, critical, value });
  }
  return out;
}

function decodeKnownExtensions(cert: Cert): void {
  for (const ext of cert.extensions) {
    const what = `extension ${ext.oid}`;
    switch (ext.oid) {
      case Oid.extBasicConstraints: {
        const r = DerReader.of(ext.value, Tag.sequence, 'BasicConstraints');
        const caEl = r.optional(Tag.boolean);
        const lenEl = r.optional(Tag.integer);
        r.end();
        cert.basicConstraints = { ca: caEl ? readBoolean(caEl, what) : false };
        if (lenEl) cert.basicConstraints.pathLen = readSmallInt(lenEl, what, 0, 255);
        break;
      }
      case Oid.extKeyUsage:
        cert.keyUsage = setBits(readBitString(decodeDer(ext.value, what), what));
        break;
      case Oid.extExtKeyUsage: {
        const seq = expectTag(decodeDer(ext.value, what), Tag.sequence, what);
        const purposes = childrenOf(seq, what).map((e) => readOid(e, what));
        if (purposes.length === 0) throw derError(`${what}: empty ExtendedKeyUsage`);
        cert.extKeyUsage = { critical: ext.critical, purposes };
        break;
      }
      case Oid.extSubjectKeyId:
        cert.subjectKeyId = readOctets(decodeDer(ext.value, what), what);
        break;
      case Oid.extAuthorityKeyId: {
        const r = DerReader.of(ext.value, Tag.sequence, 'AuthorityKeyIdentifier');
        const keyId = r.optional(ctx(0, false));
        if (keyId) cert.authorityKeyId = keyId.value;
        break;
      }
      case Oid.extSubjectAltName: {
        const seq = expectTag(decodeDer(ext.value, what), Tag.sequence, what);
        cert.subjectAltNames = childrenOf(seq, what).map((e) => e.raw);
        break;
      }
    }
  }
}

const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
};

/** A Name as `O=Example, CN=Example TSA`, in encoded order; unknown types print as their OID. */
export function formatName(nameDer: Uint8Array): string {
  const parts: string[] = [];
  for (const rdn of childrenOf(decodeDer(nameDer, 'Name'), 'Name')) {
    for (const atv of childrenOf(expectTag(rdn, Tag.set, 'RDN'), 'RDN')) {
      const r = new DerReader(expectTag(atv, Tag.sequence, 'AttributeTypeAndValue'), 'AttributeTypeAndValue');
      const oid = readOid(r.next(Tag.oid, 'type'), 'type');
      const valueEl = r.nextAny('value');
      let value: string;
      try {
        value = readString(valueEl, 'value');
      } catch {
        value = `#${toHex(valueEl.raw)}`;
      }
      parts.push(`${ATTR_NAMES[oid] ?? oid}=${value}`);
    }
  }
  return parts.join(', ');
}

/**
 * A GeneralName for people: directoryName [4] as its Name, anything else as hex. Never throws: a name that
 * does not decode is shown as hex and marked, since it describes untrusted input (the `tsa` of a token).
 */
export function describeGeneralName(raw: Uint8Array): string {
  const hex = `GeneralName ${toHex(raw)}`;
  try {
    const el = decodeDer(raw, 'GeneralName');
    return el.tag === ctx(4, true) ? formatName(el.value) : hex;
  } catch (err) {
    if (!(err instanceof TimestampError)) throw err;
    return `${hex} (malformed)`;
  }
}

/** Builds a Name from `[type, value]` pairs (one attribute per RDN), UTF8String values except C. */
export function encodeName(attrs: ReadonlyArray<readonly [string, string]>): Uint8Array {
  const shortToOid = new Map(Object.entries(ATTR_NAMES).map(([oid, short]) => [short, oid]));
  const rdns = attrs.map(([type, value]) => {
    const oid = shortToOid.get(type) ?? type;
    const v = type === 'C' ? der.printable(value) : der.utf8(value);
    return der.setOf([der.seq(der.oid(oid), v)]);
  });
  return der.seq(...rdns);
}

// ---- PEM ----

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

/** All CERTIFICATE blocks of a PEM bundle, decoded; other blocks are ignored. */
export function parsePemCertificates(pem: string, what: string): Cert[] {
  if (pem.length > TsaLimits.pemBytes) {
    throw new TimestampError(
      TimestampErrorCode.badInput,
      `${what}: PEM larger than ${TsaLimits.pemBytes} bytes`,
    );
  }
  const out: Cert[] = [];
  for (const m of pem.matchAll(PEM_CERT_RE)) {
    const body = m[1]!.replace(/\s+/g, '');
    try {
      out.push(parseCertificate(fromBase64(body)));
    } catch (err) {
      throw new TimestampError(
        TimestampErrorCode.badInput,
        `${what}: certificate ${out.length + 1} does not decode: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
  }
  if (out.length === 0)
    throw new TimestampError(TimestampErrorCode.badInput, `${what}: no certificate found`);
  return out;
}

export function certToPem(der: Uint8Array): string {
  const b64 = toBase64(der);
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}
