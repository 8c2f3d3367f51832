/**
 * Which signature a token or certificate carries, and whether its key may make it: RSA PKCS#1 v1.5, RSA-PSS,
 * ECDSA (P-256, P-384, P-521), Ed25519 (RFC 8419) and SM2 with SM3 (GM/T 0010, OID 1.2.156.10197.1.501). This decides everything but the arithmetic, so that the
 * two engines that do the arithmetic (node:crypto, sync, for the ledger: crypto-node.ts; WebCrypto and
 * @noble, async, for receipts in Node and browsers: crypto-web.ts) reach the same verdicts (ADR 013).
 * The verifier is written as a generator that yields each `SignatureCheck` and receives the engine's answer.
 */
import { equalBytes } from '../core/bytes.ts';
import { sm2SignatureFromDer, sm2Verify } from '../core/sm/sm2.ts';
import {
  ctx,
  DerReader,
  decodeDer,
  type Element,
  expectTag,
  readInteger,
  readSmallInt,
  Tag,
} from './asn1.ts';
import { type HashAlg, hashAlgByOid, Oid, oidName } from './oids.ts';
import { type KeyType, type PublicKeyInfo, parsePublicKeyInfo } from './public-key.ts';
import { readAlgorithmId } from './request.ts';
import type { Cert } from './x509.ts';

/** The hashes RSA and ECDSA signatures may use here (SM3 goes only with SM2). */
export type Sha2 = Exclude<HashAlg, 'sm3'>;
const sha2 = (h: HashAlg | undefined): Sha2 | undefined => (h === 'sm3' ? undefined : h);

export type SignatureScheme =
  | { kind: 'rsa-pkcs1'; hash: Sha2 }
  | { kind: 'rsa-pss'; hash: Sha2; saltLength: number }
  | { kind: 'ecdsa'; hash: Sha2 }
  | { kind: 'ed25519' }
  /** SM2 with SM3 and the default user ID (GM/T 0009, as GM/T 0010 uses it in CMS). */
  | { kind: 'sm2' };

/** One signature for an engine to check: `signature` (as encoded in DER structures) over `data`. */
export interface SignatureCheck {
  key: PublicKeyInfo;
  scheme: SignatureScheme;
  data: Uint8Array;
  signature: Uint8Array;
}

/** An engine's answer: whether the signature verifies, or the error it raised (an undecodable signature). */
export type SignatureAnswer = boolean | Error;

/** A computation that asks an engine to check signatures along the way. */
export type SignatureSteps<T> = Generator<SignatureCheck, T, SignatureAnswer>;

export type SyncEngine = (check: SignatureCheck) => boolean;
export type AsyncEngine = (check: SignatureCheck) => Promise<boolean>;

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

export function runSync<T>(steps: SignatureSteps<T>, engine: SyncEngine): T {
  let step = steps.next();
  while (!step.done) {
    let answer: SignatureAnswer;
    try {
      answer = engine(step.value);
    } catch (err) {
      answer = asError(err);
    }
    step = steps.next(answer);
  }
  return step.value;
}

export async function runAsync<T>(steps: SignatureSteps<T>, engine: AsyncEngine): Promise<T> {
  let step = steps.next();
  while (!step.done) {
    let answer: SignatureAnswer;
    try {
      answer = await engine(step.value);
    } catch (err) {
      answer = asError(err);
    }
    step = steps.next(answer);
  }
  return step.value;
}

const ECDSA_HASH: Record<string, Sha2> = {
  [Oid.ecdsaWithSha256]: 'sha256',
  [Oid.ecdsaWithSha384]: 'sha384',
  [Oid.ecdsaWithSha512]: 'sha512',
};
const RSA_HASH: Record<string, Sha2> = {
  [Oid.sha256WithRsa]: 'sha256',
  [Oid.sha384WithRsa]: 'sha384',
  [Oid.sha512WithRsa]: 'sha512',
};
/** Curves a token signer may use; a certificate path also accepts P-521. */
const CMS_CURVES = new Set(['P-256', 'P-384']);
const MIN_RSA_BITS = 2048;

