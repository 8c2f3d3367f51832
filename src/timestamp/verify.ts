/**
 * The RFC 3161 verifier: a pure function of its inputs (no clock, no network). It runs the checks in CHECKS
 * order and reports the first that fails by its stable name. See docs/timestamp.md for what each means.
 * Whatever the input holds, the answer is a result: an exception no check anticipated fails the check that
 * was running (see `failure`), so a malformed field can never surface as a thrown error.
 * It is written once, as `timestampSteps`, a generator that yields each signature to check (signature.ts):
 * `verifyTimestampAsync` answers them with WebCrypto, in Node and browsers alike (for receipts);
 * `verifyTimestamp` (verify-node.ts) answers them synchronously with node:crypto (for the ledger) (ADR 013).
 */

import { equalBytes, toHex } from '../core/bytes.ts';
import { Tag } from './asn1.ts';
import { buildPath, type PathPolicy } from './chain.ts';
import { CHECKS, CheckFailed, type CheckName, type CheckOutcome, fail } from './checks.ts';
import { webVerifySignature } from './crypto-web.ts';
import { isTimestampError, TimestampError, TimestampErrorCode } from './errors.ts';
import { TsaLimits } from './limits.ts';
import { digestOf, type HashAlg, HashAlgs, hashAlgByOid, Oid, oidName } from './oids.ts';
import { parseTimeStampReq, type TimeStampRequest } from './request.ts';
import {
  type Accuracy,
  detectKind,
  type ParsedToken,
  parseTimeStampResp,
  parseToken,
  type StatusInfo,
  type TstInfo,
} from './response.ts';
import { cmsSignatureCheck, runAsync, type SignatureSteps } from './signature.ts';
import { checkSignedAttrs, parsedCerts, selectByEss, signerCandidates, tsaNameProblem } from './signer.ts';
import { type Cert, describeGeneralName, KeyUsageBit } from './x509.ts';

export { CHECKS, type CheckName, type CheckOutcome };

/** What a decoded token says, independent of whether it is trusted. */
export interface TokenFacts {
  genTime: Date;
  genTimeText: string;
  serial: bigint;
  policy: string;
  /** `sha256`, `sha384`, `sha512`, or the dotted OID of anything else. */
  hashAlg: string;
  imprint: Uint8Array;
  nonce: bigint | undefined;
  accuracy: Accuracy | undefined;
  ordering: boolean;
  tsaName: string | undefined;
}

interface VerifyCommon {
  checks: CheckOutcome[];
  checksPassed: CheckName[];
  /** PKIStatusInfo, when the input was a TimeStampResp. */
  status: StatusInfo | undefined;
}

export interface VerifySuccess extends VerifyCommon, TokenFacts {
  ok: true;
  signerSubject: string;
  /** Subjects from the signer to the trust anchor. */
  chainSubjects: string[];
  /** The bare token's exact bytes (also when the input was a full response). */
  token: Uint8Array;
  /** The earliest notAfter on the path: the token must be renewed before it (RFC 4998 section 5.2). */
  validUntil: Date;
}

export interface VerifyFailure extends VerifyCommon, Partial<TokenFacts> {
  ok: false;
  failedCheck: CheckName;
  reason: string;
  signerSubject?: string;
}

export type VerifyResult = VerifySuccess | VerifyFailure;

/** What the token must cover. At least one of data, digest or request is required. */
export interface BindingOptions {
  /** The time-stamped data; its hash (with the token's algorithm) must equal the imprint. */
  data?: Uint8Array;
  /** The time-stamped digest; its algorithm is `hashAlg`, or guessed from its length when omitted. */
  digest?: Uint8Array;
  hashAlg?: HashAlg;
  /** The TimeStampReq (DER or parsed): its imprint, nonce and policy must match. */
  request?: Uint8Array | TimeStampRequest;
  /** A nonce the token must carry, compared as an integer. */
  nonce?: bigint;
  /** A policy the token must carry. */
  policy?: string;
}

