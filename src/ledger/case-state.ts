/**
 * The stored form of a case's state (src/ledger/case-machine.ts): one record per case, rewritten in the atomic
 * write of each block that records an event of the case. Values use the core codec and start with a version.
 */
import {
  CaseEvents,
  type CaseEventType,
  type Decision,
  Decisions,
  type FailReason,
  FailReasons,
} from '../core/case.ts';
import { decodeExact, expectVersion, invalidField, type Reader, Writer } from '../core/codec.ts';
import { HASH_LENGTH } from '../core/crypto.ts';
import { InvariantError } from '../core/errors.ts';
import { Limits } from '../core/limits.ts';
import { type CaseEventEntry, type CaseState, type CaseStatus, CaseStatuses } from './case-machine.ts';

const CASE_STATE_VERSION = 1;
const MAX_BYTES = 64 * 1024;

function codeOf<T extends string>(table: Record<T, number>, v: T): number {
  return table[v];
}

function nameOf<T extends string>(table: Record<T, number>, code: number, what: string): T {
  for (const [k, v] of Object.entries(table) as [T, number][]) if (v === code) return k;
  throw invalidField(`unknown ${what} ${code}`);
}

export function encodeCaseState(c: CaseState): Uint8Array {
  const w = new Writer(256 + c.events.length * 64);
  const id = (w: Writer, v: string) => w.string(v);
  const hash = (w: Writer, h: Uint8Array) => w.fixed(h, HASH_LENGTH);
  w.u8(CASE_STATE_VERSION)
    .string(c.caseId)
    .u8(CaseStatuses.indexOf(c.status))
    .string(c.opener)
    .string(c.respondent)
    .fixed(c.claimant, HASH_LENGTH)
    .optional(c.mediator, id)
    .optional(c.court, id)
    .varint(c.sessions)
    .varint(c.milestones)
    .optional(c.agreementHash, hash)
    .optional(c.failReason, (w, v) => w.u8(codeOf(FailReasons, v)))
    .optional(c.decision, (w, v) => w.u8(codeOf(Decisions, v)))
    .optional(c.rulingHash, hash)
    .varint(c.events.length);
  for (const e of c.events) {
    w.u8(CaseEvents[e.type]).string(e.institution).fixed(e.txHash, HASH_LENGTH);
    w.varint(e.height).varint(e.index).varint(e.time);
  }
  return w.finish();
}

function readEntry(r: Reader): CaseEventEntry {
  return {
    type: nameOf<CaseEventType>(CaseEvents, r.u8('event'), 'case event'),
    institution: r.string(Limits.institutionIdBytes, 'institution'),
    txHash: r.fixed(HASH_LENGTH, 'tx hash'),
    height: r.varint('height'),
    index: r.varint('index'),
    time: r.varint('time'),
  };
}

function readState(r: Reader): CaseState {
  expectVersion(r, CASE_STATE_VERSION, 'case state');
  const id = () => r.string(Limits.institutionIdBytes, 'institution');
  const hash = () => r.fixed(HASH_LENGTH, 'hash');
  const caseId = r.string(Limits.caseIdBytes, 'case id');
  const status: CaseStatus | undefined = CaseStatuses[r.u8('status')];
  if (status === undefined) throw invalidField('unknown case status');
  const c = {
    caseId,
    status,
    opener: id(),
    respondent: id(),
    claimant: hash(),
    mediator: r.optional(id),
    court: r.optional(id),
    sessions: r.varint('sessions'),
    milestones: r.varint('milestones'),
    agreementHash: r.optional(hash),
    failReason: r.optional(() => nameOf<FailReason>(FailReasons, r.u8(), 'fail reason')),
    decision: r.optional(() => nameOf<Decision>(Decisions, r.u8(), 'decision')),
    rulingHash: r.optional(hash),
    events: [] as CaseEventEntry[],
  };
  const n = r.varintIn(1, Limits.caseEvents, 'events');
  for (let i = 0; i < n; i++) c.events.push(readEntry(r));
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete (c as Record<string, unknown>)[k];
  return c;
}

/** Decodes a stored case state; a store holding an unreadable one is corrupt (InvariantError). */
export function decodeCaseState(bytes: Uint8Array): CaseState {
  try {
    return decodeExact(bytes, MAX_BYTES, 'case state', readState);
  } catch (err) {
    throw new InvariantError(`stored case state does not decode: ${(err as Error).message}`);
  }
}
