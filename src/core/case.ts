/**
 * The case record: the payload of a `case` tx, one event in the life of a dispute case (docs/cases.md has the
 * state machine and the byte layout). This module only encodes, strictly; the ledger judges events against the
 * case's state and the institutions' roles (src/ledger/case-machine.ts).
 *
 * Claimants never appear in clear: a case names its claimant only by a commitment, which the parties can open
 * to a court off-chain. A sealed record (version 2, ADR 011) names its case by a keyed case reference, carries
 * its case id and notes only encrypted under the case key, and the case key wrapped for the parties it adds.
 */
import { utf8 } from './bytes.ts';
import { isCaseRef, WRAPPED_KEY_LENGTH, X25519_KEY_LENGTH } from './case-ref.ts';
import { CodecError, CodecErrorCode, decodeExact, invalidField, type Reader, Writer } from './codec.ts';
import { Domain, HASH_LENGTH, SIGNATURE_LENGTH, taggedHash } from './crypto.ts';
import { CASE_ID_PATTERN, ID_PATTERN, Limits } from './limits.ts';

export const CASE_VERSION = 1;
/** A sealed record: version 1's fields, then the sealed details and the key wraps (ADR 011). */
export const SEALED_CASE_VERSION = 2;
/** Most key wraps one event carries (open: opener and respondent; assign: the mediator; ...). */
export const MAX_CASE_WRAPS = 4;
/** Largest sealed details of one event, in bytes. */
export const MAX_SEALED_BYTES = 2048;

/** Case events and their wire codes. */
export const CaseEvents = {
  open: 1,
  assign: 2,
  session: 3,
  agree: 4,
  fail: 5,
  withdraw: 6,
  applyConfirmation: 7,
  decide: 8,
  milestone: 9,
  close: 10,
} as const;
export type CaseEventType = keyof typeof CaseEvents;
const eventByCode = new Map<number, CaseEventType>(
  Object.entries(CaseEvents).map(([k, v]) => [v, k as CaseEventType] as const),
);

/** Why mediation failed. */
export const FailReasons = {
  respondentRefused: 1,
  claimantRefused: 2,
  noAgreement: 3,
  unreachable: 4,
  other: 5,
} as const;
export type FailReason = keyof typeof FailReasons;

/** The court's decision on an application for judicial confirmation. */
export const Decisions = { confirmed: 1, refused: 2 } as const;
export type Decision = keyof typeof Decisions;

/** What a performance milestone records. */
export const MilestoneKinds = { instalmentRepaid: 1, fullyPerformed: 2, other: 3 } as const;
export type MilestoneKind = keyof typeof MilestoneKinds;

/** The other party's signature over an agreement, carried in the agreement tx beside the signer's own. */
export interface CoSignature {
  institution: string;
  keyId: string;
  signature: Uint8Array;
}

export type CaseEvent =
  | { type: 'open'; respondent: string; claimant: Uint8Array }
  | { type: 'assign'; mediator: string }
  | { type: 'session'; seq: number; minutesHash?: Uint8Array | undefined }
  | { type: 'agree'; agreementHash: Uint8Array; coSignature?: CoSignature | undefined }
  | { type: 'fail'; reason: FailReason }
  | { type: 'withdraw' }
  | { type: 'applyConfirmation'; court: string }
  | { type: 'decide'; decision: Decision; rulingHash: Uint8Array }
  | { type: 'milestone'; seq: number; kind: MilestoneKind; documentHash?: Uint8Array | undefined }
  | { type: 'close' };

/** The case key wrapped for one party institution, to its registered X25519 encryption key. */
export interface CaseKeyWrap {
  institution: string;
  /** The recipient's X25519 public key the wrap was made to (its registered encryption key). */
  recipient: Uint8Array;
  /** case-seal.ts wrapCaseKey: ephemeral public key ‖ ciphertext ‖ tag. */
  wrapped: Uint8Array;
}

