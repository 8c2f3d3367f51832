/** In-process PKI and TSA builders for RFC 3161 tests: fast ECDSA, stopped clocks, deliberate faults. */

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concatBytes } from '../../src/core/bytes.ts';
import { childrenOf, decodeDer, der, tlv } from '../../src/timestamp/asn1.ts';
import { generateP256, issueCertificate, signingAlgorithmFor, signWith } from '../../src/timestamp/certs.ts';
import {
  encodeSignedAttrs,
  encodeToken,
  encodeTstInfo,
  generalNameDirectory,
  signingCertificateV2,
} from '../../src/timestamp/encode.ts';
import { type HashAlg, HashAlgs, Oid } from '../../src/timestamp/oids.ts';
import { EmbeddedTsa, type EmbeddedTsaOptions, type SerialSource } from '../../src/timestamp/tsa.ts';
import { type Cert, certToPem, KeyUsageBit, parseCertificate } from '../../src/timestamp/x509.ts';

export const DAY = 86_400_000;
/** A fixed "now" for tests: 2026-06-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 5, 1);

export interface Pki {
  root: Cert;
  rootKey: KeyObject;
  rootPem: string;
  /** Intermediate CAs between root and TSA, root side first (empty by default). */
  intermediates: Cert[];
  tsa: Cert;
  tsaKey: KeyObject;
}

export interface PkiOptions {
  ekuCritical?: boolean;
  ekuPurposes?: string[];
  /** Omit the TSA's EKU extension entirely. */
  noEku?: boolean;
  tsaKeyUsage?: number[];
  tsaValidity?: [number, number];
  rootValidity?: [number, number];
  /** Number of intermediate CAs (default 0). */
  intermediates?: number;
  rootPathLen?: number;
  /** The intermediate (or root, when there is none) lacks cA. */
  issuerNotCa?: boolean;
  tsaExtra?: Array<{ oid: string; critical: boolean; value: Uint8Array }>;
  tsaKeyType?: 'p256' | 'p384' | 'ed25519' | 'rsa';
  rootName?: string;
  /** An extendedKeyUsage (not critical) on every intermediate CA, as some public TSA hierarchies carry. */
  intermediateEku?: string[];
}

function tsaKeyPair(type: PkiOptions['tsaKeyType']) {
  switch (type) {
    case 'p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    default:
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  }
}

/** A root CA, optional intermediates and a TSA certificate, all valid around T0 unless told otherwise. */
export async function makePki(o: PkiOptions = {}): Promise<Pki> {
  const root = await generateP256();
  const [rb, ra] = o.rootValidity ?? [T0 - 365 * DAY, T0 + 3650 * DAY];
  const rootName = o.rootName ?? 'Test Root';
  const rootDer = issueCertificate({
    subject: [
      ['O', 'JRChain Test'],
      ['CN', rootName],
    ],
    publicKey: root.publicKey,
    signingKey: root.privateKey,
    notBefore: new Date(rb),
    notAfter: new Date(ra),
    ...(o.issuerNotCa && !o.intermediates
      ? {}
      : { ca: o.rootPathLen === undefined ? {} : { pathLen: o.rootPathLen } }),
    keyUsage: [KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign],
  });
  let issuer = parseCertificate(rootDer);
  let issuerKey = root.privateKey;
  const intermediates: Cert[] = [];
  for (let i = 0; i < (o.intermediates ?? 0); i++) {
    const k = await generateP256();
    const last = i === (o.intermediates ?? 0) - 1;
    const der = issueCertificate({
      subject: [
        ['O', 'JRChain Test'],
        ['CN', `Test Intermediate ${i + 1}`],
      ],
      publicKey: k.publicKey,
      issuer,
      signingKey: issuerKey,
      notBefore: new Date(T0 - 365 * DAY),
      notAfter: new Date(T0 + 3650 * DAY),
      ...(o.issuerNotCa && last ? {} : { ca: {} }),
      keyUsage: [KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign],
      ...(o.intermediateEku ? { extKeyUsage: { purposes: o.intermediateEku, critical: false } } : {}),
    });
    issuer = parseCertificate(der);
    issuerKey = k.privateKey;
    intermediates.push(issuer);
  }
  const tsaKeys = tsaKeyPair(o.tsaKeyType);
  const [tb, ta] = o.tsaValidity ?? [T0 - 30 * DAY, T0 + 365 * DAY];
  const tsaDer = issueCertificate({
    subject: [
      ['O', 'JRChain Test'],
      ['CN', 'Test TSA'],
    ],
    publicKey: tsaKeys.publicKey,
    issuer,
    signingKey: issuerKey,
    notBefore: new Date(tb),
    notAfter: new Date(ta),
    keyUsage: o.tsaKeyUsage ?? [KeyUsageBit.digitalSignature],
    ...(o.noEku
      ? {}
      : {
          extKeyUsage: { purposes: o.ekuPurposes ?? [Oid.kpTimeStamping], critical: o.ekuCritical ?? true },
        }),
    ...(o.tsaExtra ? { extraExtensions: o.tsaExtra } : {}),
  });
  const rootCert = parseCertificate(rootDer);
  return {
    root: rootCert,
    rootKey: root.privateKey,
    rootPem: certToPem(rootDer),
    intermediates,
    tsa: parseCertificate(tsaDer),
    tsaKey: tsaKeys.privateKey,
  };
}

