/** The case and statistics endpoints over a memory ledger (docs/api.md, docs/cases.md). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import {
  agree,
  assign,
  BANK,
  casesGenesis,
  claimant,
  ev,
  MEDIATOR,
  OTHER_BANK,
  open,
  session,
} from '../../helpers/cases.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import { docHash, evidenceTx, TEST_GENESIS_TIME } from '../../helpers/fixtures.ts';
import { signedGet } from '../../helpers/signed.ts';

const genesis = casesGenesis();
let node: FakeNode;

beforeAll(async () => {
  node = await startFakeNode(genesis, { now: () => TEST_GENESIS_TIME + 5000 });
});
afterAll(() => node.stop());

/** A GET signed as `as` (a bank by default), at the fake node's clock. */
function get(path: string, as = BANK): Promise<{ status: number; json: any }> {
  return signedGet(node.url, path, as, { at: TEST_GENESIS_TIME + 5000 });
}

async function submit(...txs: ReturnType<typeof open>[]): Promise<void> {
  for (const t of txs) {
    const r = await fetch(`${node.url}/v1/txs`, {
      method: 'POST',
      body: t.bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(r.status, JSON.stringify(await r.json())).toBe(202);
    await node.commit();
  }
}

describe('case API', () => {
  it('GET /v1/cases/:id returns state, parties, timeline and the evidence naming the case', async () => {
    const evidence = evidenceTx({ institution: BANK, nonce: 7_000_001, evidence: { caseId: 'API-1' } });
    await submit(open('API-1'), assign('API-1'), session('API-1', 1), evidence, agree('API-1'));
    const { status, json } = await get('/v1/cases/API-1');
    expect(status).toBe(200);
    expect(json.case).toMatchObject({
      caseId: 'API-1',
      status: 'agreed',
      parties: { opener: BANK, respondent: BANK, mediator: MEDIATOR, court: null },
      sessions: 1,
      agreementHash: toHex(docHash('agreement API-1')),
    });
    expect(json.case.parties.claimantCommitment).toBe(toHex(claimant('API-1')));
    expect(json.case.timeline.map((e: any) => e.event)).toEqual(['open', 'assign', 'session', 'agree']);
    expect(json.records.map((r: any) => r.txHash)).toEqual([evidence.hashHex]);
    // The tx view shows the case event.
    const tx = await get(`/v1/txs/${json.case.timeline[3].txHash}`);
    expect(tx.json.case).toMatchObject({ caseId: 'API-1', type: 'agree' });
    expect(tx.json.case.coSignature).toEqual({ institution: BANK, keyId: 'client-1' });
    // An id with evidence but no case tx: case is null, records still listed.
    expect((await get('/v1/cases/NO-CASE')).json).toEqual({
      caseId: 'NO-CASE',
      case: null,
      records: [],
      next: null,
    });
  });

  it("GET /v1/cases pages in opening order, showing the caller's cases only; bad limits and cursors are 400", async () => {
    await submit(open('API-2', MEDIATOR, OTHER_BANK), open('API-3'));
    const first = await get('/v1/cases?limit=2');
    // API-2 is another bank's: the page keeps its place in the order but leaves it out.
    expect(first.json.cases.map((c: any) => c.caseId)).toEqual(['API-1']);
    const second = await get(`/v1/cases?limit=2&cursor=${encodeURIComponent(first.json.next)}`);
    expect(second.json.cases.map((c: any) => c.caseId)).toEqual(['API-3']);
    expect(second.json.next).toBeNull();
    expect((await get('/v1/cases?limit=0')).status).toBe(400);
    expect((await get('/v1/cases?cursor=garbage')).json.code).toBe('LEDGER_INVALID_CURSOR');
  });

  it("GET /v1/stats reports the chain, the caller's institution and each month; filters by either", async () => {
    await submit(ev('API-2', MEDIATOR, { type: 'assign', mediator: MEDIATOR }));
    await submit(ev('API-2', MEDIATOR, { type: 'fail', reason: 'noAgreement' }));
    const { json } = await get('/v1/stats', OTHER_BANK);
    expect(json.all).toMatchObject({ opened: 3, agreed: 1, failed: 1, mediated: 2, successRate: 0.5 });
    expect(Object.keys(json.institutions)).toEqual([OTHER_BANK]);
    expect(json.institutions[OTHER_BANK]).toMatchObject({ opened: 1, failed: 1, agreed: 0 });
    // Another institution's figures are the regulator's to read.
    expect((await get(`/v1/stats?institution=${OTHER_BANK}`)).json.code).toBe('FORBIDDEN_ROLE');
    const month = new Date(TEST_GENESIS_TIME).toISOString().slice(0, 7);
    expect(json.months[month]).toMatchObject({ opened: 3 });
    const only = await get(`/v1/stats?institution=${BANK}&month=${month}`);
    expect(Object.keys(only.json.institutions)).toEqual([BANK]);
    expect(Object.keys(only.json.months)).toEqual([month]);
    expect((await get('/v1/stats?month=2026-1')).status).toBe(400);
  });
});