export interface CaseRecord {
  /** The case id, or in a sealed record the case reference (`k1:` ‖ 64 hex digits, case-seal.ts caseRef). */
  caseId: string;
  /**
   * The tx hash of the case's previous event; absent only for `open`. The events of a case form a hash chain,
   * so a case receipt that leaves out an event breaks it (docs/cases.md#case-receipts).
   */
  prev?: Uint8Array | undefined;
  event: CaseEvent;
  /** Sealed details (case-seal.ts sealText of case-details.ts): present only in a sealed record. */
  sealed?: Uint8Array | undefined;
  /** Key wraps for the parties this event adds: present only in a sealed record. */
  wraps?: CaseKeyWrap[] | undefined;
}

/** Whether the record uses the sealed encoding (version 2). */
export function isSealedCase(c: CaseRecord): boolean {
  return c.sealed !== undefined || c.wraps !== undefined;
}

const SALT_MIN_BYTES = 16;

/**
 * The claimant commitment: tagged SHA-256 over a random salt (at least 16 bytes) and the claimant's reference
 * (e.g. an ID number). Without the salt, nobody can test guesses of the reference against it.
 */
export function claimantCommitment(salt: Uint8Array, claimantRef: string): Uint8Array {
  if (salt.length < SALT_MIN_BYTES) throw invalidField(`salt must be at least ${SALT_MIN_BYTES} bytes`);
  const ref = utf8.encode(claimantRef);
  return taggedHash(Domain.claimant, new Writer(64 + ref.length).bytes(salt).bytes(ref).finish());
}

/** The bytes both parties sign for an agreement: chain, case and the agreement document's hash. */
export function agreementSigningBody(chainId: string, caseId: string, agreementHash: Uint8Array): Uint8Array {
  return new Writer(256).string(chainId).string(caseId).fixed(agreementHash, HASH_LENGTH).finish();
}

function checkId(v: string, what: string): void {
  if (typeof v !== 'string' || !ID_PATTERN.test(v)) throw invalidField(`${what} must match ${ID_PATTERN}`);
}

function checkHash(h: Uint8Array | undefined, what: string): void {
  if (h !== undefined && (!(h instanceof Uint8Array) || h.length !== HASH_LENGTH))
    throw invalidField(`${what} must be a ${HASH_LENGTH}-byte hash`);
}

function checkSeq(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > Limits.caseEvents)
    throw invalidField(`sequence number must be 1..${Limits.caseEvents}`);
}

function checkEnum(table: object, v: string, what: string): void {
  if (!Object.hasOwn(table, v)) throw invalidField(`unknown ${what} ${String(v)}`);
}

/** Schema checks shared by encoding and decoding. */
export function validateCase(c: CaseRecord): void {
  if (typeof c.caseId !== 'string' || !CASE_ID_PATTERN.test(c.caseId))
    throw invalidField(
      'case id must be 1-128 characters of A-Z a-z 0-9 . _ : / # - starting with a letter or digit',
    );
  if (c.event.type === 'open' && c.prev !== undefined)
    throw invalidField('an open event has no previous event');
  if (c.event.type !== 'open' && (!(c.prev instanceof Uint8Array) || c.prev.length !== HASH_LENGTH))
    throw invalidField(`a ${c.event.type} event names the previous event's ${HASH_LENGTH}-byte tx hash`);
  validateEvent(c.event);
  if (isSealedCase(c)) validateSealed(c);
}

function validateSealed(c: CaseRecord): void {
  if (!isCaseRef(c.caseId)) throw invalidField('a sealed case record names its case by a k1: case reference');
  if (c.sealed !== undefined && (!(c.sealed instanceof Uint8Array) || c.sealed.length > MAX_SEALED_BYTES))
    throw invalidField(`sealed details must be at most ${MAX_SEALED_BYTES} bytes`);
  const wraps = c.wraps ?? [];
  if (!Array.isArray(wraps) || wraps.length > MAX_CASE_WRAPS)
    throw invalidField(`at most ${MAX_CASE_WRAPS} key wraps`);
  const seen = new Set<string>();
  for (const w of wraps) {
    checkId(w.institution, 'wrap institution');
    if (seen.has(w.institution)) throw invalidField(`two key wraps for ${w.institution}`);
    seen.add(w.institution);
    if (!(w.recipient instanceof Uint8Array) || w.recipient.length !== X25519_KEY_LENGTH)
      throw invalidField(`a wrap's recipient key must be ${X25519_KEY_LENGTH} bytes`);
    if (!(w.wrapped instanceof Uint8Array) || w.wrapped.length !== WRAPPED_KEY_LENGTH)
      throw invalidField(`a wrapped key must be ${WRAPPED_KEY_LENGTH} bytes`);
  }
}

