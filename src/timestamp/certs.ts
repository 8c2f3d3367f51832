/**
 * Certificate issuance for the embedded TSA (and for tests that need odd certificates): TBSCertificate is
 * encoded with our DER writer and signed with node:crypto. See ADR 005 for why not @peculiar/x509.
 */
import { createHash, generateKeyPair, type KeyObject, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { sm2Sign, sm2SignatureToDer } from '../core/sm/sm2.ts';
import { bytesToBigInt, ctx, DerReader, der, readBitString, readOctets, readOid, Tag, tlv } from './asn1.ts';
import { TimestampError, TimestampErrorCode } from './errors.ts';
import { type HashAlg, Oid } from './oids.ts';
import { type Cert, encodeName, KeyUsageBit, parseCertificate } from './x509.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/** How a key signs: the AlgorithmIdentifier we write and the node:crypto digest name (null for Ed25519). */
export interface SigningAlgorithm {
  algorithmId: Uint8Array;
  /** The digest used for the signature and, in CMS, for the message digest. */
  hash: HashAlg | null;
}

/**
 * The private scalar d of an SM2 key (an `ec` key on the SM2 curve, or OpenSSL's SM2 key type, which Node
 * reports without a type), else undefined. SM2 keys sign with our SM2 code: node:crypto's SM2 computes Z
 * with an empty user ID, not the standard's default (docs/long-term.md).
 */
export function sm2PrivateScalar(key: KeyObject): Uint8Array | undefined {
  const type = key.asymmetricKeyType;
  if (type !== undefined && !(type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'SM2'))
    return undefined;
  if (key.type !== 'private') return undefined;
  // PrivateKeyInfo { version, AlgorithmIdentifier { id-ecPublicKey, sm2p256v1 }, OCTET STRING ECPrivateKey }
  const r = DerReader.of(
    new Uint8Array(key.export({ type: 'pkcs8', format: 'der' })),
    Tag.sequence,
    'PKCS#8',
  );
  r.next(Tag.integer, 'version');
  const alg = new DerReader(r.next(Tag.sequence, 'algorithm'), 'algorithm');
  alg.next(Tag.oid, 'algorithm');
  if (alg.peekTag() !== Tag.oid || readOid(alg.next(Tag.oid, 'curve'), 'curve') !== Oid.curveSm2)
    return undefined;
  const ec = DerReader.of(
    readOctets(r.next(Tag.octetString, 'privateKey'), 'privateKey'),
    Tag.sequence,
    'ECPrivateKey',
  );
  ec.next(Tag.integer, 'version');
  const d = readOctets(ec.next(Tag.octetString, 'privateKey'), 'privateKey');
  if (d.length > 32) return undefined;
  const out = new Uint8Array(32);
  out.set(d, 32 - d.length);
  return out;
}

export function signingAlgorithmFor(key: KeyObject): SigningAlgorithm {
  if (sm2PrivateScalar(key) !== undefined)
    return { algorithmId: der.seq(der.oid(Oid.sm2WithSm3)), hash: 'sm3' };
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1')
        return { algorithmId: der.seq(der.oid(Oid.ecdsaWithSha256)), hash: 'sha256' };
      if (curve === 'secp384r1')
        return { algorithmId: der.seq(der.oid(Oid.ecdsaWithSha384)), hash: 'sha384' };
      break;
    }
    case 'ed25519':
      return { algorithmId: der.seq(der.oid(Oid.ed25519)), hash: null };
    case 'rsa':
      return { algorithmId: der.seq(der.oid(Oid.sha256WithRsa), der.null()), hash: 'sha256' };
  }
  throw new TimestampError(
    TimestampErrorCode.badInput,
    `unsupported signing key ${key.asymmetricKeyType}/${key.asymmetricKeyDetails?.namedCurve ?? ''}`,
  );
}

export function signWith(key: KeyObject, data: Uint8Array): Uint8Array {
  const d = sm2PrivateScalar(key);
  if (d !== undefined) return sm2SignatureToDer(sm2Sign(d, data));
  return new Uint8Array(sign(signingAlgorithmFor(key).hash, data, key));
}