/** The element inside an [n] EXPLICIT wrapper. */
function inner(el: Element, tag: number, what: string): Element {
  return expectTag(decodeDer(el.value, what), tag, what);
}

/** RSASSA-PSS-params (RFC 4055 3.1) restricted to what WebCrypto can check: MGF1 with the same SHA-2 hash. */
export function pssScheme(params: Element | undefined): SignatureScheme | string {
  if (params === undefined || params.tag !== Tag.sequence) return 'RSASSA-PSS without parameters';
  const r = new DerReader(params, 'RSASSA-PSS-params');
  const hashEl = r.optional(ctx(0, true));
  const hashOid = hashEl
    ? readAlgorithmId(inner(hashEl, Tag.sequence, 'hashAlgorithm'), 'hashAlgorithm').oid
    : Oid.sha1;
  const mgfEl = r.optional(ctx(1, true));
  const mgf = mgfEl
    ? readAlgorithmId(inner(mgfEl, Tag.sequence, 'maskGenAlgorithm'), 'maskGenAlgorithm')
    : undefined;
  const saltEl = r.optional(ctx(2, true));
  const salt = saltEl ? readInteger(inner(saltEl, Tag.integer, 'saltLength'), 'saltLength') : 20n;
  const trailerEl = r.optional(ctx(3, true));
  if (trailerEl) readSmallInt(inner(trailerEl, Tag.integer, 'trailerField'), 'trailerField', 1, 1);
  r.end();
  const hash = sha2(hashAlgByOid(hashOid));
  if (!hash) return `RSASSA-PSS with unsupported hash ${oidName(hashOid)}`;
  const mgfHash = mgf?.params?.tag === Tag.sequence ? readAlgorithmId(mgf.params, 'mgf1 hash').oid : Oid.sha1;
  if (mgf?.oid !== Oid.mgf1 || mgfHash !== hashOid) {
    return 'RSASSA-PSS mask generation is not MGF1 with the signature hash';
  }
  if (salt < 0n || salt > 1024n) return `RSASSA-PSS salt length ${salt}`;
  return { kind: 'rsa-pss', hash, saltLength: Number(salt) };
}

/** Why an id-RSASSA-PSS key whose parameters restrict it may not make `scheme`, as OpenSSL enforces them. */
function pssKeyProblem(key: PublicKeyInfo, scheme: SignatureScheme): string | undefined {
  if (key.pssParams === undefined || scheme.kind !== 'rsa-pss') return undefined;
  const allowed = pssScheme(key.pssParams);
  if (typeof allowed === 'string') return `the RSA-PSS key's parameters: ${allowed}`;
  if (allowed.kind !== 'rsa-pss' || allowed.hash !== scheme.hash) {
    return `the RSA-PSS key is restricted to ${allowed.kind === 'rsa-pss' ? allowed.hash : allowed.kind}`;
  }
  if (scheme.saltLength < allowed.saltLength) {
    return `the RSA-PSS key requires a salt of at least ${allowed.saltLength} bytes`;
  }
  return undefined;
}

function keyProblem(need: KeyType, key: PublicKeyInfo, scheme: SignatureScheme): string | undefined {
  const ok = key.type === need || (need === 'rsa-pss' && key.type === 'rsa');
  if (ok) return pssKeyProblem(key, scheme);
  const want = need === 'rsa-pss' ? 'rsa' : need;
  return `signature algorithm needs a ${want} key, the certificate holds ${key.type ?? oidName(key.algorithmOid)}`;
}

