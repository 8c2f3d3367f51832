/**
 * The governance record: the payload of a `governance` tx (ADR 006). A validator of the set in force proposes an
 * action (PROPOSE) or approves a pending proposal by its id, the PROPOSE tx's hash (APPROVE). The ledger
 * (src/ledger/governance-state.ts) judges and applies them; this module only encodes, strictly.
 */
import { toHex, utf8Length } from './bytes.ts';
import {
  CodecError,
  CodecErrorCode,
  decodeExact,
  expectVersion,
  invalidField,
  type Reader,
  Writer,
} from './codec.ts';
import { HASH_LENGTH, PUBLIC_KEY_LENGTH } from './crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from './crypto-suite.ts';
import { ID_PATTERN, Limits } from './limits.ts';
import { type ConsensusParams, DEFAULT_CONSENSUS_PARAMS, validateConsensusParams } from './params.ts';
import { type InstitutionRole, InstitutionRoles, isInstitutionRole, roleOfCode } from './roles.ts';

export const GOVERNANCE_VERSION = 1;

/** Reserved for validator keys (the same value as tx.ts VALIDATOR_KEY_ID; repeated to avoid an import cycle). */
const RESERVED_KEY_ID = 'validator';

export const GovernanceKinds = { propose: 1, approve: 2 } as const;

export const ActionCodes = {
  registerInstitution: 1,
  addClientKey: 2,
  revokeClientKey: 3,
  addValidator: 4,
  removeValidator: 5,
  rotateValidatorKey: 6,
  setConsensusParams: 7,
  setInstitutionRole: 8,
  setEncryptionKey: 9,
  setAuditAccess: 10,
} as const;
export type ActionType = keyof typeof ActionCodes;
const actionByCode = new Map<number, ActionType>(
  Object.entries(ActionCodes).map(([k, v]) => [v, k as ActionType] as const),
);

export interface ClientKeyEntry {
  keyId: string;
  publicKey: Uint8Array;
}

export type GovernanceAction =
  | { type: 'registerInstitution'; id: string; name: string; clientKeys: ClientKeyEntry[] }
  | { type: 'addClientKey'; institution: string; keyId: string; publicKey: Uint8Array }
  | { type: 'revokeClientKey'; institution: string; keyId: string }
  /** `peerKey`: on an sm2-sm3 chain only, and there required, the Ed25519 libp2p key (ADR 014, genesis peerKey). */
  | { type: 'addValidator'; institution: string; publicKey: Uint8Array; peerKey?: Uint8Array }
  | { type: 'removeValidator'; institution: string }
  | { type: 'rotateValidatorKey'; institution: string; publicKey: Uint8Array; peerKey?: Uint8Array }
  | { type: 'setConsensusParams'; params: ConsensusParams }
  | { type: 'setInstitutionRole'; institution: string; role: InstitutionRole }
  /** Registers or rotates the X25519 key case keys are wrapped to for the institution (ADR 011). */
  | { type: 'setEncryptionKey'; institution: string; publicKey: Uint8Array }
  /** Grants (or revokes) a regulator audit access: it reads audit logs and case records (ADR 011). */
  | { type: 'setAuditAccess'; institution: string; granted: boolean };

export type GovernanceRecord =
  | { kind: 'propose'; deadline: number; action: GovernanceAction }
  | { kind: 'approve'; proposalId: Uint8Array };

/** The consensus parameter fields in their canonical order (the genesis hash encoding's order). */
export const PARAM_FIELDS: readonly (keyof ConsensusParams)[] = Object.freeze(
  Object.keys(DEFAULT_CONSENSUS_PARAMS) as (keyof ConsensusParams)[],
);

/** Whether the action changes the validator set or the consensus parameters (applied at an epoch boundary). */
export function isEpochAction(a: GovernanceAction): boolean {
  return (
    a.type === 'addValidator' ||
    a.type === 'removeValidator' ||
    a.type === 'rotateValidatorKey' ||
    a.type === 'setConsensusParams'
  );
}

function checkId(v: string, what: string): void {
  if (typeof v !== 'string' || !ID_PATTERN.test(v)) throw invalidField(`${what} must match ${ID_PATTERN}`);
}