export interface IssueParams {
  /** `[type, value]` pairs, e.g. `[['O', 'Bank A'], ['CN', 'Bank A TSA']]`. */
  subject: ReadonlyArray<readonly [string, string]>;
  publicKey: KeyObject;
  /** The issuing CA; omit for a self-signed certificate, which `signingKey` then signs. */
  issuer?: Cert;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** Random positive 127-bit serial unless given. */
  serial?: bigint;
  /** Marks a CA: critical basicConstraints cA=TRUE with an optional pathLenConstraint. */
  ca?: { pathLen?: number };
  /** KeyUsage bit positions (see KeyUsageBit); the extension is critical. */
  keyUsage?: readonly number[];
  extKeyUsage?: { purposes: readonly string[]; critical: boolean };
  /** subjectKeyIdentifier value; default SHA-1 of the key bits (RFC 5280 method 1). */
  subjectKeyId?: Uint8Array;
  /** Further extensions, already encoded (tests use this for unusual certificates). */
  extraExtensions?: ReadonlyArray<{ oid: string; critical: boolean; value: Uint8Array }>;
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? der.seq(der.oid(oid), der.bool(true), der.octets(value))
    : der.seq(der.oid(oid), der.octets(value));
}

/** SHA-1 of the subjectPublicKey bits: RFC 5280 4.2.1.2 method (1). */
export function keyIdentifier(publicKey: KeyObject): Uint8Array {
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const bits = parseSpkiKeyBits(spki);
  return new Uint8Array(createHash('sha1').update(bits).digest());
}

/** SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING }: the key bits. */
function parseSpkiKeyBits(spki: Uint8Array): Uint8Array {
  const r = DerReader.of(spki, Tag.sequence, 'SubjectPublicKeyInfo');
  r.next(Tag.sequence, 'algorithm');
  return readBitString(r.next(Tag.bitString, 'subjectPublicKey'), 'subjectPublicKey').bytes;
}

/** A random positive serial of at most 127 bits (RFC 5280 allows up to 20 octets). */
function randomSerial(): bigint {
  return (bytesToBigInt(randomBytes(16)) >> 1n) | 1n;
}

/** Issues a v3 certificate and returns its DER. */
export function issueCertificate(p: IssueParams): Uint8Array {
  const serial = p.serial ?? randomSerial();
  const subject = encodeName(p.subject);
  const issuerName = p.issuer ? p.issuer.subject : subject;
  const alg = signingAlgorithmFor(p.signingKey);
  const exts: Uint8Array[] = [];
  if (p.ca) {
    const body =
      p.ca.pathLen === undefined
        ? der.seq(der.bool(true))
        : der.seq(der.bool(true), der.int(BigInt(p.ca.pathLen)));
    exts.push(extension(Oid.extBasicConstraints, true, body));
  }
  if (p.keyUsage) exts.push(extension(Oid.extKeyUsage, true, der.namedBits(p.keyUsage)));
  if (p.extKeyUsage) {
    const body = der.seq(...p.extKeyUsage.purposes.map((o) => der.oid(o)));
    exts.push(extension(Oid.extExtKeyUsage, p.extKeyUsage.critical, body));
  }
  exts.push(extension(Oid.extSubjectKeyId, false, der.octets(p.subjectKeyId ?? keyIdentifier(p.publicKey))));
  const akid = p.issuer?.subjectKeyId ?? (p.issuer ? undefined : keyIdentifier(p.publicKey));
  if (akid) exts.push(extension(Oid.extAuthorityKeyId, false, der.seq(tlv(ctx(0, false), akid))));
  for (const e of p.extraExtensions ?? []) exts.push(extension(e.oid, e.critical, e.value));

  const tbs = der.seq(
    der.explicit(0, der.int(2n)),
    der.int(serial),
    alg.algorithmId,
    issuerName,
    der.seq(der.x509Time(p.notBefore), der.x509Time(p.notAfter)),
    subject,
    new Uint8Array(p.publicKey.export({ type: 'spki', format: 'der' })),
    der.explicit(3, der.seq(...exts)),
  );
  const signature = signWith(p.signingKey, tbs);
  return der.seq(tbs, alg.algorithmId, der.bitString(signature));
}

