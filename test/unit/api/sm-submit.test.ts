// The API parses submitted txs with the chain's suite (ADR 014): on an sm2-sm3 chain a tx's hash is SM3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { txHashFromBytes } from '../../../src/core/tx.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import { TEST_GENESIS_TIME } from '../../helpers/fixtures.ts';
import { smEvidenceTx, smGenesis } from '../../helpers/sm-chain.ts';

let node: FakeNode;
beforeAll(async () => {
  node = await startFakeNode(smGenesis(), { now: () => TEST_GENESIS_TIME + 5000 });
});
afterAll(() => node.stop());

describe('tx submission on an SM chain', () => {
  it('answers with the SM3 tx hash for a single tx and for a JSON batch', async () => {
    const tx = smEvidenceTx(1);
    const sha256Hash = toHex(txHashFromBytes(tx.bytes));
    expect(tx.hashHex).not.toBe(sha256Hash);
    const one = await fetch(`${node.url}/v1/txs`, {
      method: 'POST',
      body: tx.bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(((await one.json()) as { hash: string }).hash).toBe(tx.hashHex);
    const tx2 = smEvidenceTx(2);
    const many = await fetch(`${node.url}/v1/txs/batch`, {
      method: 'POST',
      body: JSON.stringify({ txs: [toHex(tx2.bytes)] }),
      headers: { 'content-type': 'application/json' },
    });
    const body = await many.json();
    expect(JSON.stringify(body)).toContain(tx2.hashHex);
    expect(JSON.stringify(body)).not.toContain(toHex(txHashFromBytes(tx2.bytes)));
  });
});
