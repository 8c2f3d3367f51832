/**
 * What the rules for hash renewals and audit heads read from the committed ledger before a batch is judged
 * (LedgerChain#judge): gathered once per batch, so the rules themselves stay pure (rules.ts).
 */
import { decodeAuditHead } from '../core/audit-head.ts';
import { toHex } from '../core/bytes.ts';
import { decodeHashRenewal } from '../core/hash-renewal.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { TxRecord } from './records.ts';
import type { HashRenewalFacts, RequestFacts } from './rules.ts';
import type { LedgerStore, LedgerTx } from './store.ts';

/** The committed evidence tx each standing hash-renewal request names, and whether it has a renewal. */
export async function hashRenewalFacts(
  store: LedgerStore,
  standing: readonly { record: TxRecord }[],
): Promise<HashRenewalFacts> {
  const facts = { evidence: new Map<string, LedgerTx | undefined>(), renewed: new Set<string>() };
  for (const { record } of standing) {
    if (record.type !== 'hash-renewal') continue;
    const id = toHex(record.renewal.evidenceTx);
    if (facts.evidence.has(id)) continue;
    facts.evidence.set(id, await store.tx(record.renewal.evidenceTx));
    if ((await store.hashRenewalOf(record.renewal.evidenceTx)) !== undefined) facts.renewed.add(id);
  }
  return facts;
}

/** The last committed audit head seq of each institution a standing audit tx comes from. */
export async function auditHeads(
  store: LedgerStore,
  standing: readonly { env: TxEnvelope; record: TxRecord }[],
): Promise<Map<string, number>> {
  const seqs = new Map<string, number>();
  for (const { env, record } of standing) {
    const { institution } = env.tx;
    if (record.type !== 'audit' || seqs.has(institution)) continue;
    const last = await store.auditHead(institution);
    seqs.set(institution, last === undefined ? 0 : decodeAuditHead(last.env.tx.payload).seq);
  }
  return seqs;
}

export async function requestFacts(store: LedgerStore, requestTx: Uint8Array): Promise<RequestFacts> {
  const tx = await store.tx(requestTx);
  const stamped = (await store.hashRenewalStampOf(requestTx)) !== undefined;
  if (tx?.env.tx.type !== 'hash-renewal') return { tx, stamped, recorder: undefined };
  const evidence = await store.tx(decodeHashRenewal(tx.env.tx.payload).evidenceTx);
  return { tx, stamped, recorder: evidence?.env.tx.institution };
}
