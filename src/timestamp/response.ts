/**
 * Decoding of TimeStampResp (RFC 3161 2.4.2), the token (CMS ContentInfo/SignedData, RFC 5652) and TSTInfo.
 * Decoding checks structure only; what the values mean is judged in verify.ts.
 */
import { PKIFailureInfoFlags } from '@peculiar/asn1-tsp';
import {
  childrenOf,
  ctx,
  DerReader,
  decodeDer,
  derError,
  type Element,
  expectTag,
  readBitString,
  readBoolean,
  readGeneralizedTime,
  readInteger,
  readOctets,
  readOid,
  readSmallInt,
  readString,
  setBits,
  Tag,
} from './asn1.ts';
import { TimestampError, TimestampErrorCode } from './errors.ts';
import { TsaLimits } from './limits.ts';
import { Oid } from './oids.ts';
import { type MessageImprint, readAlgorithmId, readMessageImprint } from './request.ts';

export const PkiStatus = {
  granted: 0,
  grantedWithMods: 1,
  rejection: 2,
  waiting: 3,
  revocationWarning: 4,
  revocationNotification: 5,
} as const;
export type PkiStatusName = keyof typeof PkiStatus;

/** PKIFailureInfo names by bit position, from @peculiar/asn1-tsp's flags (flag = 1 << bit). */
export const FAILURE_BITS: ReadonlyMap<number, string> = new Map(
  Object.entries(PKIFailureInfoFlags)
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .map(([name, flag]) => [Math.log2(flag), name]),
);

export function failureBit(name: string): number {
  for (const [bit, n] of FAILURE_BITS) if (n === name) return bit;
  throw new RangeError(`unknown PKIFailureInfo ${name}`);
}

export interface StatusInfo {
  status: number;
  statusName: string;
  statusText: string[];
  /** Names of the PKIFailureInfo bits set (unknown bits print as `bitN`). */
  failInfo: string[];
}

export interface ParsedResponse {
  status: StatusInfo;
  /** The TimeStampToken's exact bytes, when present. */
  token: Uint8Array | undefined;
}

export type DerKind = 'response' | 'token';

function checkSize(bytes: Uint8Array, what: string): void {
  if (bytes.length > TsaLimits.tokenBytes) {
    throw new TimestampError(
      TimestampErrorCode.unparsable,
      `${what} is larger than ${TsaLimits.tokenBytes} bytes`,
    );
  }
}

/** A TimeStampResp starts with a SEQUENCE (PKIStatusInfo), a bare token (ContentInfo) with an OID. */
export function detectKind(bytes: Uint8Array): DerKind {
  checkSize(bytes, 'input');
  const first = childrenOf(expectTag(decodeDer(bytes, 'input'), Tag.sequence, 'input'), 'input')[0];
  if (first?.tag === Tag.sequence) return 'response';
  if (first?.tag === Tag.oid) return 'token';
  throw derError('input is neither a TimeStampResp nor a TimeStampToken');
}

export function parseTimeStampResp(bytes: Uint8Array): ParsedResponse {
  checkSize(bytes, 'TimeStampResp');
  const r = DerReader.of(bytes, Tag.sequence, 'TimeStampResp');
  const status = parseStatusInfo(r.next(Tag.sequence, 'status'));
  const tokenEl = r.optional(Tag.sequence);
  r.end();
  return { status, token: tokenEl?.raw };
}

function parseStatusInfo(el: Element): StatusInfo {
  const r = new DerReader(el, 'PKIStatusInfo');
  const status = readSmallInt(r.next(Tag.integer, 'status'), 'PKIStatus', 0, 1 << 30);
  const textEl = r.optional(Tag.sequence);
  const failEl = r.optional(Tag.bitString);
  r.end();
  const statusName =
    (Object.entries(PkiStatus).find(([, v]) => v === status)?.[0] as string | undefined) ?? `status${status}`;
  return {
    status,
    statusName,
    statusText: textEl ? childrenOf(textEl, 'PKIFreeText').map((e) => readString(e, 'PKIFreeText')) : [],
    failInfo: failEl
      ? setBits(readBitString(failEl, 'PKIFailureInfo')).map((b) => FAILURE_BITS.get(b) ?? `bit${b}`)
      : [],
  };
}

export interface Attribute {
  oid: string;
  values: Element[];
}