function validateEvent(e: CaseEvent): void {
  switch (e.type) {
    case 'open':
      checkId(e.respondent, 'respondent');
      if (!(e.claimant instanceof Uint8Array) || e.claimant.length !== HASH_LENGTH)
        throw invalidField(`claimant commitment must be ${HASH_LENGTH} bytes`);
      break;
    case 'assign':
      checkId(e.mediator, 'mediator');
      break;
    case 'session':
      checkSeq(e.seq);
      checkHash(e.minutesHash, 'minutes hash');
      break;
    case 'agree':
      if (e.agreementHash === undefined) throw invalidField('agreement hash is required');
      checkHash(e.agreementHash, 'agreement hash');
      if (e.coSignature !== undefined) checkCoSignature(e.coSignature);
      break;
    case 'fail':
      checkEnum(FailReasons, e.reason, 'fail reason');
      break;
    case 'withdraw':
    case 'close':
      break;
    case 'applyConfirmation':
      checkId(e.court, 'court');
      break;
    case 'decide':
      checkEnum(Decisions, e.decision, 'decision');
      if (e.rulingHash === undefined) throw invalidField('ruling hash is required');
      checkHash(e.rulingHash, 'ruling hash');
      break;
    case 'milestone':
      checkSeq(e.seq);
      checkEnum(MilestoneKinds, e.kind, 'milestone kind');
      checkHash(e.documentHash, 'document hash');
      break;
    default:
      throw invalidField(`unknown case event ${String((e as { type: unknown }).type)}`);
  }
}

function checkCoSignature(s: CoSignature): void {
  checkId(s.institution, 'co-signer institution');
  checkId(s.keyId, 'co-signer key id');
  if (!(s.signature instanceof Uint8Array) || s.signature.length !== SIGNATURE_LENGTH)
    throw invalidField(`co-signature must be ${SIGNATURE_LENGTH} bytes`);
}

function writeEvent(w: Writer, e: CaseEvent): void {
  const hash = (w: Writer, h: Uint8Array) => w.fixed(h, HASH_LENGTH);
  switch (e.type) {
    case 'open':
      w.string(e.respondent).fixed(e.claimant, HASH_LENGTH);
      return;
    case 'assign':
      w.string(e.mediator);
      return;
    case 'session':
      w.varint(e.seq).optional(e.minutesHash, hash);
      return;
    case 'agree':
      w.fixed(e.agreementHash, HASH_LENGTH).optional(e.coSignature, (w, s) =>
        w.string(s.institution).string(s.keyId).fixed(s.signature, SIGNATURE_LENGTH),
      );
      return;
    case 'fail':
      w.u8(FailReasons[e.reason]);
      return;
    case 'applyConfirmation':
      w.string(e.court);
      return;
    case 'decide':
      w.u8(Decisions[e.decision]).fixed(e.rulingHash, HASH_LENGTH);
      return;
    case 'milestone':
      w.varint(e.seq).u8(MilestoneKinds[e.kind]).optional(e.documentHash, hash);
      return;
    case 'withdraw':
    case 'close':
      return;
  }
}

function byCode<T extends string>(table: Record<T, number>, code: number, what: string): T {
  for (const [k, v] of Object.entries(table) as [T, number][]) if (v === code) return k;
  throw new CodecError(CodecErrorCode.unknownType, `unknown ${what} code ${code}`);
}

