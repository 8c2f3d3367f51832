/** A JSON-friendly description of a TimeStampResp or token, without judging it (that is verify.ts's job). */

import { toHex } from '../core/bytes.ts';
import { bigHex } from './asn1.ts';
import { oidName } from './oids.ts';
import { detectKind, parseTimeStampResp, parseToken, type StatusInfo } from './response.ts';
import { describeGeneralName, formatName, parseCertificate } from './x509.ts';

export interface TimestampDescription {
  kind: 'response' | 'token';
  status?: { status: string; text: string[]; failInfo: string[] };
  token?: {
    contentType: string;
    eContentType?: string;
    policy?: string;
    serial?: string;
    genTime?: string;
    genTimeText?: string;
    accuracy?: { seconds: number; millis: number; micros: number };
    ordering?: boolean;
    nonce?: string;
    imprint?: { hashAlg: string; digest: string };
    tsaName?: string;
    signers: Array<{ sid: string; digestAlgorithm: string; signatureAlgorithm: string }>;
    certificates: Array<
      | {
          subject: string;
          issuer: string;
          serial: string;
          notBefore: string;
          notAfter: string;
        }
      | { undecodable: string }
    >;
  };
}

function describeStatus(s: StatusInfo): NonNullable<TimestampDescription['status']> {
  return { status: s.statusName, text: s.statusText, failInfo: s.failInfo };
}

/** Throws TSA_UNPARSABLE when the bytes are neither a TimeStampResp nor a token. */
export function describeTimestamp(bytes: Uint8Array): TimestampDescription {
  const kind = detectKind(bytes);
  const out: TimestampDescription = { kind };
  let tokenBytes: Uint8Array | undefined = bytes;
  if (kind === 'response') {
    const resp = parseTimeStampResp(bytes);
    out.status = describeStatus(resp.status);
    tokenBytes = resp.token;
  }
  if (!tokenBytes) return out;
  const token = parseToken(tokenBytes);
  const sd = token.signedData;
  const tst = token.tstInfo;
  const desc: NonNullable<TimestampDescription['token']> = {
    contentType: oidName(token.contentType),
    signers: [],
    certificates: [],
  };
  if (sd) {
    desc.eContentType = sd.eContentType;
    desc.signers = sd.signerInfos.map((si) => ({
      sid:
        si.sid.kind === 'issuerSerial'
          ? `issuer=${formatName(si.sid.issuer)}; serial=${bigHex(si.sid.serial)}`
          : `subjectKeyIdentifier=${toHex(si.sid.keyId)}`,
      digestAlgorithm: oidName(si.digestAlgorithm),
      signatureAlgorithm: oidName(si.signatureAlgorithm.oid),
    }));
    desc.certificates = sd.certificates.map((der) => {
      try {
        const c = parseCertificate(der);
        return {
          subject: c.subjectText,
          issuer: formatName(c.issuer),
          serial: bigHex(c.serial),
          notBefore: c.notBefore.toISOString(),
          notAfter: c.notAfter.toISOString(),
        };
      } catch (err) {
        return { undecodable: (err as Error).message };
      }
    });
  }
  if (tst) {
    desc.policy = tst.policy;
    desc.serial = bigHex(tst.serial);
    desc.genTime = tst.genTime.toISOString();
    desc.genTimeText = tst.genTimeText;
    if (tst.accuracy) desc.accuracy = tst.accuracy;
    desc.ordering = tst.ordering;
    if (tst.nonce !== undefined) desc.nonce = bigHex(tst.nonce);
    desc.imprint = { hashAlg: oidName(tst.imprint.hashAlgOid), digest: toHex(tst.imprint.digest) };
    if (tst.tsaName) desc.tsaName = describeGeneralName(tst.tsaName);
  }
  out.token = desc;
  return out;
}
