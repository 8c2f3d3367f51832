/**
 * The governance registry (ADR 006): institutions and their client keys, the history of validator-set epochs
 * with their consensus parameters, and the proposals. It is a deterministic function of the genesis and the
 * committed governance txs: the executor applies each included governance tx in block order to a copy of the
 * state as of the previous block, and the store keeps the encoded result with the block that changed it.
 *
 * Effects: every action takes effect from the block after the one that passes it. Validator and parameter
 * actions that pass in block p start a new epoch at height p + 1 (all of those passing in p share it).
 */
import { toHex } from '../core/bytes.ts';
import { decodeExact } from '../core/codec.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { InvariantError, invariant } from '../core/errors.ts';
import { type Genesis, genesisSuite } from '../core/genesis.ts';
import { type GovernanceAction, type GovernanceRecord, isEpochAction } from '../core/governance.ts';
import { Limits } from '../core/limits.ts';
import { DEFAULT_ROLE, type InstitutionRole } from '../core/roles.ts';
import type { TxEnvelope } from '../core/tx.ts';
import { quorumSize, type Validator, type ValidatorSet } from '../core/validators.ts';
import type { TxRejection } from './chain.ts';
import { TxErrorCode } from './errors.ts';
import {
  type EpochInfo,
  encodeSnapshot,
  type InstitutionState,
  type Proposal,
  readSnapshot,
  SNAPSHOT_MAX_BYTES,
} from './governance-snapshot.ts';
import { type ClientKeys, reject } from './rules.ts';

export type { EpochInfo, Proposal, ProposalStatus } from './governance-snapshot.ts';

/** Decided proposals kept for `gov list`; older ones are forgotten (the txs stay in the ledger). */
export const DECIDED_PROPOSALS_KEPT = 1024;

export class GovernanceState {
  readonly #institutions: Map<string, InstitutionState>;
  /** Every public key ever registered (client or validator, revoked or rotated out included), hex. */
  readonly #usedKeys: Set<string>;
  readonly #epochs: EpochInfo[];
  readonly #proposals: Map<string, Proposal>;
  #clientKeys: ClientKeys | undefined;
  /** The chain's suite (ADR 014): the length of its client and validator keys. */
  readonly #suite: CryptoSuite;
  /** sm2-sm3 chains: validators' Ed25519 peer keys (genesis and governance), by SM2 key in hex (ADR 014). */
  readonly #peerKeys: Map<string, Uint8Array>;

  private constructor(
    institutions: Map<string, InstitutionState>,
    usedKeys: Set<string>,
    epochs: EpochInfo[],
    proposals: Map<string, Proposal>,
    suite: CryptoSuite,
    peerKeys: Map<string, Uint8Array>,
  ) {
    this.#institutions = institutions;
    this.#usedKeys = usedKeys;
    this.#epochs = epochs;
    this.#proposals = proposals;
    this.#suite = suite;
    this.#peerKeys = peerKeys;
  }

  static fromGenesis(g: Genesis): GovernanceState {
    const institutions = new Map<string, InstitutionState>();
    const used = new Set<string>();
    for (const i of g.institutions) {
      institutions.set(i.id, {
        name: i.name,
        role: i.role,
        clientKeys: new Map(i.clientKeys.map((k) => [k.keyId, k.publicKey])),
        revoked: new Set(),
        encryptionKey: i.encryptionKey,
      });
      for (const k of i.clientKeys) used.add(toHex(k.publicKey));
    }
    const peerKeys = new Map<string, Uint8Array>();
    for (const v of g.validators) {
      used.add(toHex(v.publicKey));
      if (v.peerKey !== undefined) peerKeys.set(toHex(v.publicKey), v.peerKey);
    }
    const set: ValidatorSet = {
      validators: g.validators.map((v) => ({ institution: v.institution, publicKey: v.publicKey })),
    };
    return new GovernanceState(
      institutions,
      used,
      [{ epoch: 0, firstHeight: 1, set, params: { ...g.consensus } }],
      new Map(),
      genesisSuite(g),
      peerKeys,
    );
  }

