/**
 * Case receipts: one document proves a case's whole timeline offline from the genesis, and every kind of
 * tampering fails at the check that covers it (docs/cases.md#case-receipts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseGenesis } from '../../../src/core/genesis.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { type CaseReceiptJson, caseReceiptFor } from '../../../src/receipt/case-receipt.ts';
import { verifyCaseReceipt } from '../../../src/receipt/case-verify.ts';
import { ReceiptFailureCode } from '../../../src/receipt/errors.ts';
import {
  agree,
  assign,
  BANK,
  COURT,
  casesGenesis,
  commitCaseBlock,
  ev,
  MEDIATOR,
  open,
  session,
} from '../../helpers/cases.ts';
import {
  docHash,
  governanceTx,
  TEST_GENESIS_TIME,
  testGenesisJson,
  testSigner,
} from '../../helpers/fixtures.ts';
import { mutateJson } from '../../helpers/json-mutate.ts';
import { Prng } from '../../sim/prng.ts';

const T = TEST_GENESIS_TIME;
const genesis = casesGenesis();
let receipt: CaseReceiptJson;
let queries: LedgerQueries;

beforeAll(async () => {
  const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
  // A governance change first, so the receipt must carry and replay it.
  const key = testSigner('bank-e/client-1').publicKey;
  const reg = governanceTx({
    kind: 'propose',
    deadline: T + 600_000,
    action: {
      type: 'registerInstitution',
      id: 'bank-e',
      name: 'Bank E',
      clientKeys: [{ keyId: 'client-1', publicKey: key }],
    },
  });
  const approve = (v: number) => governanceTx({ kind: 'approve', proposalId: reg.hash }, { validator: v });
  await commitCaseBlock(chain, [reg, approve(1), approve(2)], T + 1000);
  await commitCaseBlock(chain, [open('R-1'), assign('R-1')], T + 2000);
  await commitCaseBlock(chain, [session('R-1', 1), session('R-1', 2)], T + 3000);
  await commitCaseBlock(chain, [agree('R-1')], T + 4000);
  const apply = ev('R-1', MEDIATOR, { type: 'applyConfirmation', court: COURT });
  const decide = ev('R-1', COURT, { type: 'decide', decision: 'confirmed', rulingHash: docHash('ruling') });
  const built = await commitCaseBlock(chain, [apply, decide], T + 5000);
  expect(built.rejected).toEqual([]);
  queries = new LedgerQueries(chain.store, genesis);
  receipt = JSON.parse(JSON.stringify(await caseReceiptFor(queries, genesis, 'R-1')));
});

const copy = (): CaseReceiptJson => structuredClone(receipt);
const failedAt = (doc: unknown, g = genesis) => {
  const v = verifyCaseReceipt(doc, g);
  expect(v.ok).toBe(false);
  return v.checks.at(-1)!;
};

describe('case receipts', () => {
  it('verify offline from the genesis: every event, the governance before them, the replayed state', () => {
    const v = verifyCaseReceipt(receipt, genesis);
    expect(v.checks.map((c) => [c.name, c.status])).toEqual([
      ['format', 'pass'],
      ['genesis', 'pass'],
      ['events', 'pass'],
      ['timeline', 'pass'],
      ['summary', 'pass'],
    ]);
    expect(v.ok).toBe(true);
    expect(v.state?.status).toBe('confirmed');
    expect(receipt.governance).toHaveLength(1);
    expect(receipt.summary.events.map((e) => e.event)).toEqual([
      'open',
      'assign',
      'session',
      'session',
      'agree',
      'applyConfirmation',
      'decide',
    ]);
    expect(receipt.summary).toMatchObject({ respondent: BANK, mediator: MEDIATOR, court: COURT });
  });

  it('a dropped event breaks the chain of links: timeline', () => {
    const r = copy();
    r.events.splice(2, 1);
    const c = failedAt(r);
    expect(c).toMatchObject({ name: 'timeline', code: ReceiptFailureCode.caseTimeline });
    expect(c.detail).toContain(TxErrorCode.caseOutOfOrder);
  });

  it('a reordered event is out of chain order: timeline', () => {
    const r = copy();
    [r.events[2], r.events[3]] = [r.events[3]!, r.events[2]!];
    expect(failedAt(r)).toMatchObject({ name: 'timeline', code: ReceiptFailureCode.outOfOrder });
  });

  it('an altered tx, header or summary fails where it is checked', () => {
    const tx = copy();
    const bytes = Buffer.from(tx.events[1]!.tx, 'base64');
    bytes[bytes.length - 70]! ^= 1;
    tx.events[1]!.tx = bytes.toString('base64');
    expect(failedAt(tx)).toMatchObject({ name: 'events', code: ReceiptFailureCode.hashMismatch });
    const header = copy();
    header.events[0]!.block.height = 99;
    expect(failedAt(header).name).toBe('events');
    const summary = copy();
    summary.summary.status = 'refused';
    expect(failedAt(summary)).toMatchObject({ name: 'summary', code: ReceiptFailureCode.summaryMismatch });
    const dropGov = copy();
    dropGov.governance = [];
    // Without the governance block the certificate still verifies (no set change), so the receipt stays
    // valid: institution registrations do not affect this case's parties. A forged governance block fails.
    expect(verifyCaseReceipt(dropGov, genesis).ok).toBe(true);
    const forged = copy();
    forged.governance[0]!.height = 2;
    expect(failedAt(forged).name).toBe('events');
  });

  it('a receipt checked against another genesis fails at genesis; garbage fails at format', () => {
    const other = parseGenesis({
      ...testGenesisJson({ roles: { 'bank-c': 'mediator', 'bank-d': 'court' } }),
      chainId: 'other-chain',
    });
    expect(failedAt(receipt, other)).toMatchObject({ name: 'genesis', code: ReceiptFailureCode.wrongChain });
    const sameChainOtherRoles = parseGenesis(testGenesisJson({ roles: { 'bank-c': 'mediator' } }));
    expect(failedAt(receipt, sameChainOtherRoles)).toMatchObject({
      name: 'genesis',
      code: ReceiptFailureCode.wrongGenesis,
    });
    expect(failedAt(null).name).toBe('format');
    expect(failedAt({ ...copy(), events: [] }).name).toBe('format');
    expect(failedAt({ ...copy(), format: 'jrchain-receipt/v2' }).code).toBe(ReceiptFailureCode.unknownFormat);
  });

  it('a receipt of an event from another case, or one not opening the case, fails at timeline', () => {
    const r = copy();
    r.events.shift();
    expect(failedAt(r)).toMatchObject({ name: 'timeline', code: ReceiptFailureCode.caseTimeline });
    const renamed = copy();
    renamed.caseId = 'R-2';
    expect(failedAt(renamed)).toMatchObject({ name: 'timeline', code: ReceiptFailureCode.caseTimeline });
  });

  const runs = 400;
  it(`${runs} seeded mutations give outcomes, none unexpected, and none passes unless only the governance list changed`, () => {
    const failedAt = new Set<string>();
    for (let i = 0; i < runs; i++) {
      const seed = `case-receipt-mutation#${i}`;
      const rng = new Prng(seed);
      let doc: unknown = receipt;
      for (let k = rng.int(1, 2); k > 0; k--) doc = mutateJson(doc, rng);
      let v: ReturnType<typeof verifyCaseReceipt>;
      try {
        v = verifyCaseReceipt(doc, genesis);
      } catch (err) {
        throw new Error(`seed ${seed}: verifyCaseReceipt threw ${(err as Error).stack}`);
      }
      const last = v.checks.at(-1)!;
      expect(last.code, `seed ${seed}: ${last.detail}`).not.toBe(ReceiptFailureCode.unexpected);
      // Only the governance list may change without failing: the one in this receipt registers an institution
      // that takes no part in the case (see above).
      const same = (d: unknown) => JSON.stringify({ ...(d as object), governance: [] });
      if (v.ok) expect(same(doc) === same(receipt), `seed ${seed} passed changed`).toBe(true);
      if (last.status === 'fail') failedAt.add(last.name);
    }
    expect([...failedAt].sort()).toEqual(['events', 'format', 'genesis', 'summary', 'timeline']);
  });
});
