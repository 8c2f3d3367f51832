/**
 * The hash-tree renewal request (RFC 4998 5.2, ADR 016): the payload of a `hash-renewal` tx. The institution
 * that recorded an evidence tx names it and gives H'(document) under a stronger hash H'. The ledger holds only
 * the SHA-256 of the document, and a tree of H' over SHA-256 hashes would be no renewal (once SHA-256 falls, a
 * second document with the same SHA-256 inherits the proof), so H'(document) must come from the holder.
 * Validators check who may ask (ledger-chain.ts); stamping the requests is the anchoring service's job.
 */
import { decodeExact, expectVersion, invalidField, type Reader, Writer } from './codec.ts';
import { HASH_LENGTH } from './crypto.ts';
import { HashAlgs } from './evidence.ts';
import { Limits } from './limits.ts';

export const HASH_RENEWAL_VERSION = 1;

/** The hashes a renewal may move to: stronger than SHA-256, the only hash evidence records archive. */
export const RenewalHashAlgs = ['sha384', 'sha512'] as const;
export type RenewalHashAlg = (typeof RenewalHashAlgs)[number];

export function isRenewalHashAlg(s: string): s is RenewalHashAlg {
  return (RenewalHashAlgs as readonly string[]).includes(s);
}

export interface HashRenewalRequest {
  /** Hash of the evidence tx whose document is renewed (the chain's tx hash: 32 bytes). */
  evidenceTx: Uint8Array;
  /** H': sha384 or sha512, with the wire codes of evidence hashes (HashAlgs). */
  hashAlg: RenewalHashAlg;
  /** H'(document). */
  hash: Uint8Array;
}

export function validateHashRenewal(r: HashRenewalRequest): void {
  if (r.evidenceTx.length !== HASH_LENGTH)
    throw invalidField(`evidence tx hash must be ${HASH_LENGTH} bytes`);
  if (!isRenewalHashAlg(r.hashAlg)) {
    throw invalidField(`renewal hash must be one of ${RenewalHashAlgs.join(', ')}, not ${String(r.hashAlg)}`);
  }
  const { length } = HashAlgs[r.hashAlg];
  if (r.hash.length !== length) throw invalidField(`${r.hashAlg} document hash must be ${length} bytes`);
}

const renewalAlgByCode = new Map<number, RenewalHashAlg>(RenewalHashAlgs.map((a) => [HashAlgs[a].code, a]));

export function writeHashRenewal(w: Writer, r: HashRenewalRequest): void {
  validateHashRenewal(r);
  w.u8(HASH_RENEWAL_VERSION)
    .fixed(r.evidenceTx, HASH_LENGTH)
    .u8(HashAlgs[r.hashAlg].code)
    .fixed(r.hash, HashAlgs[r.hashAlg].length);
}

export function readHashRenewal(r: Reader): HashRenewalRequest {
  expectVersion(r, HASH_RENEWAL_VERSION, 'hash renewal request');
  const evidenceTx = r.fixed(HASH_LENGTH, 'evidence tx hash');
  const code = r.u8('renewal hash algorithm');
  const hashAlg = renewalAlgByCode.get(code);
  if (hashAlg === undefined)
    throw invalidField(`renewal hash algorithm code ${code} is not sha384 (2) or sha512 (3)`);
  return { evidenceTx, hashAlg, hash: r.fixed(HashAlgs[hashAlg].length, 'document hash') };
}

export function encodeHashRenewal(r: HashRenewalRequest): Uint8Array {
  const w = new Writer(1 + HASH_LENGTH + 1 + 64);
  writeHashRenewal(w, r);
  return w.finish();
}

export function decodeHashRenewal(bytes: Uint8Array): HashRenewalRequest {
  return decodeExact(bytes, Limits.txPayloadBytes, 'hash renewal request', readHashRenewal);
}
