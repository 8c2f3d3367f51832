/**
 * Dispute cases through the executor: every transition of the state machine (docs/cases.md), every refusal
 * with its code, events and co-signatures judged against roles in force, and state and statistics that
 * survive a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { decodeCaseState } from '../../../src/ledger/case-state.ts';
import { ALL_GROUP, institutionGroup, statsView } from '../../../src/ledger/case-stats.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import {
  agree,
  assign,
  BANK,
  CASE_REFUSALS,
  COURT,
  casesGenesis,
  caseTx,
  chainAfter,
  claimant,
  commitCaseBlock,
  ev,
  MEDIATOR,
  OTHER_BANK,
  open,
  session,
} from '../../helpers/cases.ts';
import { outcomes } from '../../helpers/chain.ts';
import { docHash, evidenceTx, TEST_GENESIS_TIME } from '../../helpers/fixtures.ts';
import { removeDir, tempDir } from '../../helpers/ledger.ts';

const T = TEST_GENESIS_TIME;
const HOUR = 3_600_000;
const genesis = casesGenesis();

async function chainAt(): Promise<LedgerChain> {
  return LedgerChain.open(new MemoryLedgerStore(), genesis);
}

async function stateOf(chain: LedgerChain, id: string) {
  const [bytes] = await chain.store.caseStates([id]);
  return bytes === undefined ? undefined : decodeCaseState(bytes);
}

/** Commits `txs` in one block and returns each one's outcome. */
async function run(chain: LedgerChain, txs: TxEnvelope[], time: number): Promise<string[]> {
  return outcomes(await commitCaseBlock(chain, txs, time), txs);
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeDir(d);
});

