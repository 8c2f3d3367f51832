/**
 * The dispute-case state machine (docs/cases.md), as a pure function of the case's state, one event, the
 * signer, the institutions' roles and client keys, and where the event is recorded. Every validator runs it at
 * execution, so a case moves only through legal transitions, recorded by institutions whose role and part in
 * the case allow it. Each refusal is one TX_CASE_* code, checked in the order of that list in errors.ts.
 */
import { equalBytes, toHex } from '../core/bytes.ts';
import {
  agreementSigningBody,
  type CaseEvent,
  type CaseEventType,
  type CaseRecord,
  type Decision,
  type FailReason,
} from '../core/case.ts';
import { isCaseRef } from '../core/case-ref.ts';
import { Domain } from '../core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { Limits } from '../core/limits.ts';
import type { InstitutionRole } from '../core/roles.ts';
import { TxErrorCode } from './errors.ts';

export const CaseStatuses = [
  'opened',
  'assigned',
  'mediating',
  'agreed',
  'failed',
  'withdrawn',
  'confirmationApplied',
  'confirmed',
  'refused',
  'closed',
] as const;
export type CaseStatus = (typeof CaseStatuses)[number];

/** Where and by whom an event was recorded: one entry of the case's timeline. */
export interface CaseEventEntry {
  readonly type: CaseEventType;
  readonly institution: string;
  readonly txHash: Uint8Array;
  readonly height: number;
  /** Position of the tx in its block. */
  readonly index: number;
  /** Block time, epoch ms. */
  readonly time: number;
}

export interface CaseState {
  readonly caseId: string;
  readonly status: CaseStatus;
  readonly opener: string;
  readonly respondent: string;
  /** The salted claimant commitment: never a name or ID number. */
  readonly claimant: Uint8Array;
  readonly mediator?: string | undefined;
  readonly court?: string | undefined;
  readonly sessions: number;
  readonly milestones: number;
  readonly agreementHash?: Uint8Array | undefined;
  readonly failReason?: FailReason | undefined;
  readonly decision?: Decision | undefined;
  readonly rulingHash?: Uint8Array | undefined;
  /** The case events in chain order (evidence referencing the case is indexed apart, by case id). */
  readonly events: readonly CaseEventEntry[];
}

export interface CaseContext {
  readonly chainId: string;
  /** The institution that signed the tx. */
  readonly signer: string;
  roleOf(institution: string): InstitutionRole | undefined;
  /** A client key in force, for the agreement's co-signature. */
  clientKey(institution: string, keyId: string): Uint8Array | undefined;
  /** An institution's registered X25519 encryption key, for the key wraps of a sealed record. */
  encryptionKey(institution: string): Uint8Array | undefined;
  /** The genesis requires sealed case records (cases.sealing = required, ADR 015). */
  readonly sealingRequired: boolean;
  /** The chain's suite (ADR 014): a co-signature is of it. Absent: Ed25519. */
  readonly suite?: CryptoSuite;
  readonly at: Omit<CaseEventEntry, 'type' | 'institution'>;
}

export type CaseVerdict =
  | { readonly ok: true; readonly state: CaseState }
  | { readonly ok: false; readonly code: TxErrorCode; readonly message: string };

/** Which roles may record each event at all. */
const ROLES: Record<CaseEventType, readonly InstitutionRole[]> = {
  open: ['bank', 'mediator'],
  assign: ['bank', 'mediator'],
  session: ['mediator'],
  agree: ['bank', 'mediator'],
  fail: ['mediator'],
  withdraw: ['bank', 'mediator'],
  applyConfirmation: ['bank', 'mediator'],
  decide: ['court'],
  milestone: ['bank', 'mediator'],
  close: ['bank', 'mediator'],
};

/** The states each event may follow (`open` follows none: it creates the case). */
const FROM: Record<CaseEventType, readonly CaseStatus[]> = {
  open: [],
  assign: ['opened'],
  session: ['assigned', 'mediating'],
  agree: ['assigned', 'mediating'],
  fail: ['assigned', 'mediating'],
  withdraw: ['opened', 'assigned', 'mediating'],
  applyConfirmation: ['agreed'],
  decide: ['confirmationApplied'],
  milestone: ['agreed', 'confirmationApplied', 'confirmed'],
  close: ['agreed', 'confirmed', 'refused', 'failed', 'withdrawn'],
};

const refuse = (code: TxErrorCode, message: string): CaseVerdict => ({ ok: false, code, message });

