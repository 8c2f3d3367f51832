/**
 * Finding the one certificate that signed a token: candidates by SignerInfo sid, then the ESS
 * signingCertificate(V2) hash (and issuer/serial) pins the exact certificate, so injected look-alikes never win.
 * Also the signed-attribute checks that must hold before the signature is worth checking.
 */

import { equalBytes } from '../core/bytes.ts';
import { digest } from '../core/crypto.ts';
import {
  childrenOf,
  ctx,
  DerReader,
  decodeDer,
  expectTag,
  readInteger,
  readOctets,
  readOid,
  Tag,
} from './asn1.ts';
import { CheckFailed, fail } from './checks.ts';
import { isTimestampError } from './errors.ts';
import { type HashAlg, hashAlgByOid, Oid } from './oids.ts';
import { readAlgorithmId } from './request.ts';
import type { Attribute, SignerInfo } from './response.ts';
import { type Cert, formatName, parseCertificate } from './x509.ts';

/** GeneralName directoryName: [4], constructed (EXPLICIT, as Name is a CHOICE). */
const DIRECTORY_NAME = ctx(4, true);

export function parsedCerts(ders: readonly Uint8Array[]): { certs: Cert[]; undecodable: string | undefined } {
  const certs: Cert[] = [];
  let undecodable: string | undefined;
  for (const d of ders) {
    try {
      certs.push(parseCertificate(d));
    } catch (err) {
      // An embedded certificate we cannot read can never be chosen as signer or issuer; note why and go on.
      undecodable ??= `an embedded certificate does not decode: ${(err as Error).message}`;
    }
  }
  return { certs, undecodable };
}

/** Every certificate the sid names; ESS then picks the exact one, so injected look-alikes cannot win. */
export function signerCandidates(si: SignerInfo, certs: readonly Cert[], untrusted: readonly Cert[]): Cert[] {
  const sid = si.sid;
  const all = [...certs, ...untrusted].filter(
    (c, i, arr) => arr.findIndex((o) => equalBytes(o.der, c.der)) === i,
  );
  const candidates = all.filter((c) =>
    sid.kind === 'issuerSerial'
      ? equalBytes(c.issuer, sid.issuer) && c.serial === sid.serial
      : c.subjectKeyId !== undefined && equalBytes(c.subjectKeyId, sid.keyId),
  );
  return candidates;
}

export interface EssCertId {
  kind: 'v1' | 'v2';
  hashAlg: HashAlg | 'sha1' | 'unsupported';
  hash: Uint8Array;
  issuerSerial: { issuers: Uint8Array[]; serial: bigint } | undefined;
}

function single(attrs: Attribute[], oid: string, label: string): Attribute['values'][number] | undefined {
  const found = attrs.filter((a) => a.oid === oid);
  if (found.length === 0) return undefined;
  if (found.length > 1 || found[0]!.values.length !== 1)
    fail('signedAttrs', `${label} must occur once with one value`);
  return found[0]!.values[0];
}

export function checkSignedAttrs(si: SignerInfo): { messageDigest: Uint8Array; ess: EssCertId[] } {
  if (!si.signedAttrsRaw) fail('signedAttrs', 'SignerInfo has no signed attributes');
  const ct = single(si.signedAttrs, Oid.attrContentType, 'content-type');
  if (!ct) fail('signedAttrs', 'no content-type attribute');
  let ctOid: string;
  let md: Uint8Array;
  try {
    ctOid = readOid(ct, 'content-type');
    const mdEl = single(si.signedAttrs, Oid.attrMessageDigest, 'message-digest');
    if (!mdEl) fail('signedAttrs', 'no message-digest attribute');
    md = readOctets(mdEl, 'message-digest');
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    return fail('signedAttrs', (err as Error).message);
  }
  if (ctOid !== Oid.tstInfo) fail('signedAttrs', `content-type attribute is ${ctOid}, not id-ct-TSTInfo`);
  return { messageDigest: md, ess: readEss(si) };
}

