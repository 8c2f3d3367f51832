/** TimeStampReq (RFC 3161 2.4.1): built by clients, parsed by the embedded TSA and the verifier. */
import {
  bytesToBigInt,
  ctx,
  DerReader,
  der,
  derError,
  type Element,
  readBoolean,
  readInteger,
  readOctets,
  readOid,
  readSmallInt,
  Tag,
} from './asn1.ts';
import { TimestampError, TimestampErrorCode } from './errors.ts';
import { type HashAlg, HashAlgs, hashAlgByOid } from './oids.ts';

export interface TimeStampRequest {
  /** Undefined when the algorithm is not one we accept; `hashAlgOid` still says what it was. */
  hashAlg: HashAlg | undefined;
  hashAlgOid: string;
  digest: Uint8Array;
  policy: string | undefined;
  nonce: bigint | undefined;
  certReq: boolean;
  hasExtensions: boolean;
  /** The exact MessageImprint bytes; a TSA copies them into TSTInfo. */
  imprintDer: Uint8Array;
  der: Uint8Array;
}

/** A random positive 64-bit nonce, as OpenSSL uses. */
export function randomNonce(): bigint {
  return bytesToBigInt(globalThis.crypto.getRandomValues(new Uint8Array(8))) | 1n;
}

export function checkDigest(digest: Uint8Array, alg: string): asserts alg is HashAlg {
  if (!Object.hasOwn(HashAlgs, alg)) {
    throw new TimestampError(TimestampErrorCode.badInput, `unsupported hash algorithm ${alg}`, { alg });
  }
  const want = HashAlgs[alg as HashAlg].length;
  if (digest.length !== want) {
    throw new TimestampError(
      TimestampErrorCode.badInput,
      `a ${alg} digest is ${want} bytes, got ${digest.length}`,
    );
  }
}

export interface BuildRequestOptions {
  digest: Uint8Array;
  hashAlg: HashAlg;
  /** A nonce to send; omit for a random one, or pass `null` to send none. */
  nonce?: bigint | null;
  /** Ask the TSA to embed its certificate (default true). */
  certReq?: boolean;
  policy?: string;
}

/**
 * Encodes a TimeStampReq. The imprint's AlgorithmIdentifier carries NULL parameters, as OpenSSL and most
 * TSA clients send; RFC 5754 lets receivers accept both forms.
 */
export function buildTimeStampReq(opts: BuildRequestOptions): TimeStampRequest {
  checkDigest(opts.digest, opts.hashAlg);
  const nonce = opts.nonce === null ? undefined : (opts.nonce ?? randomNonce());
  if (nonce !== undefined && nonce <= 0n)
    throw new TimestampError(TimestampErrorCode.badInput, 'nonce must be positive');
  const certReq = opts.certReq ?? true;
  const imprintDer = der.seq(
    der.seq(der.oid(HashAlgs[opts.hashAlg].oid), der.null()),
    der.octets(opts.digest),
  );
  const fields = [der.int(1n), imprintDer];
  if (opts.policy !== undefined) fields.push(encodePolicy(opts.policy));
  if (nonce !== undefined) fields.push(der.int(nonce));
  if (certReq) fields.push(der.bool(true));
  return {
    hashAlg: opts.hashAlg,
    hashAlgOid: HashAlgs[opts.hashAlg].oid,
    digest: opts.digest,
    policy: opts.policy,
    nonce,
    certReq,
    hasExtensions: false,
    imprintDer,
    der: der.seq(...fields),
  };
}

function encodePolicy(policy: string): Uint8Array {
  try {
    return der.oid(policy);
  } catch {
    throw new TimestampError(TimestampErrorCode.badInput, `policy ${JSON.stringify(policy)} is not an OID`);
  }
}

export interface MessageImprint {
  hashAlgOid: string;
  digest: Uint8Array;
}

/** MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING } */
export function readMessageImprint(el: Element): MessageImprint {
  const r = new DerReader(el, 'MessageImprint');
  const alg = readAlgorithmId(r.next(Tag.sequence, 'hashAlgorithm'), 'hashAlgorithm');
  if (alg.params !== undefined && alg.params.tag !== Tag.null) {
    throw derError('MessageImprint: digest algorithm parameters must be absent or NULL');
  }
  const digest = readOctets(r.next(Tag.octetString, 'hashedMessage'), 'hashedMessage');
  r.end();
  return { hashAlgOid: alg.oid, digest };
}

export function readAlgorithmId(el: Element, what: string): { oid: string; params: Element | undefined } {
  const r = new DerReader(el, what);
  const oid = readOid(r.next(Tag.oid, 'algorithm'), `${what}.algorithm`);
  const params = r.peekTag() === undefined ? undefined : r.nextAny('parameters');
  r.end();
  return { oid, params };
}

/** Parses a DER TimeStampReq; throws TSA_UNPARSABLE on anything malformed. */
export function parseTimeStampReq(bytes: Uint8Array): TimeStampRequest {
  const r = DerReader.of(bytes, Tag.sequence, 'TimeStampReq');
  readSmallInt(r.next(Tag.integer, 'version'), 'TimeStampReq.version', 1, 1);
  const imprintEl = r.next(Tag.sequence, 'messageImprint');
  const imprint = readMessageImprint(imprintEl);
  const policyEl = r.optional(Tag.oid);
  const nonceEl = r.optional(Tag.integer);
  const certReqEl = r.optional(Tag.boolean);
  const extEl = r.optional(ctx(0, true));
  r.end();
  return {
    hashAlg: hashAlgByOid(imprint.hashAlgOid),
    hashAlgOid: imprint.hashAlgOid,
    digest: imprint.digest,
    policy: policyEl ? readOid(policyEl, 'reqPolicy') : undefined,
    nonce: nonceEl ? readInteger(nonceEl, 'nonce') : undefined,
    certReq: certReqEl ? readBoolean(certReqEl, 'certReq') : false,
    hasExtensions: extEl !== undefined,
    imprintDer: imprintEl.raw,
    der: bytes,
  };
}