export type SignerId =
  | { kind: 'issuerSerial'; issuer: Uint8Array; serial: bigint }
  | { kind: 'keyId'; keyId: Uint8Array };

export interface SignerInfo {
  version: number;
  sid: SignerId;
  digestAlgorithm: string;
  /** The signed attributes exactly as encoded, with their [0] IMPLICIT tag. */
  signedAttrsRaw: Uint8Array | undefined;
  signedAttrs: Attribute[];
  signatureAlgorithm: { oid: string; params: Element | undefined };
  signature: Uint8Array;
}

export interface Accuracy {
  seconds: number;
  millis: number;
  micros: number;
}

export interface TstInfo {
  policy: string;
  imprint: MessageImprint;
  serial: bigint;
  genTime: Date;
  /** The GeneralizedTime exactly as encoded (may carry sub-millisecond digits). */
  genTimeText: string;
  accuracy: Accuracy | undefined;
  ordering: boolean;
  nonce: bigint | undefined;
  /** The `tsa` GeneralName as encoded, when present. */
  tsaName: Uint8Array | undefined;
  hasExtensions: boolean;
}

export interface ParsedToken {
  contentType: string;
  /** Present when contentType is id-signedData. */
  signedData:
    | {
        version: number;
        digestAlgorithms: string[];
        eContentType: string;
        /** The eContent octets (the DER TSTInfo), over which message-digest is computed. */
        eContent: Uint8Array | undefined;
        /** Each certificate's exact DER; other CertificateChoices are skipped. */
        certificates: Uint8Array[];
        signerInfos: SignerInfo[];
      }
    | undefined;
  /** Present when eContentType is id-ct-TSTInfo. */
  tstInfo: TstInfo | undefined;
}

/** Parses a token (ContentInfo). Throws TSA_UNPARSABLE when the bytes do not have the expected shape. */
export function parseToken(bytes: Uint8Array): ParsedToken {
  checkSize(bytes, 'TimeStampToken');
  const r = DerReader.of(bytes, Tag.sequence, 'ContentInfo');
  const contentType = readOid(r.next(Tag.oid, 'contentType'), 'ContentInfo.contentType');
  const content = r.next(ctx(0, true), 'content');
  r.end();
  if (contentType !== Oid.signedData) return { contentType, signedData: undefined, tstInfo: undefined };
  const signedData = parseSignedData(
    expectTag(decodeDer(content.value, 'SignedData'), Tag.sequence, 'SignedData'),
  );
  const tstInfo =
    signedData.eContentType === Oid.tstInfo && signedData.eContent
      ? parseTstInfo(signedData.eContent)
      : undefined;
  return { contentType, signedData, tstInfo };
}

function parseSignedData(el: Element): NonNullable<ParsedToken['signedData']> {
  const r = new DerReader(el, 'SignedData');
  const version = readSmallInt(r.next(Tag.integer, 'version'), 'SignedData.version', 0, 5);
  const digestAlgorithms = childrenOf(r.next(Tag.set, 'digestAlgorithms'), 'digestAlgorithms').map(
    (e) => readAlgorithmId(expectTag(e, Tag.sequence, 'digestAlgorithm'), 'digestAlgorithm').oid,
  );
  const eci = new DerReader(r.next(Tag.sequence, 'encapContentInfo'), 'EncapsulatedContentInfo');
  const eContentType = readOid(eci.next(Tag.oid, 'eContentType'), 'eContentType');
  const eContentEl = eci.optional(ctx(0, true));
  eci.end();
  // DER requires a primitive OCTET STRING; a constructed (BER) one is refused by expectTag.
  const eContent = eContentEl ? readOctets(decodeDer(eContentEl.value, 'eContent'), 'eContent') : undefined;
  const certsEl = r.optional(ctx(0, true));
  r.optional(ctx(1, true));
  const signerInfosEl = r.next(Tag.set, 'signerInfos');
  r.end();
  const certificates = certsEl
    ? childrenOf(certsEl, 'certificates')
        .filter((c) => c.tag === Tag.sequence)
        .map((c) => c.raw)
    : [];
  if (certificates.length > TsaLimits.certificates) {
    throw derError(
      `SignedData carries ${certificates.length} certificates, more than ${TsaLimits.certificates}`,
    );
  }
  const signerInfos = childrenOf(signerInfosEl, 'signerInfos').map(parseSignerInfo);
  return { version, digestAlgorithms, eContentType, eContent, certificates, signerInfos };
}