/** The first ESSCertID(v2) of each signingCertificate attribute present: it names the signer certificate. */
function readEss(si: SignerInfo): EssCertId[] {
  const out: EssCertId[] = [];
  for (const [oid, kind] of [
    [Oid.attrSigningCertificateV2, 'v2'],
    [Oid.attrSigningCertificate, 'v1'],
  ] as const) {
    const value = single(si.signedAttrs, oid, `signingCertificate${kind === 'v2' ? 'V2' : ''}`);
    if (!value) continue;
    try {
      const certs = new DerReader(
        expectTag(value, Tag.sequence, 'SigningCertificate'),
        'SigningCertificate',
      ).next(Tag.sequence, 'certs');
      const first = childrenOf(certs, 'certs')[0];
      if (!first) fail('essSigningCertificate', 'signingCertificate lists no certificate');
      const r = new DerReader(expectTag(first, Tag.sequence, 'ESSCertID'), 'ESSCertID');
      let hashAlg: EssCertId['hashAlg'] = 'sha1';
      if (kind === 'v2') {
        const algEl = r.optional(Tag.sequence);
        hashAlg = algEl
          ? (hashAlgByOid(readAlgorithmId(algEl, 'hashAlgorithm').oid) ?? 'unsupported')
          : 'sha256';
      }
      const hash = readOctets(r.next(Tag.octetString, 'certHash'), 'certHash');
      const isEl = r.optional(Tag.sequence);
      r.end();
      let issuerSerial: EssCertId['issuerSerial'];
      if (isEl) {
        const ir = new DerReader(isEl, 'IssuerSerial');
        const names = childrenOf(ir.next(Tag.sequence, 'issuer'), 'GeneralNames');
        const serialEl = ir.next(Tag.integer, 'serialNumber');
        ir.end();
        const issuers = names
          .filter((n) => n.tag === DIRECTORY_NAME)
          .map((n) => decodeDer(n.value, 'directoryName').raw);
        issuerSerial = { issuers, serial: readInteger(serialEl, 'serialNumber') };
      }
      out.push({ kind, hashAlg, hash, issuerSerial });
    } catch (err) {
      if (err instanceof CheckFailed) throw err;
      fail('essSigningCertificate', `signingCertificate does not decode: ${(err as Error).message}`);
    }
  }
  if (out.length === 0)
    fail('essSigningCertificate', 'no ESS signingCertificate or signingCertificateV2 attribute');
  return out;
}

export function selectByEss(ess: EssCertId[], candidates: Cert[]): Cert {
  for (const e of ess) {
    if (e.hashAlg === 'unsupported') fail('essSigningCertificate', 'ESSCertIDv2 uses an unsupported hash');
  }
  const known = ess as (EssCertId & { hashAlg: HashAlg | 'sha1' })[];
  const match = candidates.find((c) =>
    known.every(
      (e) =>
        equalBytes(digest(e.hashAlg, c.der), e.hash) &&
        (!e.issuerSerial ||
          (e.issuerSerial.serial === c.serial &&
            e.issuerSerial.issuers.some((n) => equalBytes(n, c.issuer)))),
    ),
  );
  if (!match) {
    fail(
      'essSigningCertificate',
      'no certificate named by the sid matches the ESS signingCertificate hash and issuer/serial',
    );
  }
  return match;
}

/**
 * Why the TSTInfo `tsa` name (a GeneralName, as encoded) does not name the signer, or undefined when it does:
 * a directoryName equal to the signer's subject, or any GeneralName equal to one of its subjectAltNames.
 */
export function tsaNameProblem(tsaName: Uint8Array, signer: Cert): string | undefined {
  try {
    const el = decodeDer(tsaName, 'tsa');
    const named =
      el.tag === DIRECTORY_NAME
        ? equalBytes(decodeDer(el.value, 'directoryName').raw, signer.subject)
        : signer.subjectAltNames.some((n) => equalBytes(n, tsaName));
    if (named) return undefined;
    // A Name that does not decode is reported as such rather than as someone else's.
    if (el.tag === DIRECTORY_NAME) formatName(el.value);
  } catch (err) {
    if (!isTimestampError(err)) throw err;
    return `tsa field is not a well-formed GeneralName: ${err.message}`;
  }
  return `tsa field does not name the signer ${signer.subjectText}`;
}
