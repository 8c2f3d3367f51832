/**
 * Sealed case records through the executor (ADR 011): validators check the key wraps (parties only, to the
 * keys governance registered, one for each party an event adds) without learning the case key; the case key
 * is then recoverable from the chain by each party and by nobody else.
 */
import { describe, expect, it } from 'vitest';
import type { CaseEvent, CaseKeyWrap } from '../../../src/core/case.ts';
import { decodeCase, encodeCase } from '../../../src/core/case.ts';
import * as S from '../../../src/core/case-seal.ts';
import type { GovernanceAction } from '../../../src/core/governance.ts';
import { envelope, signTx, type TxEnvelope } from '../../../src/core/tx.ts';
import { decodeCaseState } from '../../../src/ledger/case-state.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { BANK, casesGenesis, commitCaseBlock, MEDIATOR, OTHER_BANK } from '../../helpers/cases.ts';
import { outcomes } from '../../helpers/chain.ts';
import { governanceTx, TEST_CHAIN_ID, TEST_GENESIS_TIME, testSigner } from '../../helpers/fixtures.ts';

const T = TEST_GENESIS_TIME;
const keys = new Map([BANK, OTHER_BANK, MEDIATOR].map((i) => [i, S.newEncryptionKey()] as const));
let nonce = 1;

async function chainWithKeys(sealing?: 'required'): Promise<LedgerChain> {
  const chain = await LedgerChain.open(new MemoryLedgerStore(), casesGenesis(sealing));
  const txs: TxEnvelope[] = [];
  for (const [institution, k] of keys) {
    const action: GovernanceAction = { type: 'setEncryptionKey', institution, publicKey: k.publicKey };
    const p = governanceTx({ kind: 'propose', deadline: T + 3_600_000, action }, { nonce: nonce++ });
    txs.push(p);
    for (const v of [1, 2])
      txs.push(governanceTx({ kind: 'approve', proposalId: p.hash }, { validator: v, nonce: nonce++ }));
  }
  expect(new Set(outcomes(await commitCaseBlock(chain, txs, T + 500), txs))).toEqual(new Set(['ok']));
  return chain;
}

/** A case tx; `wraps` undefined makes a version-1 record (no sealed part), `details` false leaves them out. */
function sealedTx(
  by: string,
  ref: string,
  event: CaseEvent,
  wraps: CaseKeyWrap[] | undefined,
  prev?: Uint8Array,
  details = true,
) {
  const record =
    wraps === undefined
      ? { caseId: ref, prev, event }
      : { caseId: ref, prev, event, wraps, ...(details ? { sealed: new Uint8Array(30).fill(1) } : {}) };
  const unsigned = {
    chainId: TEST_CHAIN_ID,
    type: 'case' as const,
    institution: by,
    keyId: 'client-1',
    nonce: nonce++,
    createdAt: T + 1000,
    ttlMs: 3_600_000,
    payload: encodeCase(record),
  };
  return envelope(signTx(unsigned, testSigner(`${by}/client-1`)));
}

const caseKey = S.newCaseKey();
const ref = S.caseRef(caseKey, '2026-BJ-CC-000777');
const wrapFor = (institution: string, recipient = keys.get(institution)!.publicKey): CaseKeyWrap => ({
  institution,
  recipient,
  wrapped: S.wrapCaseKey(caseKey, recipient, ref, institution),
});
const openEvent: CaseEvent = {
  type: 'open',
  respondent: BANK,
  claimant: S.keyedClaimantCommitment(caseKey, 'c'),
};

