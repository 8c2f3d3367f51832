import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_BATCH_BODY_BYTES,
  MAX_BATCH_TXS,
  MAX_TX_BODY_BYTES,
  TX_LIST_CONTENT_TYPE,
} from '../../../src/api/routes.ts';
import {
  type BlockHeader,
  decodeCertificate,
  headerHash,
  verifyCommitCertificate,
} from '../../../src/core/block.ts';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { genesisHash, genesisValidatorSet } from '../../../src/core/genesis.ts';
import { encodeTxList, type TxEnvelope } from '../../../src/core/tx.ts';
import { verifyReceipt } from '../../../src/receipt/receipt.ts';
import type { FakeConsensus } from '../../helpers/fake-consensus.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import { docHash, evidenceTx, governanceTx, TEST_GENESIS_TIME, testGenesis } from '../../helpers/fixtures.ts';
import { signedGet } from '../../helpers/signed.ts';

const genesis = testGenesis();
const now = TEST_GENESIS_TIME + 5000;
let node: FakeNode;
let consensus: FakeConsensus;
let base = '';
const commit = () => node.commit();

beforeAll(async () => {
  node = await startFakeNode(genesis, { now: () => now });
  consensus = node.consensus;
  base = node.url;
});
afterAll(() => node.stop());

async function get(path: string): Promise<{ status: number; json: any }> {
  const r = await fetch(`${base}${path}`);
  return {
    status: r.status,
    json: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text(),
  };
}

async function post(tx: TxEnvelope | Uint8Array, query = '', type = 'application/octet-stream') {
  const body = tx instanceof Uint8Array ? tx : tx.bytes;
  const r = await fetch(`${base}/v1/txs${query}`, {
    method: 'POST',
    body,
    headers: { 'content-type': type },
  });
  return { status: r.status, json: await r.json() };
}

/** The header from its JSON view (every field is there; the hash check proves nothing was lost). */
function decodeHeaderView(h: any): BlockHeader {
  return {
    chainId: h.chainId,
    height: h.height,
    prevHash: fromHex(h.prevHash),
    txRoot: fromHex(h.txRoot),
    txCount: h.txCount,
    proposer: h.proposer,
    view: h.view,
    time: Date.parse(h.time),
    validatorSetHash: fromHex(h.validatorSetHash),
  };
}