/** A SerialSource that counts in memory: a test double for FileSerialStore. */
export function counterSerials(first = 1n): SerialSource {
  let next = first;
  return { start: async () => {}, stop: async () => {}, next: async () => next++ };
}

/** A started embedded TSA for `pki` with a stopped clock at `at` (ms). */
export async function startTsa(
  pki: Pki,
  at = T0,
  extra: Partial<EmbeddedTsaOptions> = {},
): Promise<EmbeddedTsa> {
  const tsa = new EmbeddedTsa({
    certificate: pki.tsa.der,
    privateKey: pki.tsaKey,
    intermediates: [...pki.intermediates].reverse().map((c) => c.der),
    serials: counterSerials(),
    clock: () => at,
    ...extra,
  });
  await tsa.start();
  return tsa;
}

export async function tempDir(
  prefix = 'jrchain-tsa-',
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** In a git worktree, `.git` is a file pointing into the main clone; returns that clone's root. */
function mainCloneRoot(): string | undefined {
  try {
    const gitFile = readFileSync(join(repoRoot, '.git'), 'utf8');
    const gitdir = /^gitdir: (.+)$/m.exec(gitFile)?.[1]?.trim();
    if (!gitdir) return undefined;
    const common = resolve(gitdir, readFileSync(join(gitdir, 'commondir'), 'utf8').trim());
    return dirname(common);
  } catch {
    return undefined; // a plain clone (.git is a directory) or no git at all
  }
}

/**
 * The shared third-party RFC 3161 fixtures, read in place: JRCHAIN_SHARED_DIR when set, else `../shared`
 * beside this clone, or beside the main clone when this is a git worktree. Undefined when absent.
 */
export function rfc3161FixturesDir(): string | undefined {
  const roots = [
    process.env.JRCHAIN_SHARED_DIR,
    resolve(repoRoot, '../shared'),
    mainCloneRoot() && resolve(mainCloneRoot()!, '../shared'),
  ];
  for (const root of roots) {
    if (!root) continue;
    const dir = join(root, 'fixtures', 'rfc3161');
    if (existsSync(dir)) return dir;
  }
  return undefined;
}

export { repoRoot };

// ---- hand-built tokens, for faults an honest TSA never makes ----

export interface TokenSpec {
  digest: Uint8Array;
  alg?: HashAlg;
  nonce?: bigint;
  policy?: string;
  genTime?: number;
  serial?: bigint;
  /** ESS attributes to sign (default: a correct signingCertificateV2). */
  ess?: Uint8Array[];
  /** Replaces the signed attributes entirely (bytes of the SET OF). */
  signedAttrs?: (tstInfo: Uint8Array) => Uint8Array;
  /** Flip one bit of the signature after signing. */
  tamperSignature?: boolean;
  /** Certificates to embed (default: the TSA's). */
  certificates?: Uint8Array[];
  /** Sign with this key instead of the TSA's. */
  signingKey?: KeyObject;
  signer?: Cert;
  tsaName?: Uint8Array | null;
  sid?: 'issuerAndSerialNumber' | 'subjectKeyIdentifier';
  tstInfo?: Uint8Array;
}

export function imprintDer(alg: HashAlg, digest: Uint8Array): Uint8Array {
  return der.seq(der.seq(der.oid(HashAlgs[alg].oid), der.null()), der.octets(digest));
}

/** A bare token signed by `pki`'s TSA (or `spec.signingKey`), with whatever faults the spec asks for. */
export function buildToken(pki: Pki, spec: TokenSpec): Uint8Array {
  const signer = spec.signer ?? pki.tsa;
  const key = spec.signingKey ?? pki.tsaKey;
  const alg = spec.alg ?? 'sha256';
  const tstInfo =
    spec.tstInfo ??
    encodeTstInfo({
      policy: spec.policy ?? '1.2.3.4',
      imprintDer: imprintDer(alg, spec.digest),
      serial: spec.serial ?? 7n,
      genTime: new Date(spec.genTime ?? T0),
      accuracyMs: 1000,
      ...(spec.nonce === undefined ? {} : { nonce: spec.nonce }),
      ...(spec.tsaName === null ? {} : { tsaName: spec.tsaName ?? generalNameDirectory(signer.subject) }),
    });
  const sigAlg = signingAlgorithmFor(key);
  const digestAlg = sigAlg.hash ?? 'sha512';
  const signedAttrs = spec.signedAttrs
    ? spec.signedAttrs(tstInfo)
    : encodeSignedAttrs({ eContent: tstInfo, digestAlg, extra: spec.ess ?? [signingCertificateV2(signer)] });
  const signature = signWith(key, signedAttrs);
  if (spec.tamperSignature) signature[signature.length - 5]! ^= 0x01;
  return encodeToken({
    eContent: tstInfo,
    digestAlg,
    signedAttrs,
    signatureAlgorithmId: sigAlg.algorithmId,
    signature,
    signer,
    certificates: spec.certificates ?? [signer.der],
    ...(spec.sid ? { sid: spec.sid } : {}),
  });
}

/** Rewrites the SignedData fields of a token (version, digestAlgorithms, encap, [certs], signerInfos). */
export function rewriteSignedData(
  token: Uint8Array,
  edit: (fields: Uint8Array[]) => Uint8Array[],
): Uint8Array {
  const ci = childrenOf(decodeDer(token, 'ContentInfo'), 'ContentInfo');
  const sd = decodeDer(ci[1]!.value, 'SignedData');
  const fields = childrenOf(sd, 'SignedData').map((f) => f.raw);
  return der.seq(ci[0]!.raw, der.explicit(0, der.seq(...edit(fields))));
}

/** Replaces (or, with `insertFirst`, prepends to) the embedded certificates of a token. */
export function withCertificates(token: Uint8Array, certs: Uint8Array[], insertFirst = false): Uint8Array {
  return rewriteSignedData(token, (fields) => {
    const hasCerts = fields[3]?.[0] === 0xa0;
    const existing = hasCerts ? childrenOf(decodeDer(fields[3]!, 'certs'), 'certs').map((c) => c.raw) : [];
    const all = insertFirst ? [...certs, ...existing] : certs;
    // Keep the given order: tests place a look-alike first on purpose, which a sorted SET would undo.
    const certField = all.length ? [tlv(0xa0, concatBytes(...all))] : [];
    return [...fields.slice(0, 3), ...certField, ...fields.slice(hasCerts ? 4 : 3)];
  });
}