describe('sealed cases on the ledger', () => {
  it('refuses wraps for non-parties, to unregistered keys, and events that leave a new party without one', async () => {
    const chain = await chainWithKeys();
    const stranger = sealedTx(BANK, ref, openEvent, [wrapFor(BANK), wrapFor(OTHER_BANK)]);
    const wrongKey = sealedTx(BANK, ref, openEvent, [wrapFor(BANK, keys.get(MEDIATOR)!.publicKey)]);
    const none = sealedTx(BANK, ref, openEvent, []);
    for (const tx of [stranger, wrongKey, none])
      expect((await chain.checkTx(tx, T + 1000))?.code).toBe(TxErrorCode.caseBadWrap);
    const opened = sealedTx(BANK, ref, openEvent, [wrapFor(BANK)]);
    const bare = sealedTx(BANK, ref, { type: 'assign', mediator: MEDIATOR }, [], opened.hash);
    const built = await commitCaseBlock(chain, [opened, bare], T + 1000);
    expect(outcomes(built, [opened, bare])).toEqual(['ok', TxErrorCode.caseBadWrap]);
  });

  it('stores the case under its reference; each party recovers the case key from the chain with its own key', async () => {
    const chain = await chainWithKeys();
    const opened = sealedTx(BANK, ref, openEvent, [wrapFor(BANK)]);
    const assigned = sealedTx(
      BANK,
      ref,
      { type: 'assign', mediator: MEDIATOR },
      [wrapFor(MEDIATOR)],
      opened.hash,
    );
    expect(outcomes(await commitCaseBlock(chain, [opened, assigned], T + 1000), [opened, assigned])).toEqual([
      'ok',
      'ok',
    ]);
    const [stored] = await chain.store.caseStates([ref]);
    expect(decodeCaseState(stored!).mediator).toBe(MEDIATOR);
    const wrap = decodeCase(assigned.tx.payload).wraps![0]!;
    expect(S.unwrapCaseKey(wrap.wrapped, keys.get(MEDIATOR)!.privateKey, ref, MEDIATOR)).toEqual(caseKey);
    expect(() => S.unwrapCaseKey(wrap.wrapped, keys.get(OTHER_BANK)!.privateKey, ref, MEDIATOR)).toThrow(
      S.SealError,
    );
  });

  it('a chain whose genesis requires sealing refuses unsealed case records with TX_CASE_UNSEALED (ADR 015)', async () => {
    const chain = await chainWithKeys('required');
    const plainOpen = sealedTx(BANK, '2026-BJ-CC-000777', openEvent, undefined);
    const noDetails = sealedTx(BANK, ref, openEvent, [wrapFor(BANK)], undefined, false);
    const v1Open = sealedTx(BANK, ref, openEvent, undefined);
    for (const tx of [plainOpen, noDetails, v1Open])
      expect((await chain.checkTx(tx, T + 1000))?.code).toBe(TxErrorCode.caseUnsealed);

    const opened = sealedTx(BANK, ref, openEvent, [wrapFor(BANK)]);
    // Under the rule every event's wraps are checked: an assign with no sealed part still needs the mediator's.
    const bareAssign = sealedTx(BANK, ref, { type: 'assign', mediator: MEDIATOR }, undefined, opened.hash);
    const assigned = sealedTx(
      BANK,
      ref,
      { type: 'assign', mediator: MEDIATOR },
      [wrapFor(MEDIATOR)],
      opened.hash,
    );
    // Events that add no party need no sealed part: the reference is enough.
    const session = sealedTx(MEDIATOR, ref, { type: 'session', seq: 1 }, undefined, assigned.hash);
    const txs = [opened, bareAssign, assigned, session];
    expect(outcomes(await commitCaseBlock(chain, txs, T + 1000), txs)).toEqual([
      'ok',
      TxErrorCode.caseBadWrap,
      'ok',
      'ok',
    ]);
    const plainSession = sealedTx(
      MEDIATOR,
      '2026-BJ-CC-000777',
      { type: 'session', seq: 2 },
      undefined,
      session.hash,
    );
    expect((await chain.checkTx(plainSession, T + 1000))?.code).toBe(TxErrorCode.caseUnsealed);
  });

  it('an optional-sealing chain (a genesis without `cases`) still accepts version-1 records', async () => {
    const chain = await chainWithKeys();
    const v1Open = sealedTx(BANK, '2026-BJ-CC-000777', openEvent, undefined);
    expect(await chain.checkTx(v1Open, T + 1000)).toBeUndefined();
  });
});