export interface VerifyOptions extends BindingOptions {
  /** Certificates whose keys we trust to issue TSA certificates. */
  trustAnchors: readonly Cert[];
  /** Further certificates that may complete the path or hold the signer (never trusted by themselves). */
  untrusted?: readonly Cert[];
  /** Checks beyond RFC 5280 path validation; none by default. */
  pathPolicy?: PathPolicy;
}

function inferHashAlg(digest: Uint8Array): HashAlg | undefined {
  for (const [name, a] of Object.entries(HashAlgs)) if (a.length === digest.length) return name as HashAlg;
  return undefined;
}

function factsOf(tst: TstInfo): TokenFacts {
  return {
    genTime: tst.genTime,
    genTimeText: tst.genTimeText,
    serial: tst.serial,
    policy: tst.policy,
    hashAlg: oidName(tst.imprint.hashAlgOid),
    imprint: tst.imprint.digest,
    nonce: tst.nonce,
    accuracy: tst.accuracy,
    ordering: tst.ordering,
    tsaName: tst.tsaName ? describeGeneralName(tst.tsaName) : undefined,
  };
}

interface Run {
  checks: CheckOutcome[];
  facts: TokenFacts | undefined;
  status: StatusInfo | undefined;
  signerSubject: string | undefined;
}

function pass(run: Run, name: CheckName, detail?: string): void {
  run.checks.push(detail === undefined ? { name, status: 'pass' } : { name, status: 'pass', detail });
}

function skip(run: Run, name: CheckName, detail: string): void {
  run.checks.push({ name, status: 'skip', detail });
}

interface Bound {
  tokenBytes: Uint8Array;
  sd: NonNullable<ParsedToken['signedData']>;
  tst: TstInfo;
  eContent: Uint8Array;
}

/** Checks decode .. policy: the input is a granted token over the expected imprint, nonce and policy. */
function bind(run: Run, input: Uint8Array, opts: BindingOptions): Bound {
  let tokenBytes: Uint8Array | undefined;
  let token: ParsedToken | undefined;
  let request: TimeStampRequest | undefined;
  try {
    if (detectKind(input) === 'response') {
      const resp = parseTimeStampResp(input);
      run.status = resp.status;
      tokenBytes = resp.token;
    } else {
      tokenBytes = input;
    }
    if (tokenBytes) token = parseToken(tokenBytes);
    request = opts.request instanceof Uint8Array ? parseRequestForCheck(opts.request) : opts.request;
  } catch (err) {
    if (isTimestampError(err, TimestampErrorCode.unparsable)) fail('decode', err.message);
    throw err;
  }
  if (token?.tstInfo) run.facts = factsOf(token.tstInfo);
  pass(run, 'decode');

  const status = run.status;
  if (status) {
    if (status.status !== 0 && status.status !== 1) {
      const why = [...status.failInfo, ...status.statusText].join('; ');
      fail('status', `TSA answered ${status.statusName}${why ? ` (${why})` : ''}`);
    }
    if (!tokenBytes) fail('status', `status ${status.statusName} but no token`);
    pass(run, 'status', status.statusName);
  } else {
    skip(run, 'status', 'bare token');
  }
  if (!token || !tokenBytes) return fail('status', 'no token');

  const sd = token.signedData;
  if (!sd) fail('contentType', `ContentInfo holds ${token.contentType}, not SignedData`);
  if (sd.eContentType !== Oid.tstInfo)
    fail('contentType', `eContentType is ${sd.eContentType}, not id-ct-TSTInfo`);
  const tst = token.tstInfo;
  const eContent = sd.eContent;
  if (!tst || !eContent) return fail('contentType', 'no encapsulated TSTInfo');
  pass(run, 'contentType');

  checkImprint(tst, opts, request);
  pass(run, 'messageImprint', `${oidName(tst.imprint.hashAlgOid)} ${toHex(tst.imprint.digest)}`);

  const wantNonce = opts.nonce ?? request?.nonce;
  if (wantNonce === undefined) skip(run, 'nonce', 'no nonce expected');
  else {
    if (tst.nonce === undefined) fail('nonce', `token has no nonce, expected ${wantNonce}`);
    if (tst.nonce !== wantNonce) fail('nonce', `token nonce ${tst.nonce} is not ${wantNonce}`);
    pass(run, 'nonce');
  }

  const wantPolicy = opts.policy ?? request?.policy;
  if (wantPolicy === undefined) skip(run, 'policy', 'no policy required');
  else {
    if (tst.policy !== wantPolicy) fail('policy', `token policy ${tst.policy} is not ${wantPolicy}`);
    pass(run, 'policy', tst.policy);
  }
  return { tokenBytes, sd, tst, eContent };
}