export interface TsaCredentials {
  rootCert: Uint8Array;
  rootKey: KeyObject;
  tsaCert: Uint8Array;
  tsaKey: KeyObject;
}

export async function generateP256(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return generateKeyPairAsync('ec', { namedCurve: 'P-256' });
}

/** The embedded TSA's key algorithm: ECDSA P-256 with SHA-256, or SM2 with SM3 (GM/T 0003, ADR 014). */
export type TsaKeyAlgorithm = 'p256' | 'sm2';

/** A fresh key pair of `alg`; an SM2 key signs with our SM2 code (signWith), not node:crypto's. */
export async function generateTsaKey(
  alg: TsaKeyAlgorithm,
): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return alg === 'sm2' ? generateKeyPairAsync('ec', { namedCurve: 'SM2' }) : generateP256();
}

/**
 * A fresh root CA and a TSA certificate under it, both of `keyAlgorithm` (default P-256): critical EKU holding
 * only timeStamping, critical keyUsage digitalSignature, SKI and AKI. Validity starts an hour before `now` to
 * absorb clock skew.
 */
export async function createTsaCredentials(opts: {
  organization: string;
  now: Date;
  rootYears?: number;
  tsaYears?: number;
  keyAlgorithm?: TsaKeyAlgorithm;
}): Promise<TsaCredentials> {
  const root = await generateTsaKey(opts.keyAlgorithm ?? 'p256');
  const tsa = await generateTsaKey(opts.keyAlgorithm ?? 'p256');
  const notBefore = new Date(opts.now.getTime() - 3600_000);
  const years = (n: number) => {
    const d = new Date(opts.now);
    d.setUTCFullYear(d.getUTCFullYear() + n);
    return d;
  };
  const rootCert = issueCertificate({
    subject: [
      ['O', opts.organization],
      ['CN', `${opts.organization} Time-Stamping Root CA`],
    ],
    publicKey: root.publicKey,
    signingKey: root.privateKey,
    notBefore,
    notAfter: years(opts.rootYears ?? 20),
    ca: { pathLen: 0 },
    keyUsage: [KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign],
  });
  const tsaCert = issueCertificate({
    subject: [
      ['O', opts.organization],
      ['CN', `${opts.organization} Embedded TSA`],
    ],
    publicKey: tsa.publicKey,
    issuer: parseCertificate(rootCert),
    signingKey: root.privateKey,
    notBefore,
    notAfter: years(opts.tsaYears ?? 10),
    keyUsage: [KeyUsageBit.digitalSignature],
    extKeyUsage: { purposes: [Oid.kpTimeStamping], critical: true },
  });
  return { rootCert, rootKey: root.privateKey, tsaCert, tsaKey: tsa.privateKey };
}

export interface CrlParams {
  /** The CA that issues the CRL, and its key. */
  issuer: Cert;
  signingKey: KeyObject;
  thisUpdate: Date;
  nextUpdate: Date;
  /** CRL number (RFC 5280 5.2.3): must grow with each CRL the CA issues. */
  number: bigint;
  revoked?: readonly { serial: bigint; date: Date }[];
}

/** Issues a v2 CRL (RFC 5280 5) with the authority key identifier and CRL number extensions; returns its DER. */
export function issueCrl(p: CrlParams): Uint8Array {
  const alg = signingAlgorithmFor(p.signingKey);
  const exts = [extension(Oid.extCrlNumber, false, der.int(p.number))];
  if (p.issuer.subjectKeyId) {
    exts.unshift(extension(Oid.extAuthorityKeyId, false, der.seq(tlv(ctx(0, false), p.issuer.subjectKeyId))));
  }
  const revoked = p.revoked ?? [];
  const tbs = der.seq(
    der.int(1n),
    alg.algorithmId,
    p.issuer.subject,
    der.x509Time(p.thisUpdate),
    der.x509Time(p.nextUpdate),
    ...(revoked.length > 0
      ? [der.seq(...revoked.map((e) => der.seq(der.int(e.serial), der.x509Time(e.date))))]
      : []),
    der.explicit(0, der.seq(...exts)),
  );
  return der.seq(tbs, alg.algorithmId, der.bitString(signWith(p.signingKey, tbs)));
}
