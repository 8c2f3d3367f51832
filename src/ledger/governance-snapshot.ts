/**
 * The stored form of the governance registry (governance-state.ts): institutions, every key ever registered,
 * the epochs and the proposals. Keys are written at the chain's suite's length (ADR 014), so an Ed25519 chain's
 * snapshots are byte-for-byte what they were.
 */
import { fromHex, toHex } from '../core/bytes.ts';
import { invalidField, type Reader, Writer } from '../core/codec.ts';
import { HASH_LENGTH, PUBLIC_KEY_LENGTH } from '../core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import {
  type GovernanceAction,
  PARAM_FIELDS,
  readAction,
  validateAction,
  writeAction,
} from '../core/governance.ts';
import { Limits } from '../core/limits.ts';
import type { ConsensusParams } from '../core/params.ts';
import { DEFAULT_ROLE, type InstitutionRole, InstitutionRoles, roleOfCode } from '../core/roles.ts';
import { decodeValidatorSet, encodeValidatorSet, epochOf, type ValidatorSet } from '../core/validators.ts';

export type ProposalStatus = 'pending' | 'passed' | 'failed' | 'expired';
const STATUS_CODES: Record<ProposalStatus, number> = { pending: 0, passed: 1, failed: 2, expired: 3 };
const STATUS_BY_CODE = new Map(Object.entries(STATUS_CODES).map(([k, v]) => [v, k as ProposalStatus]));

export interface Proposal {
  /** The PROPOSE tx's hash. */
  readonly id: Uint8Array;
  readonly idHex: string;
  /** Institution of the proposing validator. */
  readonly proposer: string;
  /** Height of the block that recorded the proposal. */
  readonly height: number;
  /** Epoch ms: the proposal expires in the first block whose time is above it. */
  readonly deadline: number;
  readonly action: GovernanceAction;
  /** Institutions whose validators approved, in order (the proposer first). */
  approvals: string[];
  status: ProposalStatus;
  /** Height at which it passed, failed or was marked expired; 0 while pending. */
  decidedHeight: number;
  /** For a passed proposal: the first height at which its action is in force; 0 otherwise. */
  effectiveHeight: number;
  /** Why a failed proposal could not apply; empty otherwise. */
  note: string;
}

export interface EpochInfo {
  readonly epoch: number;
  /** The first block height of the epoch (1 for epoch 0). */
  readonly firstHeight: number;
  readonly set: ValidatorSet;
  readonly params: ConsensusParams;
}

export interface InstitutionState {
  name: string;
  role: InstitutionRole;
  /** Active client keys by key id. */
  clientKeys: Map<string, Uint8Array>;
  /** Revoked key ids: never reusable, so an old signature never names a new key. */
  revoked: Set<string>;
  /** The X25519 key case keys are wrapped to (ADR 011); none until governance registers one. */
  encryptionKey?: Uint8Array | undefined;
  /** A regulator granted audit access by governance. */
  auditAccess?: boolean | undefined;
}

/** Version 2 adds roles (version 1 reads as all banks); 3 encryption keys and audit access. */
const SNAPSHOT_VERSION = 3;
export const SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024;

export interface SnapshotParts {
  institutions: Map<string, InstitutionState>;
  /** Every public key ever registered, hex. */
  usedKeys: Set<string>;
  epochs: EpochInfo[];
  proposals: Map<string, Proposal>;
  /** sm2-sm3 chains only: each validator's Ed25519 peer key (genesis or governance), by its SM2 key in hex. */
  peerKeys: Map<string, Uint8Array>;
}

export function encodeSnapshot(s: SnapshotParts, suite: CryptoSuite): Uint8Array {
  const w = new Writer(4096);
  w.u8(SNAPSHOT_VERSION).varint(s.institutions.size);
  for (const [id, i] of s.institutions) {
    w.string(id).string(i.name).u8(InstitutionRoles[i.role]).varint(i.clientKeys.size);
    for (const [keyId, k] of i.clientKeys) w.string(keyId).fixed(k, suite.publicKeyLength);
    w.varint(i.revoked.size);
    for (const keyId of i.revoked) w.string(keyId);
    w.optional(i.encryptionKey, (w, k) => w.fixed(k, PUBLIC_KEY_LENGTH)).u8(i.auditAccess ? 1 : 0);
  }
  const used = [...s.usedKeys].sort();
  w.varint(used.length);
  // An Ed25519 chain's keys are all 32 bytes; an SM chain's mix 65-byte SM2 and 32-byte X25519 keys.
  for (const k of used) {
    if (suite === ED25519_SHA256) w.fixed(fromHex(k), PUBLIC_KEY_LENGTH);
    else w.bytes(fromHex(k));
  }
  w.varint(s.epochs.length);
  for (const e of s.epochs) {
    w.varint(e.epoch).varint(e.firstHeight).bytes(encodeValidatorSet(e.set, suite));
    for (const f of PARAM_FIELDS) w.varint(e.params[f]);
  }
  w.varint(s.proposals.size);
  for (const p of s.proposals.values()) {
    w.fixed(p.id, HASH_LENGTH).string(p.proposer).varint(p.height).varint(p.deadline);
    writeAction(w, p.action, suite);
    w.varint(p.approvals.length);
    for (const a of p.approvals) w.string(a);
    w.u8(STATUS_CODES[p.status]).varint(p.decidedHeight).varint(p.effectiveHeight).string(p.note);
  }
  if (suite !== ED25519_SHA256) {
    w.varint(s.peerKeys.size);
    for (const [k, peer] of s.peerKeys)
      w.fixed(fromHex(k), suite.publicKeyLength).fixed(peer, PUBLIC_KEY_LENGTH);
  }
  return w.finish();
}