  /** A deep copy to apply a block's governance txs to. */
  clone(): GovernanceState {
    const inst = new Map<string, InstitutionState>();
    for (const [id, i] of this.#institutions) {
      inst.set(id, { ...i, clientKeys: new Map(i.clientKeys), revoked: new Set(i.revoked) });
    }
    const proposals = new Map<string, Proposal>();
    for (const [k, p] of this.#proposals) proposals.set(k, { ...p, approvals: [...p.approvals] });
    const peers = new Map(this.#peerKeys);
    return new GovernanceState(
      inst,
      new Set(this.#usedKeys),
      [...this.#epochs],
      proposals,
      this.#suite,
      peers,
    );
  }

  // ---- reads ----

  /** Client keys in force: institution id -> key id -> public key. */
  clientKeys(): ClientKeys {
    if (this.#clientKeys === undefined) {
      this.#clientKeys = new Map([...this.#institutions].map(([id, i]) => [id, i.clientKeys]));
    }
    return this.#clientKeys;
  }

  /** The role of a registered institution; undefined for an unknown one. */
  roleOf(institution: string): InstitutionRole | undefined {
    return this.#institutions.get(institution)?.role;
  }

  /**
   * On an sm2-sm3 chain, the Ed25519 libp2p peer key of the validator with SM2 key `publicKey`: the genesis
   * `peerKey`, or the one the governance action that added or rotated it named (ADR 014). Undefined elsewhere.
   */
  peerKeyOf(publicKey: Uint8Array): Uint8Array | undefined {
    return this.#peerKeys.get(toHex(publicKey));
  }

  /** Why a validator's peer key cannot be used: another validator's (now or before) already is it. */
  #peerKeyFree(peerKey: Uint8Array | undefined): string | undefined {
    if (peerKey === undefined) return undefined;
    const hex = toHex(peerKey);
    for (const k of this.#peerKeys.values())
      if (toHex(k) === hex) return `peer key ${hex} is already a validator's`;
    return undefined;
  }

  /** The institution's registered X25519 encryption key, if any. */
  encryptionKeyOf(institution: string): Uint8Array | undefined {
    return this.#institutions.get(institution)?.encryptionKey;
  }

  /** Whether governance granted this regulator audit access. */
  hasAuditAccess(institution: string): boolean {
    const i = this.#institutions.get(institution);
    return i?.role === 'regulator' && i.auditAccess === true;
  }

  institutions(): {
    id: string;
    name: string;
    role: InstitutionRole;
    clientKeys: string[];
    revokedKeys: string[];
  }[] {
    return [...this.#institutions].map(([id, i]) => ({
      id,
      name: i.name,
      role: i.role,
      clientKeys: [...i.clientKeys.keys()],
      revokedKeys: [...i.revoked],
    }));
  }

  /** The epoch in force at `height` (>= 1; heights beyond a scheduled boundary get the scheduled epoch). */
  epochAt(height: number): EpochInfo {
    for (let i = this.#epochs.length - 1; i >= 0; i--) {
      const e = this.#epochs[i]!;
      if (e.firstHeight <= height) return e;
    }
    return this.#epochs[0]!;
  }

  /** Every epoch, oldest first; the last may start above the head (scheduled). */
  epochs(): readonly EpochInfo[] {
    return this.#epochs;
  }

  proposal(idHex: string): Proposal | undefined {
    return this.#proposals.get(idHex);
  }

  /** Proposals in the order they were made; a pending one past its deadline at `time` reads as expired. */
  proposals(time: number): Proposal[] {
    return [...this.#proposals.values()].map((p) =>
      p.status === 'pending' && time > p.deadline ? { ...p, status: 'expired' as const } : { ...p },
    );
  }

  // ---- applying governance txs ----

  /**
   * Judges a governance tx at block `height` and block time `time` and, when it is valid, applies it to this
   * state. The signer is already known to be a validator of the set in force at `height` (rules.ts). A
   * rejection changes nothing.
   */
  apply(env: TxEnvelope, g: GovernanceRecord, height: number, time: number): TxRejection | undefined {
    const signer = env.tx.institution;
    if (g.kind === 'propose') {
      if (g.deadline < time) {
        return reject(env, TxErrorCode.govBadDeadline, `deadline ${g.deadline} is before the time ${time}`);
      }
      if (g.deadline - env.tx.createdAt > Limits.governanceMaxDeadlineMs) {
        return reject(
          env,
          TxErrorCode.govBadDeadline,
          `deadline is more than ${Limits.governanceMaxDeadlineMs} ms after the tx was created`,
        );
      }
      const pending = [...this.#proposals.values()].filter(
        (p) => p.status === 'pending' && p.deadline >= time,
      ).length;
      if (pending >= Limits.governancePendingProposals) {
        return reject(env, TxErrorCode.govTooManyPending, `${pending} proposals are pending`);
      }
      const invalid = this.checkAction(g.action);
      if (invalid !== undefined) return reject(env, TxErrorCode.govInvalidAction, invalid);
      this.#expire(height, time);
      const p: Proposal = {
        id: env.hash,
        idHex: env.hashHex,
        proposer: signer,
        height,
        deadline: g.deadline,
        action: g.action,
        approvals: [signer],
        status: 'pending',
        decidedHeight: 0,
        effectiveHeight: 0,
        note: '',
      };
      this.#proposals.set(p.idHex, p);
      this.#tryPass(p, height);
      this.#prune();
      return undefined;
    }
    const idHex = toHex(g.proposalId);
    const p = this.#proposals.get(idHex);
    if (p === undefined) return reject(env, TxErrorCode.govUnknownProposal, `no proposal ${idHex}`);
    if (p.status !== 'pending') {
      return reject(env, TxErrorCode.govNotPending, `proposal ${idHex} is ${p.status}`);
    }
    if (time > p.deadline) {
      return reject(env, TxErrorCode.govExpired, `proposal ${idHex} expired at ${p.deadline}`);
    }
    if (p.approvals.includes(signer)) {
      return reject(env, TxErrorCode.govAlreadyApproved, `${signer} already approved proposal ${idHex}`);
    }
    this.#expire(height, time);
    p.approvals.push(signer);
    this.#tryPass(p, height);
    this.#prune();
    return undefined;
  }

  /** Why `action` could not apply to the registry as it will be once every passed action applied. */
  checkAction(a: GovernanceAction): string | undefined {
    const latest = this.#epochs[this.#epochs.length - 1]!;
    const members = latest.set.validators;
    const inSet = (inst: string) => members.some((v) => v.institution === inst);
    const keyFree = (k: Uint8Array) =>
      this.#usedKeys.has(toHex(k)) ? `key ${toHex(k)} is already registered` : undefined;
    switch (a.type) {
      case 'registerInstitution': {
        if (this.#institutions.has(a.id)) return `institution ${a.id} is already registered`;
        if (this.#institutions.size >= Limits.institutions) return 'the registry is full';
        for (const k of a.clientKeys) {
          const used = keyFree(k.publicKey);
          if (used !== undefined) return used;
        }
        return undefined;
      }
      case 'addClientKey': {
        const inst = this.#institutions.get(a.institution);
        if (inst === undefined) return `unknown institution ${a.institution}`;
        if (inst.clientKeys.has(a.keyId) || inst.revoked.has(a.keyId))
          return `key id ${a.institution}/${a.keyId} is already used`;
        if (inst.clientKeys.size >= Limits.clientKeysPerInstitution)
          return `${a.institution} has ${Limits.clientKeysPerInstitution} client keys`;
        return keyFree(a.publicKey);
      }
      case 'revokeClientKey': {
        const inst = this.#institutions.get(a.institution);
        if (inst === undefined) return `unknown institution ${a.institution}`;
        if (!inst.clientKeys.has(a.keyId)) return `${a.institution} has no active key ${a.keyId}`;
        return undefined;
      }
      case 'addValidator':
        if (!this.#institutions.has(a.institution)) return `unknown institution ${a.institution}`;
        if (inSet(a.institution)) return `${a.institution} already has a validator`;
        if (members.length >= Limits.validators) return `the set already has ${Limits.validators} validators`;
        return keyFree(a.publicKey) ?? this.#peerKeyFree(a.peerKey);
      case 'removeValidator':
        if (!inSet(a.institution)) return `${a.institution} has no validator`;
        if (members.length <= 1) return 'the last validator cannot be removed';
        return undefined;
      case 'rotateValidatorKey':
        if (!inSet(a.institution)) return `${a.institution} has no validator`;
        return keyFree(a.publicKey) ?? this.#peerKeyFree(a.peerKey);
      case 'setInstitutionRole': {
        const inst = this.#institutions.get(a.institution);
        if (inst === undefined) return `unknown institution ${a.institution}`;
        if (inst.role === a.role) return `${a.institution} is already a ${a.role}`;
        return undefined;
      }
      case 'setEncryptionKey':
        return this.#institutions.has(a.institution)
          ? keyFree(a.publicKey)
          : `unknown institution ${a.institution}`;
      case 'setAuditAccess': {
        const inst = this.#institutions.get(a.institution);
        if (inst?.role !== 'regulator') return `${a.institution} is not a registered regulator`;
        return (inst.auditAccess === true) === a.granted
          ? `${a.institution} already has that access`
          : undefined;
      }
      case 'setConsensusParams': {
        if (a.params.maxBatchBytes < Limits.txBytes)
          return `maxBatchBytes must be at least one tx (${Limits.txBytes} bytes)`;
        // Nodes size their frame, sync and mempool limits for the genesis batch size at start-up: a larger
        // batch could not be sent. Smaller ones, and every timeout and interval, may change.
        const g = this.#epochs[0]!.params;
        if (a.params.maxBatchBytes > g.maxBatchBytes || a.params.maxBatchTxs > g.maxBatchTxs)
          return `maxBatchBytes and maxBatchTxs may not exceed the genesis values (${g.maxBatchBytes}, ${g.maxBatchTxs})`;
        return undefined;
      }
    }
  }

  /** Pending proposals whose deadline is before `time` become expired (only ever on a valid governance tx). */
  #expire(height: number, time: number): void {
    for (const p of this.#proposals.values()) {
      if (p.status === 'pending' && time > p.deadline) {
        p.status = 'expired';
        p.decidedHeight = height;
      }
    }
  }

  #tryPass(p: Proposal, height: number): void {
    const { set } = this.epochAt(height);
    const members = new Set(set.validators.map((v) => v.institution));
    const votes = p.approvals.filter((a) => members.has(a)).length;
    if (votes < quorumSize(set.validators.length)) return;
    p.decidedHeight = height;
    const invalid = this.checkAction(p.action);
    if (invalid !== undefined) {
      p.status = 'failed';
      p.note = invalid.slice(0, 512);
      return;
    }
    p.status = 'passed';
    this.#execute(p, height);
  }

  #execute(p: Proposal, height: number): void {
    const a = p.action;
    this.#clientKeys = undefined;
    switch (a.type) {
      case 'registerInstitution':
        this.#institutions.set(a.id, {
          name: a.name,
          role: DEFAULT_ROLE,
          clientKeys: new Map(a.clientKeys.map((k) => [k.keyId, k.publicKey])),
          revoked: new Set(),
        });
        for (const k of a.clientKeys) this.#usedKeys.add(toHex(k.publicKey));
        p.effectiveHeight = height + 1;
        return;
      case 'addClientKey':
        this.#institutions.get(a.institution)!.clientKeys.set(a.keyId, a.publicKey);
        this.#usedKeys.add(toHex(a.publicKey));
        p.effectiveHeight = height + 1;
        return;
      case 'revokeClientKey': {
        const inst = this.#institutions.get(a.institution)!;
        inst.clientKeys.delete(a.keyId);
        inst.revoked.add(a.keyId);
        p.effectiveHeight = height + 1;
        return;
      }
      case 'setInstitutionRole':
        this.#institutions.get(a.institution)!.role = a.role;
        p.effectiveHeight = height + 1;
        return;
      case 'setEncryptionKey':
        this.#institutions.get(a.institution)!.encryptionKey = a.publicKey;
        this.#usedKeys.add(toHex(a.publicKey));
        p.effectiveHeight = height + 1;
        return;
      case 'setAuditAccess':
        this.#institutions.get(a.institution)!.auditAccess = a.granted;
        p.effectiveHeight = height + 1;
        return;
    }
    invariant(isEpochAction(a), 'unhandled governance action');
    const next = this.#scheduledEpoch(height);
    let validators: Validator[] = [...next.set.validators];
    let params = next.params;
    if ((a.type === 'addValidator' || a.type === 'rotateValidatorKey') && a.peerKey !== undefined)
      this.#peerKeys.set(toHex(a.publicKey), a.peerKey);
    if (a.type === 'addValidator') {
      validators.push({ institution: a.institution, publicKey: a.publicKey });
      this.#usedKeys.add(toHex(a.publicKey));
    } else if (a.type === 'removeValidator') {
      validators = validators.filter((v) => v.institution !== a.institution);
    } else if (a.type === 'rotateValidatorKey') {
      validators = validators.map((v) =>
        v.institution === a.institution ? { institution: v.institution, publicKey: a.publicKey } : v,
      );
      this.#usedKeys.add(toHex(a.publicKey));
    } else if (a.type === 'setConsensusParams') {
      params = { ...a.params };
    }
    this.#epochs[this.#epochs.length - 1] = {
      epoch: next.epoch,
      firstHeight: next.firstHeight,
      set: { validators, epoch: next.epoch },
      params,
    };
    p.effectiveHeight = next.firstHeight;
  }

  /**
   * The epoch that starts right after block `height` (the boundary is the passing block itself), created if
   * this is the first epoch action to pass in that block.
   */
  #scheduledEpoch(height: number): EpochInfo {
    const last = this.#epochs[this.#epochs.length - 1]!;
    if (last.firstHeight > height) return last;
    const next: EpochInfo = {
      epoch: last.epoch + 1,
      firstHeight: height + 1,
      set: { validators: last.set.validators, epoch: last.epoch + 1 },
      params: last.params,
    };
    this.#epochs.push(next);
    return next;
  }

  /** Keeps at most DECIDED_PROPOSALS_KEPT decided proposals, forgetting the oldest. */
  #prune(): void {
    let decided = 0;
    for (const p of this.#proposals.values()) if (p.status !== 'pending') decided++;
    if (decided <= DECIDED_PROPOSALS_KEPT) return;
    for (const [k, p] of this.#proposals) {
      if (decided <= DECIDED_PROPOSALS_KEPT) break;
      if (p.status === 'pending') continue;
      this.#proposals.delete(k);
      decided--;
    }
  }

  // ---- snapshot ----
  encode(): Uint8Array {
    const parts = {
      institutions: this.#institutions,
      usedKeys: this.#usedKeys,
      peerKeys: this.#peerKeys,
      epochs: this.#epochs,
      proposals: this.#proposals,
    };
    return encodeSnapshot(parts, this.#suite);
  }

  /** Decodes a stored snapshot of a chain of `suite`; an unreadable one means a corrupt store (InvariantError). */
  static decode(bytes: Uint8Array, suite: CryptoSuite = ED25519_SHA256): GovernanceState {
    try {
      const p = decodeExact(bytes, SNAPSHOT_MAX_BYTES, 'governance snapshot', (r) => readSnapshot(r, suite));
      return new GovernanceState(p.institutions, p.usedKeys, p.epochs, p.proposals, suite, p.peerKeys);
    } catch (err) {
      throw new InvariantError(`stored governance snapshot does not decode: ${(err as Error).message}`);
    }
  }
}