/** The scheme of an AlgorithmIdentifier, with CMS's rule that a bare key type takes the digest's hash. */
function schemeOf(
  alg: { oid: string; params: Element | undefined },
  digestAlgorithm: string | undefined,
): SignatureScheme | string {
  const digestHash = digestAlgorithm === undefined ? undefined : sha2(hashAlgByOid(digestAlgorithm));
  const ecdsa = ECDSA_HASH[alg.oid] ?? (alg.oid === Oid.ecPublicKey ? digestHash : undefined);
  if (ecdsa) return { kind: 'ecdsa', hash: ecdsa };
  const rsa = RSA_HASH[alg.oid] ?? (alg.oid === Oid.rsaEncryption ? digestHash : undefined);
  if (rsa) return { kind: 'rsa-pkcs1', hash: rsa };
  if (alg.oid === Oid.rsaPss) return pssScheme(alg.params);
  if (alg.oid === Oid.ed25519) return { kind: 'ed25519' };
  if (alg.oid === Oid.sm2WithSm3) return { kind: 'sm2' };
  if (alg.oid === Oid.ecPublicKey || alg.oid === Oid.rsaEncryption) {
    return `unsupported digest algorithm ${digestAlgorithm}`;
  }
  return `unsupported signature algorithm ${alg.oid}`;
}

const KEY_OF: Record<SignatureScheme['kind'], KeyType> = {
  'rsa-pkcs1': 'rsa',
  'rsa-pss': 'rsa-pss',
  ecdsa: 'ec',
  ed25519: 'ed25519',
  sm2: 'sm2',
};

/**
 * The check of a SignerInfo signature over `data` (the DER SET of signed attributes), or why it cannot be made.
 * `digestAlgorithm` supplies the hash when the signature algorithm names only the key type, as CMS allows.
 */
export function cmsSignatureCheck(
  signatureAlgorithm: { oid: string; params: Element | undefined },
  digestAlgorithm: string,
  spki: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
): SignatureCheck | string {
  const scheme = schemeOf(signatureAlgorithm, digestAlgorithm);
  if (typeof scheme === 'string') return scheme;
  let key: PublicKeyInfo;
  try {
    key = parsePublicKeyInfo(spki);
  } catch (err) {
    return `the signer certificate's public key is unusable: ${(err as Error).message}`;
  }
  const problem = keyProblem(KEY_OF[scheme.kind], key, scheme);
  if (problem) return problem;
  if (key.type === 'ec' && !CMS_CURVES.has(key.curve ?? '')) return `unsupported curve ${key.curveOid}`;
  if ((key.type === 'rsa' || key.type === 'rsa-pss') && (key.bits ?? 0) < MIN_RSA_BITS) {
    return `RSA key shorter than ${MIN_RSA_BITS} bits`;
  }
  return { key, scheme, data, signature };
}

/**
 * SM2 signature check for either engine: node:crypto cannot compute the standard's Z (docs/long-term.md), so
 * both use the pure-TypeScript SM2. The signature is the DER SM2Signature of GM/T 0009; an undecodable one
 * throws (the engine's answer is then that error), a key off the curve throws too.
 */
export function verifySm2Check(c: SignatureCheck): boolean {
  return sm2Verify(c.key.key, c.data, sm2SignatureFromDer(c.signature));
}

/** The check that `issuer`'s key signed `cert`, or why it cannot be made (then it is not signed by it). */
export function certSignatureCheck(cert: Cert, issuer: Cert): SignatureCheck | string {
  const { algorithm, tbsAlgorithm, value } = cert.signature;
  // OpenSSL refuses a certificate whose two signature AlgorithmIdentifiers differ; so do we.
  if (!equalBytes(algorithm.raw, tbsAlgorithm.raw))
    return 'signatureAlgorithm differs from tbsCertificate.signature';
  const scheme = schemeOf(readAlgorithmId(algorithm, 'signatureAlgorithm'), undefined);
  if (typeof scheme === 'string') return scheme;
  const key = parsePublicKeyInfo(issuer.spki);
  const problem = keyProblem(KEY_OF[scheme.kind], key, scheme);
  if (problem) return problem;
  if (key.type === 'ec' && key.curve === undefined) return `unsupported curve ${key.curveOid}`;
  return { key, scheme, data: cert.tbs, signature: value };
}