/** Client and validator keys are of the chain's suite (ADR 014): 32-byte Ed25519, or 65-byte SM2 points. */
function checkKey(k: Uint8Array, what: string, suite: CryptoSuite): void {
  const name = suite === ED25519_SHA256 ? 'Ed25519' : suite.name;
  if (!(k instanceof Uint8Array) || k.length !== suite.publicKeyLength)
    throw invalidField(`${what} must be a ${suite.publicKeyLength}-byte ${name} public key`);
  // Ed25519 keys were only ever length-checked here; an SM2 key must also be a point of the curve.
  if (suite === ED25519_SHA256) return;
  try {
    suite.checkPublicKey(k);
  } catch (err) {
    throw invalidField(`${what}: ${(err as Error).message}`);
  }
}

/** An sm2-sm3 chain's validator names its Ed25519 libp2p key too; an Ed25519 chain's has none (ADR 014). */
function checkPeerKey(peerKey: Uint8Array | undefined, suite: CryptoSuite): void {
  if (suite === ED25519_SHA256) {
    if (peerKey !== undefined) throw invalidField('a peer key is only named on an sm2-sm3 chain');
  } else if (!(peerKey instanceof Uint8Array) || peerKey.length !== PUBLIC_KEY_LENGTH) {
    throw invalidField(`peer key must be a ${PUBLIC_KEY_LENGTH}-byte Ed25519 public key (libp2p identity)`);
  }
}

function checkClientKeyId(keyId: string): void {
  checkId(keyId, 'key id');
  if (keyId === RESERVED_KEY_ID)
    throw invalidField(`key id "${RESERVED_KEY_ID}" is reserved for validator keys`);
}

export function validateAction(a: GovernanceAction, suite: CryptoSuite = ED25519_SHA256): void {
  switch (a.type) {
    case 'registerInstitution': {
      checkId(a.id, 'institution id');
      if (
        typeof a.name !== 'string' ||
        !a.name.isWellFormed() ||
        a.name.trim().length === 0 ||
        utf8Length(a.name) > Limits.institutionNameBytes
      ) {
        throw invalidField(`institution name must be 1-${Limits.institutionNameBytes} bytes, not blank`);
      }
      if (a.clientKeys.length > Limits.clientKeysPerInstitution)
        throw invalidField(`at most ${Limits.clientKeysPerInstitution} client keys`);
      const ids = new Set<string>();
      const keys = new Set<string>();
      for (const k of a.clientKeys) {
        checkClientKeyId(k.keyId);
        checkKey(k.publicKey, 'client key', suite);
        if (ids.has(k.keyId)) throw invalidField(`key id ${k.keyId} appears twice`);
        if (keys.has(toHex(k.publicKey))) throw invalidField('a client key appears twice');
        ids.add(k.keyId);
        keys.add(toHex(k.publicKey));
      }
      return;
    }
    case 'addClientKey':
      checkId(a.institution, 'institution id');
      checkClientKeyId(a.keyId);
      checkKey(a.publicKey, 'client key', suite);
      return;
    case 'revokeClientKey':
      checkId(a.institution, 'institution id');
      checkClientKeyId(a.keyId);
      return;
    case 'addValidator':
    case 'rotateValidatorKey':
      checkId(a.institution, 'institution id');
      checkKey(a.publicKey, 'validator key', suite);
      checkPeerKey(a.peerKey, suite);
      return;
    case 'removeValidator':
      checkId(a.institution, 'institution id');
      return;
    case 'setConsensusParams':
      validateConsensusParams(a.params);
      return;
    case 'setInstitutionRole':
      checkId(a.institution, 'institution id');
      if (!isInstitutionRole(a.role)) throw invalidField(`unknown institution role ${String(a.role)}`);
      return;
    case 'setEncryptionKey':
      checkId(a.institution, 'institution id');
      if (!(a.publicKey instanceof Uint8Array) || a.publicKey.length !== PUBLIC_KEY_LENGTH)
        throw invalidField('encryption key must be a 32-byte X25519 public key');
      return;
    case 'setAuditAccess':
      checkId(a.institution, 'institution id');
      if (typeof a.granted !== 'boolean') throw invalidField('granted must be true or false');
      return;
    default:
      throw invalidField(`unknown governance action ${String((a as { type: unknown }).type)}`);
  }
}