/**
 * The fields outside the signature that RFC 5652 fixes for a token: nothing signs them, so a verifier that
 * ignored them would accept two spellings of one token. SignedData version 3 (4 or 5 only with other
 * certificate or CRL formats), as the content is not id-data; SignerInfo version 1 with an issuer and serial
 * number, 3 with a subject key identifier; the signer's digest algorithm among digestAlgorithms.
 */
function unsignedFieldProblem(sd: Bound['sd'], si: Bound['sd']['signerInfos'][number]): string | undefined {
  if (sd.version < 3) return `SignedData version ${sd.version}; a token's is 3 (RFC 5652 5.1)`;
  const want = si.sid.kind === 'issuerSerial' ? 1 : 3;
  if (si.version !== want) {
    return `SignerInfo version ${si.version} with signer identifier ${si.sid.kind}; RFC 5652 5.3 requires ${want}`;
  }
  if (!sd.digestAlgorithms.includes(si.digestAlgorithm)) {
    return `the signer's digest algorithm ${oidName(si.digestAlgorithm)} is not among SignedData.digestAlgorithms`;
  }
  return undefined;
}

/** Checks signerInfo .. certValidity: the TSA named by a trust anchor signed this TSTInfo. */
function* trust(run: Run, b: Bound, opts: VerifyOptions): SignatureSteps<Cert[]> {
  const { sd, tst, eContent } = b;
  if (sd.signerInfos.length !== 1)
    fail('signerInfo', `${sd.signerInfos.length} SignerInfos; a token has exactly one`);
  const si = sd.signerInfos[0]!;
  const problem = unsignedFieldProblem(sd, si);
  if (problem !== undefined) fail('signerInfo', problem);
  pass(run, 'signerInfo');

  const embedded = parsedCerts(sd.certificates);
  const candidates = signerCandidates(si, embedded.certs, opts.untrusted ?? []);
  if (candidates.length === 0) {
    const extra = embedded.undecodable ? ` (${embedded.undecodable})` : '';
    fail('signerCert', `no certificate matches the SignerInfo sid${extra}; supply the TSA certificate`);
  }
  pass(run, 'signerCert');

  const attrs = checkSignedAttrs(si);
  pass(run, 'signedAttrs');

  const mdAlg = hashAlgByOid(si.digestAlgorithm);
  if (!mdAlg) fail('messageDigest', `unsupported digest algorithm ${oidName(si.digestAlgorithm)}`);
  if (!equalBytes(attrs.messageDigest, digestOf(mdAlg, eContent))) {
    fail('messageDigest', 'message-digest attribute does not match the hash of the TSTInfo');
  }
  pass(run, 'messageDigest', mdAlg);

  const signer = selectByEss(attrs.ess, candidates);
  run.signerSubject = signer.subjectText;
  pass(run, 'essSigningCertificate', attrs.ess.map((e) => e.kind).join('+'));

  const signedBytes = Uint8Array.from(si.signedAttrsRaw!);
  signedBytes[0] = Tag.set; // RFC 5652 5.4: the signature covers the SET OF, not the [0] IMPLICIT form.
  const check = cmsSignatureCheck(
    si.signatureAlgorithm,
    si.digestAlgorithm,
    signer.spki,
    signedBytes,
    si.signature,
  );
  if (typeof check === 'string') fail('signature', check);
  const answer = yield check;
  if (answer instanceof Error) fail('signature', `signature does not decode: ${answer.message}`);
  if (!answer) fail('signature', 'signature does not verify with the signer certificate key');
  pass(run, 'signature', oidName(si.signatureAlgorithm.oid));

  const eku = signer.extKeyUsage;
  if (!eku) fail('eku', 'signer certificate has no extendedKeyUsage');
  if (!eku.critical) fail('eku', 'signer extendedKeyUsage is not critical');
  if (eku.purposes.length !== 1 || eku.purposes[0] !== Oid.kpTimeStamping) {
    fail(
      'eku',
      `signer extendedKeyUsage must be only timeStamping, is ${eku.purposes.map(oidName).join(', ')}`,
    );
  }
  pass(run, 'eku');

  const ku = signer.keyUsage;
  if (ku === undefined) skip(run, 'keyUsage', 'no keyUsage extension');
  else {
    if (!ku.includes(KeyUsageBit.digitalSignature) && !ku.includes(KeyUsageBit.nonRepudiation)) {
      fail('keyUsage', 'keyUsage allows neither digitalSignature nor nonRepudiation');
    }
    pass(run, 'keyUsage');
  }

  if (!tst.tsaName) skip(run, 'tsaName', 'token names no TSA');
  else {
    const problem = tsaNameProblem(tst.tsaName, signer);
    if (problem !== undefined) fail('tsaName', problem);
    pass(run, 'tsaName');
  }

  const path = yield* buildPath(
    signer,
    [...embedded.certs, ...(opts.untrusted ?? [])],
    opts.trustAnchors,
    tst.genTime,
    opts.pathPolicy,
  );
  if (!path.ok) fail(path.check, path.reason);
  pass(run, 'chain', path.path.map((c) => c.subjectText).join(' <- '));
  pass(run, 'certValidity', `at ${tst.genTime.toISOString()}`);
  return path.path;
}

