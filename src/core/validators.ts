/** The ordered validator set, its hash, and PBFT quorum arithmetic. */

import { toHex } from './bytes.ts';
import { decodeExact, expectVersion, invalidField, type Reader, Writer } from './codec.ts';
import { Domain, PUBLIC_KEY_LENGTH, taggedHash } from './crypto.ts';
import { ID_PATTERN, Limits } from './limits.ts';

export interface Validator {
  institution: string;
  publicKey: Uint8Array;
}

/** Ordered: a validator's index is its position, and the primary of view v is index `v mod n`. */
export interface ValidatorSet {
  readonly validators: readonly Validator[];
}

/** f = ⌊(n−1)/3⌋: the number of Byzantine validators tolerated. */
export function faultTolerance(n: number): number {
  return Math.floor((n - 1) / 3);
}

/**
 * ⌈(n+f+1)/2⌉: the smallest size for which any two quorums share an honest validator. 2f+1 when n = 3f+1,
 * larger otherwise (n = 5 needs 4).
 */
export function quorumSize(n: number): number {
  return Math.ceil((n + faultTolerance(n) + 1) / 2);
}

export function primaryIndex(view: number, n: number): number {
  return view % n;
}

const VALIDATOR_SET_VERSION = 1;

export function validateValidatorSet(set: ValidatorSet): void {
  const n = set.validators.length;
  if (n < 1 || n > Limits.validators)
    throw invalidField(`validator set must have 1-${Limits.validators} members`);
  const keys = new Set<string>();
  const institutions = new Set<string>();
  for (const v of set.validators) {
    if (!ID_PATTERN.test(v.institution)) throw invalidField(`bad validator institution id ${v.institution}`);
    if (v.publicKey.length !== PUBLIC_KEY_LENGTH) throw invalidField('validator public key must be 32 bytes');
    const k = toHex(v.publicKey);
    if (keys.has(k)) throw invalidField(`validator key ${k} appears twice`);
    if (institutions.has(v.institution))
      throw invalidField(`institution ${v.institution} has two validators`);
    keys.add(k);
    institutions.add(v.institution);
  }
}

export function writeValidatorSet(w: Writer, set: ValidatorSet): void {
  validateValidatorSet(set);
  w.u8(VALIDATOR_SET_VERSION).varint(set.validators.length);
  for (const v of set.validators) w.string(v.institution).fixed(v.publicKey, PUBLIC_KEY_LENGTH);
}

export function readValidatorSet(r: Reader): ValidatorSet {
  expectVersion(r, VALIDATOR_SET_VERSION, 'validator set');
  const n = r.varintIn(1, Limits.validators, 'validator count');
  const validators: Validator[] = [];
  for (let i = 0; i < n; i++) {
    validators.push({
      institution: r.string(Limits.institutionIdBytes, 'validator institution'),
      publicKey: r.fixed(PUBLIC_KEY_LENGTH, 'validator key'),
    });
  }
  const set = { validators };
  validateValidatorSet(set);
  return set;
}

export function encodeValidatorSet(set: ValidatorSet): Uint8Array {
  const w = new Writer(64 * set.validators.length + 8);
  writeValidatorSet(w, set);
  return w.finish();
}

export function decodeValidatorSet(bytes: Uint8Array): ValidatorSet {
  return decodeExact(
    bytes,
    16 + Limits.validators * (PUBLIC_KEY_LENGTH + Limits.institutionIdBytes + 2),
    'validator set',
    readValidatorSet,
  );
}

/** Committed to by every block header, so receipts can prove which set signed. */
export function validatorSetHash(set: ValidatorSet): Uint8Array {
  return taggedHash(Domain.validatorSet, encodeValidatorSet(set));
}
