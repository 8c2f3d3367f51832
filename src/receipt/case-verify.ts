/**
 * The offline verifier of case receipts (docs/cases.md#case-receipts). Like `verifyReceipt` it checks, against
 * the genesis the caller trusts, in order, stopping at the first failure and never throwing:
 * - format, genesis: the document and its chain;
 * - events: each event's header, validator set (of the registry the governance txs give at its height),
 *   commit certificate, tx (a case tx), its signature under a client key in force, and inclusion proof;
 * - timeline: the events are in chain order, all of this case, each linked to the one before, and the case
 *   state machine accepts them in turn, with the roles in force at each event's block;
 * - summary: the human-readable summary equals the state the events replay to.
 * A receipt proves the timeline up to its last event; later events are not ruled out.
 */
import type { BlockHeader } from '../core/block.ts';
import { decodeCase } from '../core/case.ts';
import { type Genesis, genesisHash, genesisSuite, sealingRequired } from '../core/genesis.ts';
import type { TxEnvelope } from '../core/tx.ts';
import { applyCaseEvent, type CaseState } from '../ledger/case-machine.ts';
import type { GovernanceState } from '../ledger/governance-state.ts';
import {
  checkCertificate,
  checkGenesis,
  checkHeader,
  checkInclusion,
  checkSignature,
  checkTx,
  checkValidatorSet,
} from './block-checks.ts';
import { CASE_RECEIPT_FORMAT, CASE_RECEIPT_FORMAT_V1, caseSummaryOf } from './case-receipt.ts';
import { type CheckOutcome, type CheckResult, CheckRun, evaluate, passed, reject } from './check.ts';
import { ReceiptFailureCode as Failure } from './errors.ts';
import { sameJson } from './evidence-checks.ts';
import { listField, objectField } from './format.ts';
import { checkGovernance } from './governance.ts';

export const CaseReceiptCheck = {
  format: 'format',
  genesis: 'genesis',
  events: 'events',
  timeline: 'timeline',
  summary: 'summary',
} as const;
export type CaseReceiptCheck = (typeof CaseReceiptCheck)[keyof typeof CaseReceiptCheck];

export interface CaseReceiptVerification {
  ok: boolean;
  checks: CheckOutcome<CaseReceiptCheck>[];
  /** The case as the events replay to; set when ok. */
  state?: CaseState;
}

/** One event, proven committed: its tx, block header and the registry in force there. */
interface ProvenEvent {
  env: TxEnvelope;
  header: BlockHeader;
  leafIndex: number;
  registry: GovernanceState;
}

type Claimed = Record<string, unknown> & { events: unknown[]; governance: unknown[] };

function checkCaseFormat(doc: unknown): CheckResult<Claimed> {
  return evaluate(() => {
    const d = objectField(doc, 'case receipt');
    if (d.format !== CASE_RECEIPT_FORMAT && d.format !== CASE_RECEIPT_FORMAT_V1)
      reject(Failure.unknownFormat, `format is neither ${CASE_RECEIPT_FORMAT} nor ${CASE_RECEIPT_FORMAT_V1}`);
    for (const k of ['chainId', 'genesisHash', 'caseId', 'governance', 'events', 'summary'])
      if (!(k in d)) reject(Failure.malformed, `missing ${k}`);
    const events = listField(d.events, 'events');
    const governance = listField(d.governance, 'governance');
    if (events.length === 0) reject(Failure.malformed, 'a case receipt lists at least one event');
    return passed({ ...d, events, governance }, `${d.format}, ${events.length} event(s)`);
  });
}