function validateRecord(g: GovernanceRecord, suite: CryptoSuite): void {
  if (g.kind === 'propose') {
    if (!Number.isSafeInteger(g.deadline) || g.deadline < 0) throw invalidField('deadline must be epoch ms');
    validateAction(g.action, suite);
  } else if (g.kind === 'approve') {
    if (!(g.proposalId instanceof Uint8Array) || g.proposalId.length !== HASH_LENGTH)
      throw invalidField(`proposal id must be ${HASH_LENGTH} bytes`);
  } else {
    throw invalidField(`unknown governance kind ${String((g as { kind: unknown }).kind)}`);
  }
}

/**
 * Keys are written at the suite's length, so an Ed25519 chain's records are byte-for-byte what they were; an SM
 * chain's validator actions append the 32-byte peer key (docs/encoding.md).
 */
export function writeAction(w: Writer, a: GovernanceAction, suite: CryptoSuite = ED25519_SHA256): void {
  const keyLength = suite.publicKeyLength;
  w.u8(ActionCodes[a.type]);
  switch (a.type) {
    case 'registerInstitution':
      w.string(a.id).string(a.name).varint(a.clientKeys.length);
      for (const k of a.clientKeys) w.string(k.keyId).fixed(k.publicKey, keyLength);
      return;
    case 'addClientKey':
      w.string(a.institution).string(a.keyId).fixed(a.publicKey, keyLength);
      return;
    case 'revokeClientKey':
      w.string(a.institution).string(a.keyId);
      return;
    case 'addValidator':
    case 'rotateValidatorKey':
      w.string(a.institution).fixed(a.publicKey, keyLength);
      if (suite !== ED25519_SHA256) w.fixed(a.peerKey!, PUBLIC_KEY_LENGTH);
      return;
    case 'removeValidator':
      w.string(a.institution);
      return;
    case 'setConsensusParams':
      for (const f of PARAM_FIELDS) w.varint(a.params[f]);
      return;
    case 'setInstitutionRole':
      w.string(a.institution).u8(InstitutionRoles[a.role]);
      return;
    case 'setEncryptionKey':
      w.string(a.institution).fixed(a.publicKey, PUBLIC_KEY_LENGTH);
      return;
    case 'setAuditAccess':
      w.string(a.institution).u8(a.granted ? 1 : 0);
      return;
  }
}

export function readAction(r: Reader, suite: CryptoSuite = ED25519_SHA256): GovernanceAction {
  const code = r.u8('governance action');
  const type = actionByCode.get(code);
  if (type === undefined)
    throw new CodecError(CodecErrorCode.unknownType, `unknown governance action code ${code}`);
  const id = (what: string) => r.string(Limits.institutionIdBytes, what);
  const key = (what: string) => r.fixed(suite.publicKeyLength, what);
  switch (type) {
    case 'registerInstitution': {
      const inst = id('institution id');
      const name = r.string(Limits.institutionNameBytes, 'institution name');
      const n = r.varintIn(0, Limits.clientKeysPerInstitution, 'client key count');
      const clientKeys: ClientKeyEntry[] = [];
      for (let i = 0; i < n; i++)
        clientKeys.push({ keyId: r.string(Limits.keyIdBytes, 'key id'), publicKey: key('client key') });
      return { type, id: inst, name, clientKeys };
    }
    case 'addClientKey':
      return {
        type,
        institution: id('institution id'),
        keyId: r.string(Limits.keyIdBytes, 'key id'),
        publicKey: key('client key'),
      };
    case 'revokeClientKey':
      return { type, institution: id('institution id'), keyId: r.string(Limits.keyIdBytes, 'key id') };
    case 'addValidator':
    case 'rotateValidatorKey': {
      const v = { type, institution: id('institution id'), publicKey: key('validator key') };
      return suite === ED25519_SHA256 ? v : { ...v, peerKey: r.fixed(PUBLIC_KEY_LENGTH, 'peer key') };
    }
    case 'removeValidator':
      return { type, institution: id('institution id') };
    case 'setConsensusParams': {
      const params = {} as ConsensusParams;
      for (const f of PARAM_FIELDS) params[f] = r.varint(f);
      return { type, params };
    }
    case 'setInstitutionRole': {
      const institution = id('institution id');
      const code = r.u8('role');
      const role = roleOfCode(code);
      if (role === undefined) throw new CodecError(CodecErrorCode.unknownType, `unknown role code ${code}`);
      return { type, institution, role };
    }
    case 'setEncryptionKey':
      return {
        type,
        institution: id('institution id'),
        publicKey: r.fixed(PUBLIC_KEY_LENGTH, 'encryption key'),
      };
    case 'setAuditAccess': {
      const institution = id('institution id');
      const g = r.u8('granted');
      if (g > 1) throw new CodecError(CodecErrorCode.nonCanonical, 'granted must be 0 or 1');
      return { type, institution, granted: g === 1 };
    }
  }
}