function unexpected(err: unknown): string {
  return err instanceof Error ? `unexpected ${err.name}: ${err.message}` : 'unexpected non-Error exception';
}

/** The check after the last one recorded: the one that was running when an exception escaped it. */
function runningCheck(run: Run): CheckName {
  const last = run.checks.at(-1);
  return last === undefined ? 'decode' : (CHECKS[CHECKS.indexOf(last.name) + 1] ?? last.name);
}

/**
 * The result for a failed check. Any other exception is input that no check anticipated (for example a field
 * that decodes but cannot be used): it fails the check that was running rather than escape the verifier.
 */
function failure(run: Run, err: unknown): VerifyFailure {
  const failed =
    err instanceof CheckFailed
      ? err
      : new CheckFailed(runningCheck(run), isTimestampError(err) ? err.message : unexpected(err));
  run.checks.push({ name: failed.check, status: 'fail', detail: failed.reason });
  const result: VerifyFailure = {
    ok: false,
    failedCheck: failed.check,
    reason: failed.reason,
    checks: run.checks,
    checksPassed: passedOf(run.checks),
    status: run.status,
    ...run.facts,
  };
  if (run.signerSubject !== undefined) result.signerSubject = run.signerSubject;
  return result;
}

function newRun(): Run {
  return { checks: [], facts: undefined, status: undefined, signerSubject: undefined };
}

function requireImprintSource(opts: BindingOptions): void {
  if (opts.data === undefined && opts.digest === undefined && opts.request === undefined) {
    throw new TimestampError(
      TimestampErrorCode.badInput,
      'give data, a digest or a request to check the imprint',
    );
  }
}

/**
 * Verifies a TimeStampResp or a bare token, yielding each signature to check. Never fails on bad input:
 * undecodable bytes fail the `decode` check. Throws TSA_BAD_INPUT (on the first step) only for a caller's
 * mistake (nothing to match the imprint against, no anchors).
 */