describe('HTTP API', () => {
  it('POST /v1/txs accepts a signed tx at once (202), then reports it pending, then committed', async () => {
    const tx = evidenceTx({ nonce: 101, evidence: { hash: docHash('contract-101'), caseId: 'CASE-1' } });
    expect(await post(tx)).toEqual({ status: 202, json: { hash: tx.hashHex, status: 'accepted' } });
    expect(await post(tx)).toEqual({ status: 202, json: { hash: tx.hashHex, status: 'pending' } });
    await commit();
    expect(await post(tx)).toEqual({
      status: 200,
      json: { hash: tx.hashHex, status: 'committed', height: 1 },
    });
  });

  it('?wait= returns when the tx commits', async () => {
    const tx = evidenceTx({ nonce: 102, evidence: { hash: docHash('statement-102'), caseId: 'CASE-1' } });
    const pending = post(tx, '?wait=20000');
    // Commit once the tx reached the pool; the waiting request then answers "committed".
    while (!consensus.mempool.some((t) => t.hashHex === tx.hashHex))
      await new Promise((r) => setImmediate(r));
    await commit();
    expect(await pending).toEqual({
      status: 200,
      json: { hash: tx.hashHex, status: 'committed', height: 2 },
    });
  });

  it('?wait= times out to 202 pending', async () => {
    const tx = evidenceTx({ nonce: 103, evidence: { hash: docHash('call-103'), caseId: 'CASE-2' } });
    expect(await post(tx, '?wait=50')).toEqual({
      status: 202,
      json: { hash: tx.hashHex, status: 'pending' },
    });
    await commit();
  });

  it('accepts JSON bodies with hex or base64', async () => {
    const tx = evidenceTx({ nonce: 104, evidence: { hash: docHash('json-104') } });
    const r = await fetch(`${base}/v1/txs`, {
      method: 'POST',
      body: JSON.stringify({ tx: Buffer.from(tx.bytes).toString('base64') }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(202);
    const hex = evidenceTx({ nonce: 105, evidence: { hash: docHash('json-105') } });
    const r2 = await fetch(`${base}/v1/txs`, {
      method: 'POST',
      body: JSON.stringify({ tx: toHex(hex.bytes) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r2.status).toBe(202);
    await commit();
  });

  it.each<[string, () => Promise<{ status: number; json: any }>, number, string]>([
    ['a malformed tx', () => post(new Uint8Array([1, 2, 3])), 400, 'CODEC_TRUNCATED'],
    ['an empty body', () => post(new Uint8Array(0)), 400, 'CODEC_TRUNCATED'],
    ['an oversize body', () => post(new Uint8Array(MAX_TX_BODY_BYTES + 1)), 413, 'BODY_TOO_LARGE'],
    [
      'a wrong content type',
      () => post(new Uint8Array([1]), '', 'text/plain'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['bad JSON', () => post(new TextEncoder().encode('{'), '', 'application/json'), 400, 'BAD_JSON'],
    ['a bad wait', () => post(evidenceTx({ nonce: 900 }), '?wait=forever'), 400, 'BAD_WAIT'],
    [
      'a forged signature',
      () => post(evidenceTx({ nonce: 106, signer: 'bank-b/client-1' })),
      422,
      'TX_BAD_SIGNATURE',
    ],
    ['another chain', () => post(evidenceTx({ nonce: 107, chainId: 'other-chain' })), 422, 'TX_WRONG_CHAIN'],
    [
      'an unknown institution',
      () => post(evidenceTx({ nonce: 108, institution: 'bank-z', signer: 'x' })),
      422,
      'TX_UNKNOWN_INSTITUTION',
    ],
    ['an expired tx', () => post(evidenceTx({ nonce: 109, createdAt: now - 7_200_000 })), 422, 'TX_EXPIRED'],
  ])('rejects %s with a JSON error and stores nothing', async (_name, send, status, code) => {
    const before = consensus.mempool.length;
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.json.code).toBe(code);
    expect(typeof r.json.message).toBe('string');
    expect(consensus.mempool.length).toBe(before);
  });

  it('GET /v1/evidence/:hash lists every record of that hash, across institutions and cases', async () => {
    const h = docHash('shared-contract');
    const a = evidenceTx({ nonce: 201, institution: 'bank-a', evidence: { hash: h, caseId: 'CASE-A' } });
    const b = evidenceTx({ nonce: 202, institution: 'bank-b', evidence: { hash: h, caseId: 'CASE-B' } });
    await post(a);
    await post(b);
    await commit();
    const r = await get(`/v1/evidence/${toHex(h)}`);
    expect(r.status).toBe(200);
    expect(r.json.records.map((x: any) => [x.institution, x.evidence.caseId])).toEqual([
      ['bank-a', 'CASE-A'],
      ['bank-b', 'CASE-B'],
    ]);
    expect((await get(`/v1/evidence/${'ab'.repeat(32)}`)).json.records).toEqual([]);
  });

  it('GET /v1/cases/:caseId pages in chain order', async () => {
    // CASE-1 has evidence but no case tx: its recorder (bank-a) reads the records, signed.
    const get = (path: string) => signedGet(base, path, 'bank-a', { at: now });
    const first = await get('/v1/cases/CASE-1?limit=1');
    expect(first.json.records).toHaveLength(1);
    expect(first.json.next).toEqual(expect.any(String));
    const second = await get(`/v1/cases/CASE-1?limit=1&cursor=${encodeURIComponent(first.json.next)}`);
    expect(second.json.records[0].height).toBeGreaterThan(first.json.records[0].height);
    expect((await get('/v1/cases/CASE-1?cursor=garbage')).json.code).toBe('LEDGER_INVALID_CURSOR');
    expect((await get('/v1/cases/CASE-1?limit=0')).status).toBe(400);
  });

  it('GET /v1/txs/:hash and /v1/blocks/:height', async () => {
    const tx = evidenceTx({ nonce: 301, evidence: { hash: docHash('block-test'), caseId: 'CASE-9' } });
    await post(tx);
    await commit();
    const t = await get(`/v1/txs/${tx.hashHex}`);
    expect(t.json).toMatchObject({
      hash: tx.hashHex,
      type: 'evidence',
      institution: 'bank-a',
      evidence: { caseId: 'CASE-9' },
    });
    const b = await get(`/v1/blocks/${t.json.height}`);
    expect(b.json.header.height).toBe(t.json.height);
    expect(b.json.header.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.json.txHashes).toContain(tx.hashHex);
    // The certificate's canonical bytes prove the header committed to anyone holding the genesis.
    const header = decodeHeaderView(b.json.header);
    expect(toHex(headerHash(header))).toBe(b.json.hash);
    const cert = decodeCertificate(new Uint8Array(Buffer.from(b.json.certificate.bytes, 'base64')));
    expect(cert.view).toBe(b.json.certificate.view);
    expect(() =>
      verifyCommitCertificate(cert, header, genesisValidatorSet(genesis), genesisHash(genesis)),
    ).not.toThrow();
    const other = { ...header, time: header.time + 1 };
    expect(() =>
      verifyCommitCertificate(cert, other, genesisValidatorSet(genesis), genesisHash(genesis)),
    ).toThrow(/different header/);
    expect((await get('/v1/blocks/999999')).status).toBe(404);
    expect((await get('/v1/blocks/zero')).status).toBe(400);
    expect((await get('/v1/txs/xyz')).json.code).toBe('BAD_HASH');
    expect((await get(`/v1/txs/${'00'.repeat(32)}`)).status).toBe(404);
  });

  it('GET /v1/blocks/:height?wait= answers when the block commits, or 404 after the wait', async () => {
    const head = (await get('/v1/status')).json.height as number;
    const waiting = get(`/v1/blocks/${head + 1}?wait=20000`);
    const tx = evidenceTx({ nonce: 350, evidence: { hash: docHash('block-wait'), caseId: 'CASE-W' } });
    await post(tx);
    await commit();
    const b = await waiting;
    expect(b.status).toBe(200);
    expect(b.json.header.height).toBe(head + 1);
    expect(b.json.txHashes).toEqual([tx.hashHex]);
    // An existing block answers at once; a missing one after the wait; a bad wait is refused.
    expect((await get(`/v1/blocks/${head + 1}?wait=60000`)).status).toBe(200);
    expect((await get(`/v1/blocks/${head + 5}?wait=30`)).status).toBe(404);
    expect((await get(`/v1/blocks/${head + 5}?wait=forever`)).json.code).toBe('BAD_WAIT');
  });

  it('GET /v1/receipts/:hash by tx hash or evidence hash returns receipts that verify offline', async () => {
    const tx = evidenceTx({ nonce: 401, evidence: { hash: docHash('receipt-doc'), caseId: 'CASE-R' } });
    await post(tx);
    await commit();
    const byTx = await get(`/v1/receipts/${tx.hashHex}`);
    expect(byTx.json.receipts).toHaveLength(1);
    expect((await verifyReceipt(byTx.json.receipts[0], { genesis })).ok).toBe(true);
    const byEvidence = await get(`/v1/receipts/${toHex(docHash('receipt-doc'))}`);
    expect(byEvidence.json.receipts[0].txHash).toBe(tx.hashHex);
    expect((await get(`/v1/receipts/${toHex(docHash('never-recorded'))}`)).status).toBe(404);
  });

  it('/health, /ready, /v1/status and /metrics', async () => {
    expect(await get('/health')).toEqual({ status: 200, json: { status: 'ok' } });
    expect((await get('/ready')).status).toBe(200);
    node.setReady(false, ['syncing']);
    expect(await get('/ready')).toEqual({ status: 503, json: { ready: false, reasons: ['syncing'] } });
    node.setReady(true);
    expect((await get('/v1/status')).json.chainId).toBe(genesis.chainId);
    expect((await get('/metrics')).json).toMatch(/jrchain_height/);
    const g = await get('/v1/genesis');
    expect(g.json.genesis.chainId).toBe(genesis.chainId);
    expect(g.json.genesisHash).toMatch(/^[0-9a-f]{64}$/);
  });
  it('GET /v1/governance shows the set in force and proposals; a governance tx has its own view', async () => {
    const g0 = await get('/v1/governance');
    expect(g0.status).toBe(200);
    expect(g0.json.validatorSet).toMatchObject({ epoch: 0, firstHeight: 1, n: 4, f: 1, quorum: 3 });
    expect(g0.json.validatorSet.validators.map((v: any) => v.institution)).toEqual([
      'bank-a',
      'bank-b',
      'bank-c',
      'bank-d',
    ]);
    expect(g0.json.institutions).toHaveLength(4);
    const p = governanceTx(
      {
        kind: 'propose',
        deadline: now + 60_000,
        action: { type: 'revokeClientKey', institution: 'bank-d', keyId: 'client-1' },
      },
      { createdAt: now },
    );
    expect((await post(p)).status).toBe(202);
    await commit();
    const g1 = await get('/v1/governance');
    expect(g1.json.proposals).toEqual([
      expect.objectContaining({
        id: p.hashHex,
        status: 'pending',
        proposer: 'bank-a',
        approvals: ['bank-a'],
        action: expect.objectContaining({
          type: 'revokeClientKey',
          description: 'revoke client key bank-d/client-1',
        }),
      }),
    ]);
    const t = await get(`/v1/txs/${p.hashHex}`);
    expect(t.status).toBe(200);
    expect(t.json.governance).toMatchObject({ kind: 'propose', action: { type: 'revokeClientKey' } });
  });
});

async function postBatch(
  body: Uint8Array | string,
  type = TX_LIST_CONTENT_TYPE,
  query = '',
): Promise<{ status: number; json: any }> {
  const r = await fetch(`${base}/v1/txs/batch${query}`, {
    method: 'POST',
    body,
    headers: { 'content-type': type },
  });
  return { status: r.status, json: await r.json() };
}

describe('POST /v1/txs/batch', () => {
  it('submits a binary tx list and answers each tx in order: accepted, pending, committed, rejected', async () => {
    const committed = evidenceTx({ nonce: 501, evidence: { hash: docHash('batch-501') } });
    await post(committed);
    await commit();
    const fresh = evidenceTx({ nonce: 502, evidence: { hash: docHash('batch-502') } });
    const forged = evidenceTx({ nonce: 503, signer: 'bank-b/client-1' });
    const list = [fresh, fresh, committed, forged];
    const r = await postBatch(encodeTxList(list.map((t) => t.bytes)));
    expect(r.status).toBe(200);
    expect(r.json.results).toEqual([
      { hash: fresh.hashHex, status: 'accepted' },
      { hash: fresh.hashHex, status: 'pending' },
      { hash: committed.hashHex, status: 'committed' },
      { hash: forged.hashHex, status: 'rejected', code: 'TX_BAD_SIGNATURE', message: expect.any(String) },
    ]);
    expect(consensus.mempool.map((t) => t.hashHex)).toEqual([fresh.hashHex]);
    await commit();
  });

  it('takes JSON {"txs": [hex | base64]}', async () => {
    const a = evidenceTx({ nonce: 511, evidence: { hash: docHash('batch-511') } });
    const b = evidenceTx({ nonce: 512, evidence: { hash: docHash('batch-512') } });
    const r = await postBatch(
      JSON.stringify({ txs: [toHex(a.bytes), Buffer.from(b.bytes).toString('base64')] }),
      'application/json',
    );
    expect(r.json.results.map((x: any) => x.status)).toEqual(['accepted', 'accepted']);
    await commit();
  });

  it.each<[string, () => Promise<{ status: number; json: any }>, number, string]>([
    ['an empty list', () => postBatch(new Uint8Array([1, 0])), 400, 'CODEC_INVALID_FIELD'],
    [
      `more than ${MAX_BATCH_TXS} txs`,
      () => postBatch(encodeTxList(Array(MAX_BATCH_TXS + 1).fill(evidenceTx({ nonce: 520 }).bytes))),
      400,
      'CODEC_INVALID_FIELD',
    ],
    [
      `more than ${MAX_BATCH_TXS} txs in JSON`,
      () =>
        postBatch(
          JSON.stringify({ txs: Array(MAX_BATCH_TXS + 1).fill(toHex(evidenceTx({ nonce: 521 }).bytes)) }),
          'application/json',
        ),
      400,
      'BATCH_TOO_LARGE',
    ],
    [
      'one malformed tx among good ones',
      () => postBatch(encodeTxList([evidenceTx({ nonce: 522 }).bytes, new Uint8Array([1, 2, 3])])),
      400,
      'CODEC_TRUNCATED',
    ],
    [
      'trailing bytes',
      () => postBatch(new Uint8Array([...encodeTxList([evidenceTx({ nonce: 523 }).bytes]), 0])),
      400,
      'CODEC_TRAILING_BYTES',
    ],
    ['an unknown version', () => postBatch(new Uint8Array([2, 1, 0])), 400, 'CODEC_UNKNOWN_VERSION'],
    ['JSON without txs', () => postBatch('{"tx": "00"}', 'application/json'), 400, 'BAD_JSON'],
    [
      'a JSON tx that is not hex or base64',
      () => postBatch('{"txs": ["?"]}', 'application/json'),
      400,
      'BAD_JSON',
    ],
    ['a wrong content type', () => postBatch('x', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'a wait',
      () => postBatch(encodeTxList([evidenceTx({ nonce: 524 }).bytes]), undefined, '?wait=100'),
      400,
      'BAD_WAIT',
    ],
    ['an oversize body', () => postBatch(new Uint8Array(MAX_BATCH_BODY_BYTES + 1)), 413, 'BODY_TOO_LARGE'],
  ])('refuses %s as a whole and submits nothing', async (_name, send, status, code) => {
    const before = consensus.mempool.length;
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.json.code).toBe(code);
    expect(typeof r.json.message).toBe('string');
    expect(consensus.mempool.length).toBe(before);
  });
});

describe('a full mempool', () => {
  it('answers 503 with Retry-After to a submit, and a batch with Retry-After beside its per-tx results', async () => {
    const saved = consensus.submit;
    consensus.submit = async (env) => ({ code: 'MEMPOOL_FULL', message: 'mempool full', hash: env.hash });
    try {
      const tx = evidenceTx({ nonce: 901, evidence: { hash: docHash('full-901') } });
      const single = await fetch(`${base}/v1/txs`, {
        method: 'POST',
        body: tx.bytes,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(single.status).toBe(503);
      expect(single.headers.get('retry-after')).toBe('1');
      expect(((await single.json()) as any).code).toBe('MEMPOOL_FULL');
      const batch = await fetch(`${base}/v1/txs/batch`, {
        method: 'POST',
        body: encodeTxList([tx.bytes]),
        headers: { 'content-type': TX_LIST_CONTENT_TYPE },
      });
      expect(batch.status).toBe(200);
      expect(batch.headers.get('retry-after')).toBe('1');
      expect(((await batch.json()) as any).results[0].code).toBe('MEMPOOL_FULL');
    } finally {
      consensus.submit = saved;
    }
    const ok = await fetch(`${base}/v1/txs/batch`, {
      method: 'POST',
      body: encodeTxList([evidenceTx({ nonce: 902, evidence: { hash: docHash('full-902') } }).bytes]),
      headers: { 'content-type': TX_LIST_CONTENT_TYPE },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('retry-after')).toBeNull();
    await ok.body?.cancel();
  });
});