export function writeGovernance(w: Writer, g: GovernanceRecord, suite: CryptoSuite = ED25519_SHA256): void {
  validateRecord(g, suite);
  w.u8(GOVERNANCE_VERSION).u8(GovernanceKinds[g.kind]);
  if (g.kind === 'propose') {
    w.varint(g.deadline);
    writeAction(w, g.action, suite);
  } else {
    w.fixed(g.proposalId, HASH_LENGTH);
  }
}

/** Reads a record of a chain of `suite`: its keys are that suite's (the record itself does not say). */
export function readGovernance(r: Reader, suite: CryptoSuite = ED25519_SHA256): GovernanceRecord {
  expectVersion(r, GOVERNANCE_VERSION, 'governance record');
  const kind = r.u8('governance kind');
  let g: GovernanceRecord;
  if (kind === GovernanceKinds.propose) {
    const deadline = r.varint('deadline');
    g = { kind: 'propose', deadline, action: readAction(r, suite) };
  } else if (kind === GovernanceKinds.approve) {
    g = { kind: 'approve', proposalId: r.fixed(HASH_LENGTH, 'proposal id') };
  } else {
    throw new CodecError(CodecErrorCode.unknownType, `unknown governance kind ${kind}`);
  }
  validateRecord(g, suite);
  return g;
}

export function encodeGovernance(g: GovernanceRecord, suite: CryptoSuite = ED25519_SHA256): Uint8Array {
  const w = new Writer(256);
  writeGovernance(w, g, suite);
  return w.finish();
}

export function decodeGovernance(bytes: Uint8Array, suite: CryptoSuite = ED25519_SHA256): GovernanceRecord {
  return decodeExact(bytes, Limits.txPayloadBytes, 'governance record', (r) => readGovernance(r, suite));
}

/** A one-line description for logs and `gov list`. */
export function describeAction(a: GovernanceAction): string {
  switch (a.type) {
    case 'registerInstitution':
      return `register institution ${a.id} (${a.clientKeys.length} client keys)`;
    case 'addClientKey':
      return `add client key ${a.institution}/${a.keyId}`;
    case 'revokeClientKey':
      return `revoke client key ${a.institution}/${a.keyId}`;
    case 'addValidator':
      return `add validator ${a.institution} key ${toHex(a.publicKey).slice(0, 16)}…`;
    case 'removeValidator':
      return `remove validator ${a.institution}`;
    case 'rotateValidatorKey':
      return `rotate validator key of ${a.institution} to ${toHex(a.publicKey).slice(0, 16)}…`;
    case 'setConsensusParams':
      return `set consensus params ${PARAM_FIELDS.map((f) => `${f}=${a.params[f]}`).join(' ')}`;
    case 'setInstitutionRole':
      return `set the role of ${a.institution} to ${a.role}`;
    case 'setEncryptionKey':
      return `set the encryption key of ${a.institution} to ${toHex(a.publicKey).slice(0, 16)}…`;
    case 'setAuditAccess':
      return `${a.granted ? 'grant' : 'revoke'} audit access of ${a.institution}`;
  }
}
