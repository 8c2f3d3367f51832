/**
 * A full consistency check of a Level ledger: every block up to the head is linked and complete, every
 * anchor names a stored header and anchors only grow, and the store holds exactly the entries those blocks
 * wrote (layout.ts) — no index entry missing, none left over from a block beyond the head. Used after
 * crashes in tests; reads everything, so it is not for hot paths.
 */

import { headerHash } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { merkleRoot } from '../core/merkle.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { CaseState } from './case-machine.ts';
import { decodeCaseState } from './case-state.ts';
import { blockEntries, caseStateKey, GOVERNANCE_KEY, Prefix } from './layout.ts';
import { decodeTxRecord, type TxRecord } from './records.ts';
import { type AnchorState, type LedgerStore, NO_ANCHOR_STATE, nextAnchorState } from './store.ts';

export interface RawEntries {
  rawEntries(): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** Returns the problems found; an empty list means the ledger is consistent. */
export async function checkIntegrity(
  store: Pick<LedgerStore, 'head' | 'block' | 'tx'> & RawEntries,
  suite: CryptoSuite = ED25519_SHA256,
): Promise<string[]> {
  const problems: string[] = [];
  const expected = new Map<string, string>();
  const height = store.head()?.height ?? 0;
  const hashes: Uint8Array[] = [];
  let anchored = 0;
  let state: AnchorState = NO_ANCHOR_STATE;
  let prevHash: Uint8Array | undefined;
  for (let h = 1; h <= height; h++) {
    const block = await store.block(h);
    if (block === undefined) {
      problems.push(`block ${h} (at or below head ${height}) is missing`);
      continue;
    }
    const { header } = block;
    if (header.height !== h) problems.push(`block ${h} has header height ${header.height}`);
    if (!equalBytes(headerHash(header, suite), block.hash))
      problems.push(`block ${h} hash does not match its header`);
    if (prevHash !== undefined && !equalBytes(header.prevHash, prevHash))
      problems.push(`block ${h} is not linked`);
    if (!equalBytes(merkleRoot(block.txHashes, suite), header.txRoot))
      problems.push(`block ${h} txRoot mismatch`);
    prevHash = block.hash;
    hashes[h] = block.hash;
    const txs: TxEnvelope[] = [];
    const records: TxRecord[] = [];
    for (const [index, hash] of block.txHashes.entries()) {
      const t = await store.tx(hash);
      if (t === undefined || t.height !== h || t.index !== index) {
        problems.push(`tx ${h}/${index} is not found where its block lists it`);
        continue;
      }
      let record: TxRecord;
      try {
        record = decodeTxRecord(t.env.tx, suite);
      } catch (err) {
        problems.push(`tx ${h}/${index} payload does not decode: ${(err as Error).message}`);
        continue;
      }
      if (record.type === 'anchor') {
        const a = record.anchor;
        const target = hashes[a.height];
        if (a.height <= anchored || a.height >= h) {
          problems.push(
            `anchor ${h}/${index} of block ${a.height} does not advance the anchored height ${anchored}`,
          );
        } else if (target === undefined || !equalBytes(target, a.headerHash)) {
          problems.push(`anchor ${h}/${index} names another header than block ${a.height}'s`);
        }
        anchored = Math.max(anchored, a.height);
      }
      txs.push(t.env);
      records.push(record);
    }
    if (txs.length !== block.txHashes.length) continue;
    // Later blocks overwrite the head and anchor state entries, so the map ends with the head block's.
    const write = { header, hash: block.hash, cert: block.cert, txs, records };
    state = nextAnchorState(state, write);
    for (const [k, v] of blockEntries(write, state)) {
      expected.set(toHex(k), toHex(v));
    }
  }
  const cases: CaseEntries = { states: new Map(), opened: [] };
  for await (const [k, v] of store.rawEntries()) {
    if (k[0] === Prefix.consensus) continue;
    if (collectCaseEntry(k, v, cases, problems)) continue;
    const key = toHex(k);
    // The governance registry snapshot is the executor's state (a replay of the governance txs), not a
    // function of the stored blocks alone; the governance tests check it.
    if (key === toHex(GOVERNANCE_KEY)) continue;
    const want = expected.get(key);
    if (want === undefined)
      problems.push(`unexpected entry ${key} (not written by any block up to ${height})`);
    else if (want !== toHex(v)) problems.push(`entry ${key} holds other bytes than its block wrote`);
    expected.delete(key);
  }
  for (const key of expected.keys()) problems.push(`missing entry ${key}`);
  await checkCases(store, cases, height, problems);
  return problems;
}

interface CaseEntries {
  states: Map<string, CaseState>;
  /** The case list: each case at the position of its open event. */
  opened: { height: number; index: number; caseId: string }[];
}

/**
 * Case states, the case list and the statistics are the executor's state (the state machine's replay of the
 * case txs, docs/cases.md#storage), not entries a block writes by itself: they are collected here and checked
 * against the stored txs instead. Returns whether `k` is such an entry.
 */
function collectCaseEntry(k: Uint8Array, v: Uint8Array, c: CaseEntries, problems: string[]): boolean {
  if (k[0] === Prefix.caseStats) return true;
  if (k[0] === Prefix.caseState) {
    try {
      const state = decodeCaseState(v);
      c.states.set(state.caseId, state);
      if (!equalBytes(caseStateKey(state.caseId), k))
        problems.push(`case state ${toHex(k)} is stored under another id`);
    } catch (err) {
      problems.push(`case state ${toHex(k)} does not decode: ${(err as Error).message}`);
    }
    return true;
  }
  if (k[0] === Prefix.caseOpened) {
    const view = new DataView(k.buffer, k.byteOffset, k.byteLength);
    const height = Number(view.getBigUint64(1));
    c.opened.push({ height, index: view.getUint16(9), caseId: Buffer.from(v).toString('utf8') });
    return true;
  }
  return false;
}

/** Every case is listed once, at its open event; every event of its timeline is the stored tx it names. */
async function checkCases(
  store: Pick<LedgerStore, 'tx'>,
  c: CaseEntries,
  height: number,
  problems: string[],
): Promise<void> {
  const listed = new Set<string>();
  for (const o of c.opened) {
    const s = c.states.get(o.caseId);
    const first = s?.events[0];
    if (first === undefined || first.height !== o.height || first.index !== o.index)
      problems.push(`case list entry ${o.height}/${o.index} names case ${o.caseId}, not opened there`);
    listed.add(o.caseId);
  }
  for (const s of c.states.values()) {
    if (!listed.has(s.caseId)) problems.push(`case ${s.caseId} is not in the case list`);
    for (const e of s.events) {
      const t = e.height > height ? undefined : await store.tx(e.txHash);
      if (t === undefined || t.height !== e.height || t.index !== e.index || t.env.tx.type !== 'case')
        problems.push(`case ${s.caseId}: its ${e.type} event is not the case tx at ${e.height}/${e.index}`);
    }
  }
}