/** The parts of a stored snapshot of a chain of `suite`. */
export function readSnapshot(r: Reader, suite: CryptoSuite): SnapshotParts {
  const version = r.u8('governance snapshot version');
  if (version < 1 || version > SNAPSHOT_VERSION) throw invalidField(`unknown snapshot version ${version}`);
  const id = (what: string) => r.string(Limits.institutionIdBytes, what);
  const institutions = new Map<string, InstitutionState>();
  const ni = r.varintIn(0, Limits.institutions, 'institutions');
  for (let i = 0; i < ni; i++) {
    const inst = id('institution');
    const name = r.string(Limits.institutionNameBytes, 'name');
    const role = version === 1 ? DEFAULT_ROLE : roleOfCode(r.u8('role'));
    if (role === undefined) throw invalidField('unknown institution role');
    const clientKeys = new Map<string, Uint8Array>();
    const nk = r.varintIn(0, Limits.clientKeysPerInstitution, 'client keys');
    for (let j = 0; j < nk; j++) clientKeys.set(r.string(Limits.keyIdBytes), r.fixed(suite.publicKeyLength));
    const revoked = new Set<string>();
    const nr = r.varint('revoked keys');
    for (let j = 0; j < nr; j++) revoked.add(r.string(Limits.keyIdBytes));
    const v3 = version >= 3;
    const encryptionKey = v3 ? r.optional(() => r.fixed(PUBLIC_KEY_LENGTH, 'encryption key')) : undefined;
    const auditAccess = v3 && r.u8('audit access') === 1;
    institutions.set(inst, { name, role, clientKeys, revoked, encryptionKey, auditAccess });
  }
  const usedKeys = new Set<string>();
  const nu = r.varint('used keys');
  for (let i = 0; i < nu; i++) {
    const k = suite === ED25519_SHA256 ? r.fixed(PUBLIC_KEY_LENGTH) : r.bytes(suite.publicKeyLength, 'key');
    usedKeys.add(toHex(k));
  }
  const epochs: EpochInfo[] = [];
  const ne = r.varintIn(1, 2 ** 32, 'epochs');
  for (let i = 0; i < ne; i++) {
    const epoch = r.varint('epoch');
    const firstHeight = r.varint('first height');
    const set = decodeValidatorSet(r.bytes(1 << 16, 'validator set'), suite);
    const params = {} as ConsensusParams;
    for (const f of PARAM_FIELDS) params[f] = r.varint(f);
    if (epoch !== i || epochOf(set) !== epoch) throw invalidField(`epoch ${epoch} out of order`);
    epochs.push({ epoch, firstHeight, set, params });
  }
  const proposals = new Map<string, Proposal>();
  const np = r.varint('proposals');
  for (let i = 0; i < np; i++) {
    const pid = r.fixed(HASH_LENGTH, 'proposal id');
    const proposer = id('proposer');
    const height = r.varint('height');
    const deadline = r.varint('deadline');
    const action = readAction(r, suite);
    validateAction(action, suite);
    const approvals: string[] = [];
    const na = r.varintIn(0, Limits.validators * 4, 'approvals');
    for (let j = 0; j < na; j++) approvals.push(id('approval'));
    const status = STATUS_BY_CODE.get(r.u8('status'));
    if (status === undefined) throw invalidField('unknown proposal status');
    const decidedHeight = r.varint('decided height');
    const effectiveHeight = r.varint('effective height');
    const note = r.string(1024, 'note');
    const idHex = toHex(pid);
    proposals.set(idHex, {
      id: pid,
      idHex,
      proposer,
      height,
      deadline,
      action,
      approvals,
      status,
      decidedHeight,
      effectiveHeight,
      note,
    });
  }
  const peerKeys = new Map<string, Uint8Array>();
  const nk = suite === ED25519_SHA256 ? 0 : r.varintIn(0, 2 ** 16, 'peer keys');
  for (let i = 0; i < nk; i++)
    peerKeys.set(
      toHex(r.fixed(suite.publicKeyLength, 'validator key')),
      r.fixed(PUBLIC_KEY_LENGTH, 'peer key'),
    );
  return { institutions, usedKeys, epochs, proposals, peerKeys };
}