/** Each event's block, certificate, tx, signature and inclusion, as an evidence receipt checks them. */
function checkEvents(g: Genesis, r: Claimed, binding: Uint8Array | null): CheckResult<ProvenEvent[]> {
  const suite = genesisSuite(g);
  const out: ProvenEvent[] = [];
  for (const [i, raw] of r.events.entries()) {
    const at = `events[${i}]`;
    const e = evaluate(() => passed(objectField(raw, at), at));
    if (e.status === 'fail') return e;
    const ev = e.value;
    const header = checkHeader(ev.block, g, `${at}.block`);
    if (header.status === 'fail') return header;
    const h = header.value;
    // Governance blocks below this event's block give the registry in force at it.
    const below = r.governance.filter(
      (b) =>
        typeof (b as { height?: unknown } | null)?.height === 'number' &&
        (b as { height: number }).height < h.height,
    );
    const gov = checkGovernance(g, below, h.height, binding);
    if (gov.status === 'fail') return gov;
    const state = gov.value.state;
    const set = checkValidatorSet(ev.validatorSet, h, state.epochAt(h.height), `${at}.validatorSet`, suite);
    if (set.status === 'fail') return set;
    const cert = checkCertificate(ev.certificate, h, set.value, binding, `${at}.certificate`, suite);
    if (cert.status === 'fail') return cert;
    const tx = checkTx(ev.tx, ev.txHash, g, 'case', `${at}.tx`);
    if (tx.status === 'fail') return tx;
    const sig = checkSignature(tx.value, { state, txs: gov.value.txs, height: h.height }, suite);
    if (sig.status === 'fail') return sig;
    const inc = checkInclusion(tx.value, ev.inclusion, h, `${at}.inclusion`, suite);
    if (inc.status === 'fail') return inc;
    out.push({ env: tx.value, header: h, leafIndex: inc.value.leafIndex, registry: state });
  }
  // Every governance block listed must replay, below the last event's block: none is ignored.
  const all = checkGovernance(g, r.governance, Math.max(...out.map((e) => e.header.height)), binding);
  if (all.status === 'fail') return all;
  return passed(out, `${out.length} event(s) committed, certified and signed`);
}

/** Chain order, one case, the hash chain of `prev` links, and the state machine's verdict on each event. */
function checkTimeline(g: Genesis, caseId: unknown, events: ProvenEvent[]): CheckResult<CaseState> {
  return evaluate(() => {
    events.forEach((e, i) => {
      const before = events[i - 1];
      if (before === undefined) return;
      const [h, x] = [e.header.height, e.leafIndex];
      if (h < before.header.height || (h === before.header.height && x <= before.leafIndex))
        reject(Failure.outOfOrder, `events[${i}] (block ${h}/${x}) does not come after the one before`);
    });
    let state: CaseState | undefined;
    for (const [i, e] of events.entries()) {
      const at = { height: e.header.height, index: e.leafIndex };
      const record = decodeCase(e.env.tx.payload);
      if (record.caseId !== caseId)
        reject(Failure.caseTimeline, `events[${i}] is an event of case ${record.caseId}`);
      if (i === 0 && record.event.type !== 'open')
        reject(Failure.caseTimeline, 'the first event does not open the case');
      const verdict = applyCaseEvent(state, record, {
        chainId: g.chainId,
        signer: e.env.tx.institution,
        roleOf: (inst) => e.registry.roleOf(inst),
        clientKey: (inst, keyId) => e.registry.clientKeys().get(inst)?.get(keyId),
        encryptionKey: (inst) => e.registry.encryptionKeyOf(inst),
        sealingRequired: sealingRequired(g),
        suite: genesisSuite(g),
        at: { txHash: e.env.hash, height: at.height, index: at.index, time: e.header.time },
      });
      if (!verdict.ok)
        reject(
          Failure.caseTimeline,
          `events[${i}] (${record.event.type}): ${verdict.code}: ${verdict.message}`,
        );
      state = verdict.state;
    }
    const s = state!;
    return passed(s, `${events.length} event(s) replay to status ${s.status}, each linked to the one before`);
  });
}

/** Checks a case receipt against the genesis, offline. Never throws on bad input. */
export function verifyCaseReceipt(doc: unknown, genesis: Genesis): CaseReceiptVerification {
  const C = CaseReceiptCheck;
  const run = new CheckRun<CaseReceiptCheck>();
  const fail = () => ({ ok: false, checks: run.outcomes });
  const format = checkCaseFormat(doc);
  if (!run.record(C.format, format)) return fail();
  const r = format.value;
  // v2 certificates sign the genesis hash (ADR 010); v1 ones sign the chain id alone.
  const binding = r.format === CASE_RECEIPT_FORMAT ? genesisHash(genesis) : null;
  const claim = { chainId: r.chainId, genesisHash: r.genesisHash, cryptoSuite: r.cryptoSuite };
  if (!run.record(C.genesis, checkGenesis(claim, genesis, binding !== null))) return fail();
  const events = checkEvents(genesis, r, binding);
  if (!run.record(C.events, events)) return fail();
  const timeline = checkTimeline(genesis, r.caseId, events.value);
  if (!run.record(C.timeline, timeline)) return fail();
  const summary = evaluate(() => {
    if (!sameJson(r.summary, caseSummaryOf(timeline.value)))
      reject(Failure.summaryMismatch, 'summary does not match the replayed events');
    return passed(undefined, 'human-readable summary matches the replayed events');
  });
  if (!run.record(C.summary, summary)) return fail();
  return { ok: true, checks: run.outcomes, state: timeline.value };
}
