/** The ordered validator set, its hash, and PBFT quorum arithmetic. */

import { toHex } from './bytes.ts';
import { CodecError, CodecErrorCode, decodeExact, invalidField, type Reader, Writer } from './codec.ts';
import { Domain } from './crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from './crypto-suite.ts';
import { ID_PATTERN, Limits } from './limits.ts';

export interface Validator {
  institution: string;
  publicKey: Uint8Array;
}

/** Ordered: a validator's index is its position, and the primary of view v is index `v mod n`. */
export interface ValidatorSet {
  readonly validators: readonly Validator[];
  /**
   * The reconfiguration epoch (ADR 006): 0, or absent, for the genesis set. Epoch 0 encodes as version 1 (as
   * before epochs existed); epochs from 1 on encode as version 2 with the number, so one membership in two
   * epochs has two hashes.
   */
  readonly epoch?: number | undefined;
}

/** The highest epoch number (one per validator-set or parameter change). */
export const MAX_EPOCH = 2 ** 32;

export function epochOf(set: ValidatorSet): number {
  return set.epoch ?? 0;
}

/**
 * The chain identity that consensus messages and commit votes sign in `epoch` (ADR 010): the chain id, `@` and
 * the genesis hash in hex, then `/epoch` from epoch 1. `@` and `/` never occur in a chain id, so no vote of one
 * epoch, chain or genesis verifies in another. `genesisHash` null gives the identity without the genesis that
 * nodes signed before ADR 010; it serves only to verify v1/v2 receipts.
 */
export function consensusChainId(chainId: string, genesisHash: Uint8Array | null, epoch: number): string {
  const bound = genesisHash === null ? chainId : `${chainId}@${toHex(genesisHash)}`;
  return epoch === 0 ? bound : `${bound}/${epoch}`;
}

/** A chain id as signed by consensus: ID_PATTERN, `@genesisHash` (hex), then `/epoch` (epoch >= 1, minimal). */
export const CONSENSUS_CHAIN_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}(@[0-9a-f]{64})?(\/[1-9][0-9]{0,9})?$/;

/** The longest consensus chain id: a chain id, `@` and 64 hex digits, `/` and 10 digits. */
export const CONSENSUS_CHAIN_ID_BYTES = Limits.chainIdBytes + 65 + 11;

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
const VALIDATOR_SET_EPOCH_VERSION = 2;

/** A set's keys are the chain suite's: 32-byte Ed25519 or 65-byte SM2 keys (ADR 014). */
export function validateValidatorSet(set: ValidatorSet, suite: CryptoSuite = ED25519_SHA256): void {
  const epoch = epochOf(set);
  if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH)
    throw invalidField(`validator set epoch must be 0..${MAX_EPOCH}`);
  const n = set.validators.length;
  if (n < 1 || n > Limits.validators)
    throw invalidField(`validator set must have 1-${Limits.validators} members`);
  const keys = new Set<string>();
  const institutions = new Set<string>();
  for (const v of set.validators) {
    if (!ID_PATTERN.test(v.institution)) throw invalidField(`bad validator institution id ${v.institution}`);
    if (v.publicKey.length !== suite.publicKeyLength) {
      throw invalidField(`validator public key must be ${suite.publicKeyLength} bytes`);
    }
    const k = toHex(v.publicKey);
    if (keys.has(k)) throw invalidField(`validator key ${k} appears twice`);
    if (institutions.has(v.institution))
      throw invalidField(`institution ${v.institution} has two validators`);
    keys.add(k);
    institutions.add(v.institution);
  }
}

export function writeValidatorSet(w: Writer, set: ValidatorSet, suite: CryptoSuite = ED25519_SHA256): void {
  validateValidatorSet(set, suite);
  const epoch = epochOf(set);
  if (epoch === 0) w.u8(VALIDATOR_SET_VERSION);
  else w.u8(VALIDATOR_SET_EPOCH_VERSION).varint(epoch);
  w.varint(set.validators.length);
  for (const v of set.validators) w.string(v.institution).fixed(v.publicKey, suite.publicKeyLength);
}

export function readValidatorSet(r: Reader, suite: CryptoSuite = ED25519_SHA256): ValidatorSet {
  const version = r.u8('validator set version');
  let epoch = 0;
  if (version === VALIDATOR_SET_EPOCH_VERSION) epoch = r.varintIn(1, MAX_EPOCH, 'validator set epoch');
  else if (version !== VALIDATOR_SET_VERSION)
    throw new CodecError(CodecErrorCode.unknownVersion, `unknown validator set version ${version}`, {
      version,
    });
  const n = r.varintIn(1, Limits.validators, 'validator count');
  const validators: Validator[] = [];
  for (let i = 0; i < n; i++) {
    validators.push({
      institution: r.string(Limits.institutionIdBytes, 'validator institution'),
      publicKey: r.fixed(suite.publicKeyLength, 'validator key'),
    });
  }
  const set: ValidatorSet = epoch === 0 ? { validators } : { validators, epoch };
  validateValidatorSet(set, suite);
  return set;
}

export function encodeValidatorSet(set: ValidatorSet, suite: CryptoSuite = ED25519_SHA256): Uint8Array {
  const w = new Writer(64 * set.validators.length + 8);
  writeValidatorSet(w, set, suite);
  return w.finish();
}

export function decodeValidatorSet(bytes: Uint8Array, suite: CryptoSuite = ED25519_SHA256): ValidatorSet {
  return decodeExact(
    bytes,
    24 + Limits.validators * (suite.publicKeyLength + Limits.institutionIdBytes + 2),
    'validator set',
    (r) => readValidatorSet(r, suite),
  );
}

/** Committed to by every block header, so receipts can prove which set signed. */
export function validatorSetHash(set: ValidatorSet, suite: CryptoSuite = ED25519_SHA256): Uint8Array {
  return suite.taggedHash(Domain.validatorSet, encodeValidatorSet(set, suite));
}
