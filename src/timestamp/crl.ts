/**
 * Certificate revocation lists (RFC 5280 section 5) as evidence records carry them (RFC 4998 cryptoInfos, an
 * id-aa-ets-revocationValues attribute, RFC 5126 6.3.4): read from PEM or DER files a TSA operator publishes,
 * or issued by the embedded TSA's root (certs.ts `issueCrl`). We carry CRLs so a verifier years later can
 * check that the TSA certificates were not revoked; our own verifiers do not check revocation (docs/timestamp.md).
 */
import { fromBase64 } from '../core/bytes.ts';
import {
  childrenOf,
  ctx,
  DerReader,
  der,
  derError,
  expectTag,
  readInteger,
  readX509Time,
  Tag,
} from './asn1.ts';
import { TimestampError, TimestampErrorCode } from './errors.ts';
import { formatName } from './x509.ts';

export interface Crl {
  der: Uint8Array;
  issuer: string;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** Serial numbers of the revoked certificates. */
  revoked: bigint[];
}

/**
 * CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature, issuer Name, thisUpdate Time,
 *   nextUpdate Time OPTIONAL, revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER,
 *   revocationDate Time, crlEntryExtensions OPTIONAL } OPTIONAL, crlExtensions [0] EXPLICIT OPTIONAL }
 * Throws TSA_UNPARSABLE when the bytes are not one (the signature is not checked here).
 */
export function parseCrl(bytes: Uint8Array): Crl {
  const r = DerReader.of(bytes, Tag.sequence, 'CertificateList');
  const tbs = new DerReader(r.next(Tag.sequence, 'tbsCertList'), 'tbsCertList');
  r.next(Tag.sequence, 'signatureAlgorithm');
  r.next(Tag.bitString, 'signatureValue');
  r.end();
  if (tbs.peekTag() === Tag.integer) tbs.next(Tag.integer, 'version');
  tbs.next(Tag.sequence, 'signature');
  const issuer = formatName(tbs.next(Tag.sequence, 'issuer').raw);
  const time = (what: string) => {
    const tag = tbs.peekTag();
    return tag === Tag.utcTime || tag === Tag.generalizedTime
      ? readX509Time(tbs.next(tag, what), what)
      : undefined;
  };
  const thisUpdate = time('thisUpdate');
  if (thisUpdate === undefined) throw derError('tbsCertList: thisUpdate is missing');
  const nextUpdate = time('nextUpdate');
  const list = tbs.peekTag() === Tag.sequence ? tbs.next(Tag.sequence, 'revokedCertificates') : undefined;
  const revoked = (list ? childrenOf(list, 'revokedCertificates') : []).map((e, i) => {
    const what = `revokedCertificates[${i}]`;
    const [serial] = childrenOf(expectTag(e, Tag.sequence, what), what);
    if (serial === undefined) throw derError(`${what} is empty`);
    return readInteger(serial, `${what}.userCertificate`);
  });
  tbs.optional(ctx(0, true));
  tbs.end();
  return { der: bytes, issuer, thisUpdate, nextUpdate, revoked };
}

const PEM_CRL_RE = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]*?)-----END X509 CRL-----/g;

/** The CRLs of a file: its `X509 CRL` PEM blocks, or the file itself as DER. Throws TSA_BAD_INPUT. */
export function readCrls(file: Uint8Array, what: string): Crl[] {
  const text = new TextDecoder('latin1').decode(file);
  const blocks = [...text.matchAll(PEM_CRL_RE)].map((m) => fromBase64(m[1]!.replace(/\s+/g, '')));
  const ders = blocks.length > 0 ? blocks : text.includes('-----BEGIN') ? [] : [file];
  if (ders.length === 0) throw new TimestampError(TimestampErrorCode.badInput, `${what}: no X509 CRL found`);
  return ders.map((d, i) => {
    try {
      return parseCrl(d);
    } catch (err) {
      throw new TimestampError(
        TimestampErrorCode.badInput,
        `${what}: CRL ${i + 1} does not decode: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
  });
}

/** RevocationValues ::= SEQUENCE { crlVals [0] EXPLICIT SEQUENCE OF CertificateList, ... } (RFC 5126). */
export function encodeRevocationValues(crls: readonly Uint8Array[]): Uint8Array {
  return der.seq(der.explicit(0, der.seq(...crls)));
}

/** The CRLs of an encoded RevocationValues (OCSP and other values are skipped). Throws TSA_UNPARSABLE. */
export function crlsOfRevocationValues(bytes: Uint8Array): Uint8Array[] {
  const r = DerReader.of(bytes, Tag.sequence, 'RevocationValues');
  const vals = r.optional(ctx(0, true));
  if (vals === undefined) return [];
  const [list] = childrenOf(vals, 'crlVals');
  if (list === undefined) throw derError('crlVals is empty');
  return childrenOf(expectTag(list, Tag.sequence, 'crlVals'), 'crlVals').map((c) => c.raw);
}