/** Judges `record` against the case's state (undefined: no such case yet) and returns the next state. */
export function applyCaseEvent(
  prev: CaseState | undefined,
  record: CaseRecord,
  ctx: CaseContext,
): CaseVerdict {
  const { caseId, event } = record;
  if (ctx.sealingRequired) {
    const unsealed = checkSealed(record);
    if (unsealed !== undefined) return refuse(TxErrorCode.caseUnsealed, unsealed);
  }
  if (event.type === 'open' && prev !== undefined)
    return refuse(TxErrorCode.caseExists, `case ${caseId} is already open`);
  if (event.type !== 'open' && prev === undefined)
    return refuse(TxErrorCode.caseUnknown, `no case ${caseId}`);
  const role = ctx.roleOf(ctx.signer);
  if (role === undefined || !ROLES[event.type].includes(role)) {
    return refuse(
      TxErrorCode.caseWrongRole,
      `${event.type} is recorded by a ${ROLES[event.type].join(' or ')}; ${ctx.signer} is a ${role ?? 'stranger'}`,
    );
  }
  const notParty = checkParty(prev, event, ctx.signer, role);
  if (notParty !== undefined) return refuse(TxErrorCode.caseNotParty, notParty);
  if (prev !== undefined && !FROM[event.type].includes(prev.status)) {
    return refuse(
      TxErrorCode.caseIllegalTransition,
      `case ${caseId} is ${prev.status}: ${event.type} may follow only ${FROM[event.type].join(', ')}`,
    );
  }
  if (prev !== undefined && prev.events.length >= Limits.caseEvents)
    return refuse(TxErrorCode.caseFull, `case ${caseId} already has ${Limits.caseEvents} events`);
  const bad = checkContent(prev, record, ctx);
  if (bad !== undefined) return bad;
  const state = next(prev, record, ctx);
  return checkWraps(prev, state, record, ctx) ?? { ok: true, state };
}

/** Whether the signer takes part in the case in a way that lets it record this event. */
function checkParty(
  c: CaseState | undefined,
  e: CaseEvent,
  signer: string,
  role: InstitutionRole,
): string | undefined {
  const is = (...who: (string | undefined)[]) => who.includes(signer);
  switch (e.type) {
    case 'open':
      return role === 'bank' && e.respondent !== signer
        ? `a bank opens cases only against itself; the respondent is ${e.respondent}`
        : undefined;
    case 'assign':
      if (role === 'bank' && c!.respondent !== signer) return `${signer} is not the respondent bank`;
      return role === 'mediator' && e.mediator !== signer
        ? 'a mediation organisation assigns a case only to itself'
        : undefined;
    case 'session':
    case 'fail':
      return is(c!.mediator) ? undefined : `${signer} does not mediate case ${c!.caseId}`;
    case 'agree':
    case 'applyConfirmation':
    case 'milestone':
      return is(c!.mediator, c!.respondent) ? undefined : `${signer} is not the mediator or the respondent`;
    case 'withdraw':
    case 'close':
      return is(c!.opener, c!.mediator, c!.respondent) ? undefined : `${signer} is not a party to the case`;
    case 'decide':
      return is(c!.court) ? undefined : `the confirmation was applied for at ${c!.court}, not ${signer}`;
  }
}

/** Sequence numbers, the roles of named institutions, and the agreement's co-signature. */
function checkContent(c: CaseState | undefined, r: CaseRecord, ctx: CaseContext): CaseVerdict | undefined {
  const e = r.event;
  const last = c?.events[c.events.length - 1];
  if (last !== undefined && !equalBytes(last.txHash, r.prev!)) {
    return refuse(
      TxErrorCode.caseOutOfOrder,
      `the last event of case ${r.caseId} is tx ${toHex(last.txHash)}; this one follows ${toHex(r.prev!)}`,
    );
  }
  const named = (inst: string, role: InstitutionRole) =>
    ctx.roleOf(inst) === role
      ? undefined
      : refuse(TxErrorCode.caseInvalidParty, `${inst} is not a registered ${role}`);
  switch (e.type) {
    case 'open':
      return named(e.respondent, 'bank');
    case 'assign':
      return named(e.mediator, 'mediator');
    case 'applyConfirmation':
      return named(e.court, 'court');
    case 'session':
    case 'milestone': {
      const expected = (e.type === 'session' ? c!.sessions : c!.milestones) + 1;
      return e.seq === expected
        ? undefined
        : refuse(
            TxErrorCode.caseOutOfOrder,
            `${e.type} ${e.seq} recorded where ${e.type} ${expected} is next`,
          );
    }
    case 'agree':
      return checkCoSignature(c!, r.caseId, e, ctx);
    default:
      return undefined;
  }
}