export function* timestampSteps(input: Uint8Array, opts: VerifyOptions): SignatureSteps<VerifyResult> {
  requireImprintSource(opts);
  if (opts.trustAnchors.length === 0 || opts.trustAnchors.length > TsaLimits.trustAnchors) {
    throw new TimestampError(
      TimestampErrorCode.badInput,
      `give 1 to ${TsaLimits.trustAnchors} trust anchors`,
    );
  }
  if ((opts.untrusted?.length ?? 0) > TsaLimits.certificates) {
    throw new TimestampError(
      TimestampErrorCode.badInput,
      `give at most ${TsaLimits.certificates} untrusted certificates`,
    );
  }
  const run = newRun();
  try {
    const bound = bind(run, input, opts);
    const path = yield* trust(run, bound, opts);
    return {
      ok: true,
      checks: run.checks,
      checksPassed: passedOf(run.checks),
      status: run.status,
      ...factsOf(bound.tst),
      signerSubject: path[0]!.subjectText,
      chainSubjects: path.map((c) => c.subjectText),
      token: bound.tokenBytes,
      validUntil: new Date(Math.min(...path.map((c) => c.notAfter.getTime()))),
    };
  } catch (err) {
    return failure(run, err);
  }
}

/** `timestampSteps` with WebCrypto: the verifier of receipts, in Node and browsers (see the file comment). */
export function verifyTimestampAsync(input: Uint8Array, opts: VerifyOptions): Promise<VerifyResult> {
  return runAsync(timestampSteps(input, opts), webVerifySignature);
}

export type BindingResult =
  | { ok: true; facts: TokenFacts; token: Uint8Array; checks: CheckOutcome[] }
  | VerifyFailure;

/**
 * Only the checks decode .. policy: the response is a granted token for this imprint, nonce and policy. It
 * says nothing about who signed it; clients use it when they have no trust anchors configured.
 */
export function checkBinding(input: Uint8Array, opts: BindingOptions): BindingResult {
  requireImprintSource(opts);
  const run = newRun();
  try {
    const bound = bind(run, input, opts);
    return { ok: true, facts: factsOf(bound.tst), token: bound.tokenBytes, checks: run.checks };
  } catch (err) {
    return failure(run, err);
  }
}

function parseRequestForCheck(bytes: Uint8Array): TimeStampRequest {
  try {
    return parseTimeStampReq(bytes);
  } catch (err) {
    if (isTimestampError(err, TimestampErrorCode.unparsable)) {
      throw new TimestampError(err.code, `the request: ${err.message}`);
    }
    throw err;
  }
}

function passedOf(checks: CheckOutcome[]): CheckName[] {
  return checks.filter((c) => c.status === 'pass').map((c) => c.name);
}

function checkImprint(tst: TstInfo, opts: BindingOptions, request: TimeStampRequest | undefined): void {
  const { hashAlgOid, digest } = tst.imprint;
  const alg = hashAlgByOid(hashAlgOid);
  if (!alg) fail('messageImprint', `unsupported imprint algorithm ${oidName(hashAlgOid)}`);
  if (digest.length !== HashAlgs[alg].length)
    fail('messageImprint', `a ${alg} imprint of ${digest.length} bytes`);
  if (request) {
    if (request.hashAlgOid !== hashAlgOid) {
      fail('messageImprint', `request asked for ${oidName(request.hashAlgOid)}, token has ${alg}`);
    }
    if (!equalBytes(request.digest, digest))
      fail('messageImprint', 'token imprint differs from the request imprint');
  }
  if (opts.digest) {
    const given = opts.hashAlg ?? inferHashAlg(opts.digest);
    if (given !== alg)
      fail('messageImprint', `token imprint is ${alg}, the given digest is ${given ?? 'of no known length'}`);
    if (!equalBytes(opts.digest, digest))
      fail('messageImprint', 'token imprint differs from the given digest');
  }
  if (opts.data && !equalBytes(digestOf(alg, opts.data), digest)) {
    fail('messageImprint', `token imprint differs from the ${alg} of the data`);
  }
}