function readEvent(r: Reader, type: CaseEventType): CaseEvent {
  const id = (what: string) => r.string(Limits.institutionIdBytes, what);
  const hash = (what: string) => r.fixed(HASH_LENGTH, what);
  switch (type) {
    case 'open':
      return { type, respondent: id('respondent'), claimant: hash('claimant commitment') };
    case 'assign':
      return { type, mediator: id('mediator') };
    case 'session':
      return { type, seq: r.varint('session'), minutesHash: r.optional(() => hash('minutes hash')) };
    case 'agree':
      return {
        type,
        agreementHash: hash('agreement hash'),
        coSignature: r.optional(() => ({
          institution: id('co-signer institution'),
          keyId: r.string(Limits.keyIdBytes, 'co-signer key id'),
          signature: r.fixed(SIGNATURE_LENGTH, 'co-signature'),
        })),
      };
    case 'fail':
      return { type, reason: byCode(FailReasons, r.u8('fail reason'), 'fail reason') };
    case 'applyConfirmation':
      return { type, court: id('court') };
    case 'decide':
      return {
        type,
        decision: byCode(Decisions, r.u8('decision'), 'decision'),
        rulingHash: hash('ruling hash'),
      };
    case 'milestone':
      return {
        type,
        seq: r.varint('milestone'),
        kind: byCode(MilestoneKinds, r.u8('milestone kind'), 'milestone kind'),
        documentHash: r.optional(() => hash('document hash')),
      };
    case 'withdraw':
    case 'close':
      return { type };
  }
}

export function writeCase(w: Writer, c: CaseRecord): void {
  validateCase(c);
  const sealed = isSealedCase(c);
  w.u8(sealed ? SEALED_CASE_VERSION : CASE_VERSION)
    .string(c.caseId)
    .u8(CaseEvents[c.event.type]);
  if (c.prev !== undefined) w.fixed(c.prev, HASH_LENGTH);
  writeEvent(w, c.event);
  if (!sealed) return;
  w.optional(c.sealed, (w, b) => w.bytes(b)).varint(c.wraps?.length ?? 0);
  for (const x of c.wraps ?? [])
    w.string(x.institution).fixed(x.recipient, X25519_KEY_LENGTH).fixed(x.wrapped, WRAPPED_KEY_LENGTH);
}

function readSealedPart(r: Reader): Pick<CaseRecord, 'sealed' | 'wraps'> {
  const sealed = r.optional(() => r.bytes(MAX_SEALED_BYTES, 'sealed details'));
  const n = r.varintIn(0, MAX_CASE_WRAPS, 'key wraps');
  const wraps: CaseKeyWrap[] = [];
  for (let i = 0; i < n; i++) {
    wraps.push({
      institution: r.string(Limits.institutionIdBytes, 'wrap institution'),
      recipient: r.fixed(X25519_KEY_LENGTH, 'wrap recipient'),
      wrapped: r.fixed(WRAPPED_KEY_LENGTH, 'wrapped key'),
    });
  }
  return sealed === undefined ? { wraps } : { sealed, wraps };
}

export function readCase(r: Reader): CaseRecord {
  const version = r.u8('case record version');
  if (version !== CASE_VERSION && version !== SEALED_CASE_VERSION)
    throw new CodecError(CodecErrorCode.unknownVersion, `unknown case record version ${version}`);
  const caseId = r.string(Limits.caseIdBytes, 'case id');
  const code = r.u8('case event');
  const type = eventByCode.get(code);
  if (type === undefined) throw new CodecError(CodecErrorCode.unknownType, `unknown case event code ${code}`);
  const prev = type === 'open' ? undefined : r.fixed(HASH_LENGTH, 'previous event');
  const event = readEvent(r, type);
  // Absent optionals decode as undefined; drop them so a decoded record equals the one encoded.
  for (const [k, v] of Object.entries(event))
    if (v === undefined) delete (event as Record<string, unknown>)[k];
  const c: CaseRecord = prev === undefined ? { caseId, event } : { caseId, prev, event };
  if (version === SEALED_CASE_VERSION) Object.assign(c, readSealedPart(r));
  validateCase(c);
  return c;
}

export function encodeCase(c: CaseRecord): Uint8Array {
  const w = new Writer(256);
  writeCase(w, c);
  return w.finish();
}

export function decodeCase(bytes: Uint8Array): CaseRecord {
  return decodeExact(bytes, Limits.txPayloadBytes, 'case record', readCase);
}