describe('the case state machine', () => {
  it('runs a case from complaint to judicial confirmation, performance and closure', async () => {
    const chain = await chainAt();
    const id = 'CASE-1';
    expect(await run(chain, [open(id), assign(id)], T + 1000)).toEqual(['ok', 'ok']);
    expect((await stateOf(chain, id))?.status).toBe('assigned');
    expect(await run(chain, [session(id, 1), session(id, 2)], T + 2000)).toEqual(['ok', 'ok']);
    expect((await stateOf(chain, id))?.sessions).toBe(2);
    expect(await run(chain, [agree(id)], T + 20 * HOUR)).toEqual(['ok']);
    const applied = ev(id, MEDIATOR, { type: 'applyConfirmation', court: COURT });
    const ruling = docHash('ruling');
    const decided = ev(id, COURT, { type: 'decide', decision: 'confirmed', rulingHash: ruling });
    expect(await run(chain, [applied, decided], T + 21 * HOUR)).toEqual(['ok', 'ok']);
    const paid = ev(id, BANK, { type: 'milestone', seq: 1, kind: 'instalmentRepaid' });
    const done = ev(id, BANK, { type: 'milestone', seq: 2, kind: 'fullyPerformed' });
    const close = ev(id, MEDIATOR, { type: 'close' });
    expect(await run(chain, [paid, done, close], T + 22 * HOUR)).toEqual(['ok', 'ok', 'ok']);

    const s = (await stateOf(chain, id))!;
    expect(s.status).toBe('closed');
    expect(s).toMatchObject({ opener: BANK, respondent: BANK, mediator: MEDIATOR, court: COURT });
    expect(s.decision).toBe('confirmed');
    expect(toHex(s.rulingHash!)).toBe(toHex(ruling));
    expect(toHex(s.claimant)).toBe(toHex(claimant(id)));
    expect(s.events.map((e) => e.type)).toEqual([
      'open',
      'assign',
      'session',
      'session',
      'agree',
      'applyConfirmation',
      'decide',
      'milestone',
      'milestone',
      'close',
    ]);
    expect(s.events.map((e) => e.height)).toEqual([1, 1, 2, 2, 3, 4, 4, 5, 5, 5]);
    expect(s.events[6]).toMatchObject({ institution: COURT, index: 1, time: T + 21 * HOUR });

    const all = statsView(chain.caseStats.group(ALL_GROUP)!);
    expect(all).toMatchObject({ opened: 1, agreed: 1, mediated: 1, successRate: 1, confirmed: 1, closed: 1 });
    // Mediation runs from the assignment (T + 1 s) to the agreement (T + 20 h).
    expect((all.mediationHours as { average: number }).average).toBeCloseTo(20 - 1 / 3600, 6);
    expect(statsView(chain.caseStats.group(institutionGroup(MEDIATOR))!).agreed).toBe(1);
  });

  it('a mediator opens a case against a bank, assigns it to itself, and records a failure; withdrawal and refusal end others', async () => {
    const chain = await chainAt();
    const txs0 = [open('F', MEDIATOR, OTHER_BANK), assign('F', MEDIATOR)];
    txs0.push(ev('F', MEDIATOR, { type: 'fail', reason: 'respondentRefused' }));
    expect(await run(chain, txs0, T + 1000)).toEqual(['ok', 'ok', 'ok']);
    expect(await stateOf(chain, 'F')).toMatchObject({ status: 'failed', failReason: 'respondentRefused' });

    const opened = open('W');
    const withdrawn = ev('W', BANK, { type: 'withdraw' });
    expect(await run(chain, [opened, withdrawn, ev('W', BANK, { type: 'close' })], T + 2000)).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
    expect((await stateOf(chain, 'W'))?.status).toBe('closed');

    const refusedRuling = { type: 'decide', decision: 'refused', rulingHash: docHash('no') } as const;
    const txs = [
      open('R'),
      assign('R'),
      agree('R', BANK, MEDIATOR),
      ev('R', BANK, { type: 'applyConfirmation', court: COURT }),
      ev('R', COURT, refusedRuling),
    ];
    expect(await run(chain, txs, T + 3000)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(await stateOf(chain, 'R')).toMatchObject({ status: 'refused', decision: 'refused' });
    expect(statsView(chain.caseStats.group(ALL_GROUP)!)).toMatchObject({
      opened: 3,
      agreed: 1,
      failed: 1,
      withdrawn: 1,
      refused: 1,
      confirmed: 0,
      successRate: 0.5,
    });
  });

  it('evidence that names a case is listed with it, and case txs use up nonces like evidence', async () => {
    const chain = await chainAt();
    const e = evidenceTx({ institution: BANK, nonce: 900_001, evidence: { caseId: 'E-1' } });
    expect(await run(chain, [open('E-1'), e], T + 1000)).toEqual(['ok', 'ok']);
    const page = await chain.store.evidenceByCase('E-1');
    expect(page.items.map((i) => i.env.hashHex)).toEqual([e.hashHex]);
    const reused = caseTx(BANK, 'E-1', { type: 'assign', mediator: MEDIATOR });
    const replay = { ...reused, tx: { ...reused.tx } };
    // A case tx with a nonce an evidence tx used is a replay.
    const sameNonce = evidenceTx({ institution: BANK, nonce: reused.tx.nonce, evidence: { caseId: 'X' } });
    expect(await run(chain, [reused, sameNonce], T + 2000)).toEqual(['ok', TxErrorCode.replayedNonce]);
    expect(replay.hashHex).toBe(reused.hashHex);
  });
});

describe('case refusals', () => {
  it.each(CASE_REFUSALS)('refuses %s', async (_what, build, code) => {
    const chain = await chainAt();
    const txs = build();
    // Every tx before the last is legal; the last one gets exactly this code.
    expect(await run(chain, txs, T + 1000)).toEqual([...txs.slice(0, -1).map(() => 'ok'), code]);
  });

  it('refuses a court decision from the wrong role and from another court, and admission agrees with execution', async () => {
    const chain = await chainAt();
    const setup = [
      open('A'),
      assign('A'),
      agree('A'),
      ev('A', BANK, { type: 'applyConfirmation', court: COURT }),
    ];
    await run(chain, setup, T + 1000);
    const byMediator = ev('A', MEDIATOR, { type: 'decide', decision: 'confirmed', rulingHash: docHash('r') });
    expect((await chain.checkTx(byMediator, T + 2000))?.code).toBe(TxErrorCode.caseWrongRole);
    chainAfter('A', setup.at(-1)!.hash);
    const byCourt = ev('A', COURT, { type: 'decide', decision: 'confirmed', rulingHash: docHash('r') });
    expect(await chain.checkTx(byCourt, T + 2000)).toBeUndefined();
    // checkTx changed nothing: the decision is still open.
    expect((await stateOf(chain, 'A'))?.status).toBe('confirmationApplied');
  });

  it('judges events in block order: one before its case opens is unknown, the same one after it is fine', async () => {
    const chain = await chainAt();
    expect(await run(chain, [assign('A'), open('A'), assign('A')], T + 1000)).toEqual([
      TxErrorCode.caseUnknown,
      'ok',
      'ok',
    ]);
  });

  it('refuses events past the per-case limit', async () => {
    const chain = await chainAt();
    const txs = [open('A'), assign('A')];
    for (let i = 1; i <= 254; i++) txs.push(session('A', i));
    txs.push(session('A', 255));
    const got = await run(chain, txs, T + 1000);
    expect(got.at(-1)).toBe(TxErrorCode.caseFull);
    expect(got.slice(0, -1).every((o) => o === 'ok')).toBe(true);
  });
});

describe('case storage', () => {
  it.each([
    ['memory', async () => ({ store: new MemoryLedgerStore(), reopen: async (s: MemoryLedgerStore) => s })],
    [
      'level',
      async () => {
        const dir = await tempDir('cases');
        dirs.push(dir);
        return {
          store: await LevelLedgerStore.open(dir),
          reopen: async (s: LevelLedgerStore) => {
            await s.close();
            return LevelLedgerStore.open(dir);
          },
        };
      },
    ],
  ] as const)(
    'keeps states, the list in opening order, and statistics across a restart (%s)',
    async (_n, make) => {
      const { store, reopen } = await make();
      const chain = await LedgerChain.open(store, genesis);
      await run(chain, [open('B-2'), open('B-1'), assign('B-1')], T + 1000);
      await run(chain, [open('A-3', MEDIATOR, OTHER_BANK), agree('B-1')], T + 2000);
      const statsBefore = await chain.store.caseStats();
      const again = await LedgerChain.open(await reopen(store as never), genesis);
      const page1 = await again.store.cases({ limit: 2 });
      expect(page1.items.map((b) => decodeCaseState(b).caseId)).toEqual(['B-2', 'B-1']);
      const page2 = await again.store.cases({ limit: 2, cursor: page1.next });
      expect(page2.items.map((b) => decodeCaseState(b).caseId)).toEqual(['A-3']);
      expect(page2.next).toBeUndefined();
      expect(statsView(again.caseStats.group(ALL_GROUP)!)).toMatchObject({ opened: 3, agreed: 1 });
      expect(await again.store.caseStats()).toEqual(statsBefore);
      expect((await stateOf(again, 'B-1'))?.status).toBe('agreed');
      await again.store.close();
    },
  );
});
