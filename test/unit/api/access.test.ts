/**
 * Authentication and authorisation of the API (ADR 009, docs/api.md#authentication): each role reads exactly
 * what it may, every refusal has its code, and replayed, re-signed, stale or tampered requests are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessGuard, isLoopbackAddress, isLoopbackHost } from '../../../src/api/access.ts';
import { AuditLog } from '../../../src/api/audit.ts';
import { Authenticator } from '../../../src/api/auth.ts';
import type { ApiRequest } from '../../../src/api/http.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { parseGenesis } from '../../../src/core/genesis.ts';
import { agree, assign, BANK, COURT, ev, MEDIATOR, OTHER_BANK, open, session } from '../../helpers/cases.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import {
  evidenceTx,
  governanceTx,
  TEST_GENESIS_TIME,
  testGenesisJson,
  testSigner,
} from '../../helpers/fixtures.ts';
import { clientSeed, signedGet, signedHeaders } from '../../helpers/signed.ts';

const REGULATOR = 'regulator-r';
const NOW = TEST_GENESIS_TIME + 5000;

function accessGenesis() {
  const json = testGenesisJson({ roles: { [MEDIATOR]: 'mediator', [COURT]: 'court' } });
  json.institutions.push({
    id: REGULATOR,
    name: 'Regulator',
    role: 'regulator',
    clientKeys: [{ keyId: 'client-1', publicKey: toHex(testSigner(`${REGULATOR}/client-1`).publicKey) }],
  });
  return parseGenesis(json);
}

const EVIDENCE = evidenceTx({ institution: BANK, nonce: 9_000_001, evidence: { caseId: 'ACC-1' } });
let node: FakeNode;
const get = (path: string, as: string | undefined, o: Parameters<typeof signedGet>[3] = {}) =>
  signedGet(node.url, path, as, { at: NOW, ...o });

beforeAll(async () => {
  node = await startFakeNode(accessGenesis(), { now: () => NOW });
  // ACC-1: bank-a's case, mediated by bank-c, agreed and sent to bank-d for confirmation.
  // ACC-2: bank-b's case, opened by bank-b, not assigned.
  const txs = [
    open('ACC-1'),
    assign('ACC-1'),
    session('ACC-1', 1),
    agree('ACC-1'),
    ev('ACC-1', MEDIATOR, { type: 'applyConfirmation', court: COURT }),
    open('ACC-2', OTHER_BANK, OTHER_BANK),
    EVIDENCE,
  ];
  for (const t of txs) {
    const r = await fetch(`${node.url}/v1/txs`, {
      method: 'POST',
      body: t.bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(r.status, JSON.stringify(await r.json())).toBe(202);
    await node.commit();
  }
});
afterAll(() => node.stop());

describe('who reads what', () => {
  it('each role reads exactly the cases it is a party of', async () => {
    const may: [string, string, number][] = [
      [BANK, 'ACC-1', 200],
      [BANK, 'ACC-2', 403],
      [OTHER_BANK, 'ACC-1', 403],
      [OTHER_BANK, 'ACC-2', 200],
      [MEDIATOR, 'ACC-1', 200],
      [MEDIATOR, 'ACC-2', 403],
      [COURT, 'ACC-1', 200],
      [COURT, 'ACC-2', 403],
      [REGULATOR, 'ACC-1', 403],
    ];
    for (const [who, id, status] of may) {
      for (const path of [`/v1/cases/${id}`, `/v1/cases/${id}/receipt`]) {
        const r = await get(path, who);
        expect(r.status, `${who} ${path}: ${JSON.stringify(r.json)}`).toBe(status);
        if (status === 403)
          expect(r.json.code).toBe(who === REGULATOR ? 'FORBIDDEN_ROLE' : 'FORBIDDEN_NOT_PARTY');
        else expect(r.json.caseId ?? r.json.summary?.caseId ?? id).toBe(id);
      }
    }
    const listed = async (who: string) => (await get('/v1/cases', who)).json.cases?.map((c: any) => c.caseId);
    expect(await listed(BANK)).toEqual(['ACC-1']);
    expect(await listed(OTHER_BANK)).toEqual(['ACC-2']);
    expect(await listed(COURT)).toEqual(['ACC-1']);
    expect((await get('/v1/cases', REGULATOR)).json.code).toBe('FORBIDDEN_ROLE');
  });

  it('a regulator reads every institution in the statistics; a bank only its own', async () => {
    const reg = await get('/v1/stats', REGULATOR);
    expect(reg.status).toBe(200);
    expect(Object.keys(reg.json.institutions).sort()).toEqual([BANK, OTHER_BANK, MEDIATOR]);
    expect(Object.keys((await get('/v1/stats', BANK)).json.institutions)).toEqual([BANK]);
  });

  it('the unauthenticated get status, health, the genesis and receipts; case data is 401 AUTH_REQUIRED', async () => {
    for (const path of ['/v1/status', '/health', '/v1/genesis'])
      expect((await get(path, undefined)).status).toBe(200);
    // A document's holder proves it without an account: its receipt is public (it holds the hash).
    const receipt = await get(`/v1/receipts/${EVIDENCE.hashHex}`, undefined);
    expect(receipt.status).toBe(200);
    for (const path of [
      '/v1/cases',
      '/v1/cases/ACC-1',
      '/v1/cases/ACC-1/receipt',
      '/v1/stats',
      '/v1/audit',
    ]) {
      const r = await get(path, undefined);
      expect([r.status, r.json.code], path).toEqual([401, 'AUTH_REQUIRED']);
    }
  });
});

describe('refused signatures', () => {
  it('a replayed request is refused', async () => {
    const url = new URL(`${node.url}/v1/cases/ACC-1`);
    const headers = signedHeaders(url, BANK, { at: NOW });
    expect((await fetch(url, { headers })).status).toBe(200);
    const again = await fetch(url, { headers });
    expect([again.status, ((await again.json()) as any).code]).toEqual([401, 'AUTH_REPLAYED']);
  });

  it('a request re-signed with another institution key, under the victim keyid, is refused', async () => {
    const r = await get('/v1/cases/ACC-1', BANK, { seed: clientSeed(OTHER_BANK) });
    expect([r.status, r.json.code]).toEqual([401, 'AUTH_BAD_SIGNATURE']);
  });

  it('a stale or future-dated request is refused', async () => {
    for (const at of [NOW - 61_000, NOW + 31_000]) {
      const r = await get('/v1/cases/ACC-1', BANK, { at });
      expect([r.status, r.json.code], String(at - NOW)).toEqual([401, 'AUTH_STALE']);
    }
    for (const at of [NOW - 59_000, NOW + 29_000])
      expect((await get('/v1/cases/ACC-1', BANK, { at })).status, String(at - NOW)).toBe(200);
  });

  it('a signature moved to another path, an unknown key and malformed headers are refused', async () => {
    const signed = signedHeaders(new URL(`${node.url}/v1/cases/ACC-2`), BANK, { at: NOW });
    const moved = await fetch(`${node.url}/v1/cases/ACC-1`, { headers: signed });
    expect(((await moved.json()) as any).code).toBe('AUTH_BAD_SIGNATURE');
    const query = signedHeaders(new URL(`${node.url}/v1/cases?limit=1`), BANK, { at: NOW });
    const requeried = await fetch(`${node.url}/v1/cases?limit=2`, { headers: query });
    expect(((await requeried.json()) as any).code).toBe('AUTH_BAD_SIGNATURE');
    const unknown = await get('/v1/cases/ACC-1', 'bank-z');
    expect([unknown.status, unknown.json.code]).toEqual([401, 'AUTH_UNKNOWN_KEY']);
    const malformed = await fetch(`${node.url}/v1/cases/ACC-1`, {
      headers: { 'signature-input': 'sig1=("@method");created=1', signature: 'sig1=:AAAA:' },
    });
    expect(((await malformed.json()) as any).code).toBe('AUTH_MALFORMED');
  });

  it('raw chain reads: free on loopback unsigned, verified when signed, signed-only from elsewhere', async () => {
    expect((await get('/v1/blocks/1', undefined)).status).toBe(200);
    const forged = await get('/v1/blocks/1', BANK, { seed: clientSeed(COURT) });
    expect(forged.json.code).toBe('AUTH_BAD_SIGNATURE');
    const guard = new AccessGuard(
      new Authenticator(() => ({ clientKey: () => undefined, roleOf: () => undefined }), { now: () => NOW }),
      new AuditLog(undefined),
    );
    const req = { headers: {}, remoteAddress: '10.1.2.3', path: '/v1/blocks/1' } as unknown as ApiRequest;
    expect(() => guard.chainReader(req)).toThrow(
      expect.objectContaining({ status: 401, code: 'AUTH_REQUIRED' }),
    );
    expect(() => guard.chainReader({ ...req, remoteAddress: '::ffff:127.0.0.1' })).not.toThrow();
    expect(['127.0.0.1', '::1', '127.8.9.10'].every(isLoopbackAddress)).toBe(true);
    expect(['10.0.0.1', '::2', '128.0.0.1', '::ffff:10.0.0.1'].some(isLoopbackAddress)).toBe(false);
    // The bind hosts `start` warns about.
    expect(['localhost', '127.0.0.1', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.5', 'node.example'].some(isLoopbackHost)).toBe(false);
  });
});

describe('audit log', () => {
  it('records every authorised read of case data, and none that was refused', async () => {
    const before = node.audit.entries().length;
    await get('/v1/cases/ACC-1', MEDIATOR);
    await get('/v1/cases/ACC-1', OTHER_BANK); // refused: not recorded
    await get('/v1/cases/ACC-2/receipt', OTHER_BANK);
    const added = node.audit.entries().slice(before);
    expect(added.map((e) => [e.institution, e.action, e.caseId])).toEqual([
      [MEDIATOR, 'case.read', 'ACC-1'],
      [OTHER_BANK, 'case.receipt', 'ACC-2'],
    ]);
  });

  it('a party queries the reads of its case; others are refused', async () => {
    const mine = await get('/v1/audit?case=ACC-1', BANK);
    expect(mine.status).toBe(200);
    const readers = new Set(mine.json.entries.map((e: any) => e.institution));
    expect(readers).toEqual(new Set([BANK, MEDIATOR, COURT]));
    expect(mine.json.entries.every((e: any) => e.caseId === 'ACC-1')).toBe(true);
    expect((await get('/v1/audit?case=ACC-1', OTHER_BANK)).json.code).toBe('FORBIDDEN_NOT_PARTY');
    expect((await get('/v1/audit', REGULATOR)).json.code).toBe('FORBIDDEN_AUDIT_NOT_GRANTED');
    const own = await get('/v1/audit', OTHER_BANK);
    expect(own.json.entries.length).toBeGreaterThan(0);
    expect(own.json.entries.every((e: any) => e.institution === OTHER_BANK)).toBe(true);
  });
});

describe('regulator audit access (ADR 011)', () => {
  const post = async (t: { bytes: Uint8Array }) => {
    const r = await fetch(`${node.url}/v1/txs`, {
      method: 'POST',
      body: t.bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(r.status, JSON.stringify(await r.json())).toBe(202);
  };
  /** Passes `granted` by governance; in force from the block after the one that passes it. */
  async function setAccess(granted: boolean, nonce: number): Promise<void> {
    const action = { type: 'setAuditAccess' as const, institution: REGULATOR, granted };
    const propose = governanceTx(
      { kind: 'propose', deadline: NOW + 60_000, action },
      { createdAt: NOW, nonce },
    );
    await post(propose);
    await node.commit();
    for (const validator of [1, 2])
      await post(
        governanceTx({ kind: 'approve', proposalId: propose.hash }, { validator, createdAt: NOW, nonce }),
      );
    await node.commit();
    await node.commit();
  }

  it('a granted regulator reads the audit log and every case; once revoked it is refused again', async () => {
    await setAccess(true, 71);
    const audit = await get('/v1/audit', REGULATOR);
    expect(audit.status, JSON.stringify(audit.json)).toBe(200);
    // Every institution's reads, not only its own.
    expect(new Set(audit.json.entries.map((e: any) => e.institution)).size).toBeGreaterThan(2);
    expect((await get('/v1/cases/ACC-2', REGULATOR)).status).toBe(200);
    expect((await get('/v1/audit?case=ACC-1', REGULATOR)).status).toBe(200);
    expect((await get('/v1/cases', REGULATOR)).json.cases.map((c: any) => c.caseId)).toEqual([
      'ACC-1',
      'ACC-2',
    ]);
    // Its reads are audited like everyone's.
    expect(node.audit.entries().some((e) => e.institution === REGULATOR && e.caseId === 'ACC-2')).toBe(true);
    await setAccess(false, 72);
    expect((await get('/v1/audit', REGULATOR)).json.code).toBe('FORBIDDEN_AUDIT_NOT_GRANTED');
    expect((await get('/v1/cases/ACC-2', REGULATOR)).json.code).toBe('FORBIDDEN_ROLE');
  });
});

// Last: it revokes bank-b's key for the rest of the file.
describe('revocation', () => {
  it('a client key revoked by governance stops reading at once (AUTH_UNKNOWN_KEY)', async () => {
    const post = async (t: { bytes: Uint8Array }) => {
      const r = await fetch(`${node.url}/v1/txs`, {
        method: 'POST',
        body: t.bytes,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(r.status, JSON.stringify(await r.json())).toBe(202);
    };
    const action = { type: 'revokeClientKey' as const, institution: OTHER_BANK, keyId: 'client-1' };
    const propose = governanceTx({ kind: 'propose', deadline: NOW + 60_000, action }, { createdAt: NOW });
    await post(propose);
    await node.commit();
    for (const validator of [1, 2])
      await post(governanceTx({ kind: 'approve', proposalId: propose.hash }, { validator, createdAt: NOW }));
    expect((await get('/v1/cases/ACC-2', OTHER_BANK)).status).toBe(200);
    await node.commit();
    await node.commit(); // in force from the block after the one that passes it
    const r = await get('/v1/cases/ACC-2', OTHER_BANK);
    expect([r.status, r.json.code]).toEqual([401, 'AUTH_UNKNOWN_KEY']);
  });
});