function parseSignerInfo(el: Element): SignerInfo {
  const r = new DerReader(expectTag(el, Tag.sequence, 'SignerInfo'), 'SignerInfo');
  const version = readSmallInt(r.next(Tag.integer, 'version'), 'SignerInfo.version', 0, 5);
  const sidEl = r.nextAny('sid');
  let sid: SignerId;
  if (sidEl.tag === Tag.sequence) {
    const s = new DerReader(sidEl, 'IssuerAndSerialNumber');
    const issuer = s.next(Tag.sequence, 'issuer').raw;
    const serial = readInteger(s.next(Tag.integer, 'serialNumber'), 'serialNumber');
    s.end();
    sid = { kind: 'issuerSerial', issuer, serial };
  } else if (sidEl.tag === ctx(0, false)) {
    sid = { kind: 'keyId', keyId: sidEl.value };
  } else {
    throw derError('SignerInfo: unknown SignerIdentifier');
  }
  const digestAlgorithm = readAlgorithmId(r.next(Tag.sequence, 'digestAlgorithm'), 'digestAlgorithm').oid;
  const attrsEl = r.optional(ctx(0, true));
  const signatureAlgorithm = readAlgorithmId(
    r.next(Tag.sequence, 'signatureAlgorithm'),
    'signatureAlgorithm',
  );
  const signature = readOctets(r.next(Tag.octetString, 'signature'), 'signature');
  r.optional(ctx(1, true));
  r.end();
  const signedAttrs = attrsEl
    ? childrenOf(attrsEl, 'signedAttrs').map((a) => {
        const ar = new DerReader(expectTag(a, Tag.sequence, 'Attribute'), 'Attribute');
        const oid = readOid(ar.next(Tag.oid, 'attrType'), 'attrType');
        const values = childrenOf(ar.next(Tag.set, 'attrValues'), 'attrValues');
        ar.end();
        return { oid, values };
      })
    : [];
  return {
    version,
    sid,
    digestAlgorithm,
    signedAttrsRaw: attrsEl?.raw,
    signedAttrs,
    signatureAlgorithm,
    signature,
  };
}

function implicitInt(el: Element, what: string, min: number, max: number): number {
  return readSmallInt({ tag: Tag.integer, raw: el.raw, value: el.value }, what, min, max);
}

export function parseTstInfo(bytes: Uint8Array): TstInfo {
  const r = DerReader.of(bytes, Tag.sequence, 'TSTInfo');
  readSmallInt(r.next(Tag.integer, 'version'), 'TSTInfo.version', 1, 1);
  const policy = readOid(r.next(Tag.oid, 'policy'), 'policy');
  const imprint = readMessageImprint(r.next(Tag.sequence, 'messageImprint'));
  const serial = readInteger(r.next(Tag.integer, 'serialNumber'), 'serialNumber');
  const genTime = readGeneralizedTime(r.next(Tag.generalizedTime, 'genTime'), 'genTime');
  const accEl = r.optional(Tag.sequence);
  const orderingEl = r.optional(Tag.boolean);
  const nonceEl = r.optional(Tag.integer);
  const tsaEl = r.optional(ctx(0, true));
  const extEl = r.optional(ctx(1, true));
  r.end();
  let accuracy: Accuracy | undefined;
  if (accEl) {
    const a = new DerReader(accEl, 'Accuracy');
    const s = a.optional(Tag.integer);
    const ms = a.optional(ctx(0, false));
    const us = a.optional(ctx(1, false));
    a.end();
    accuracy = {
      seconds: s ? readSmallInt(s, 'accuracy.seconds', 0, 2 ** 31) : 0,
      millis: ms ? implicitInt(ms, 'accuracy.millis', 1, 999) : 0,
      micros: us ? implicitInt(us, 'accuracy.micros', 1, 999) : 0,
    };
  }
  return {
    policy,
    imprint,
    serial,
    genTime: genTime.date,
    genTimeText: genTime.text,
    accuracy,
    ordering: orderingEl ? readBoolean(orderingEl, 'ordering') : false,
    nonce: nonceEl ? readInteger(nonceEl, 'nonce') : undefined,
    tsaName: tsaEl ? decodeDer(tsaEl.value, 'tsa').raw : undefined,
    hasExtensions: extEl !== undefined,
  };
}