/** An agreement binds both the mediator and the respondent bank: the signer is one, the co-signer the other. */
function checkCoSignature(
  c: CaseState,
  caseId: string,
  e: Extract<CaseEvent, { type: 'agree' }>,
  ctx: CaseContext,
): CaseVerdict | undefined {
  const other = ctx.signer === c.mediator ? c.respondent : c.mediator!;
  const co = e.coSignature;
  if (co === undefined || co.institution !== other) {
    return refuse(
      TxErrorCode.caseMissingParty,
      `an agreement is signed by both the mediator and the respondent bank: the co-signature of ${other} is ${co === undefined ? 'missing' : `not there (${co.institution} signed)`}`,
    );
  }
  const key = ctx.clientKey(co.institution, co.keyId);
  const body = agreementSigningBody(ctx.chainId, caseId, e.agreementHash);
  const suite = ctx.suite ?? ED25519_SHA256;
  if (key === undefined || !suite.verify(key, Domain.caseAgreement, body, co.signature)) {
    return refuse(
      TxErrorCode.caseBadCoSignature,
      `the co-signature of ${co.institution}/${co.keyId} does not verify over the agreement`,
    );
  }
  return undefined;
}

/**
 * Under mandatory sealing (ADR 015) a case is named only by its keyed reference, and its open event carries
 * the sealed details (the id in clear, encrypted under the case key). The key wraps are then checked on every
 * event (checkWraps), not only on records that happen to carry them.
 */
function checkSealed(r: CaseRecord): string | undefined {
  if (!isCaseRef(r.caseId))
    return 'this chain requires sealed cases: name the case by its k1: reference (a case-key store seals it)';
  if (r.event.type === 'open' && r.sealed === undefined)
    return 'this chain requires sealed cases: an open carries the sealed case details';
  return undefined;
}

/** The parties of a case: whoever may read it, and so needs the case key. */
function partiesOf(c: CaseState | undefined): Set<string> {
  if (c === undefined) return new Set();
  return new Set([c.opener, c.respondent, c.mediator, c.court].filter((x) => x !== undefined));
}

/**
 * A sealed record wraps the case key for each party the event adds, to that party's registered encryption key
 * (ADR 011); it may re-wrap for an existing party (after a key rotation), never for anyone else. Validators
 * check this without learning the key.
 */
function checkWraps(
  prev: CaseState | undefined,
  state: CaseState,
  r: CaseRecord,
  ctx: CaseContext,
): CaseVerdict | undefined {
  if (!ctx.sealingRequired && r.sealed === undefined && r.wraps === undefined) return undefined;
  const parties = partiesOf(state);
  const wrapped = new Set<string>();
  for (const w of r.wraps ?? []) {
    if (!parties.has(w.institution))
      return refuse(TxErrorCode.caseBadWrap, `${w.institution} is not a party of case ${r.caseId}`);
    const key = ctx.encryptionKey(w.institution);
    if (key === undefined || !equalBytes(key, w.recipient))
      return refuse(
        TxErrorCode.caseBadWrap,
        `the wrap for ${w.institution} is not to its registered encryption key`,
      );
    wrapped.add(w.institution);
  }
  const before = partiesOf(prev);
  for (const p of parties) {
    if (!before.has(p) && !wrapped.has(p))
      return refuse(
        TxErrorCode.caseBadWrap,
        `the event makes ${p} a party but carries no case key wrap for it`,
      );
  }
  return undefined;
}

/** The state after a valid event. */
function next(prev: CaseState | undefined, r: CaseRecord, ctx: CaseContext): CaseState {
  const e = r.event;
  const entry: CaseEventEntry = { type: e.type, institution: ctx.signer, ...ctx.at };
  if (e.type === 'open') {
    return {
      caseId: r.caseId,
      status: 'opened',
      opener: ctx.signer,
      respondent: e.respondent,
      claimant: e.claimant,
      sessions: 0,
      milestones: 0,
      events: [entry],
    };
  }
  const c = { ...prev!, events: [...prev!.events, entry] };
  switch (e.type) {
    case 'assign':
      return { ...c, status: 'assigned', mediator: e.mediator };
    case 'session':
      return { ...c, status: 'mediating', sessions: e.seq };
    case 'agree':
      return { ...c, status: 'agreed', agreementHash: e.agreementHash };
    case 'fail':
      return { ...c, status: 'failed', failReason: e.reason };
    case 'withdraw':
      return { ...c, status: 'withdrawn' };
    case 'applyConfirmation':
      return { ...c, status: 'confirmationApplied', court: e.court };
    case 'decide':
      return { ...c, status: e.decision, decision: e.decision, rulingHash: e.rulingHash };
    case 'milestone':
      return { ...c, milestones: e.seq };
    case 'close':
      return { ...c, status: 'closed' };
  }
}
