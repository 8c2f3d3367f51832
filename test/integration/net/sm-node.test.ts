/**
 * A whole node (JrNode: ledger, validator, anchoring, audit log, API) runs an sm2-sm3 chain (ADR 014), made the
 * way an operator makes one: `init --crypto-suite sm2-sm3` homes, their member file assembled into an SM genesis
 * that trusts an HTTP TSA on loopback. SM2-signed evidence submitted over HTTP is committed and anchored (SM3
 * imprint), the receipt served by the API verifies with the anchor required, and the node restarts on its data.
 */

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { encodeEvidence } from '../../../src/core/evidence.ts';
import { readKeyFile } from '../../../src/core/keys.ts';
import { envelope, signTx } from '../../../src/core/tx.ts';
import { JrNode } from '../../../src/node/node.ts';
import { verifyReceipt } from '../../../src/receipt/receipt.ts';
import { sampleEvidence, sampleUnsignedTx } from '../../helpers/fixtures.ts';
import { oneNodeHome } from '../../helpers/one-node-home.ts';
import { testBytes } from '../../helpers/sm.ts';
import { waitFor } from '../../helpers/wait.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
}, 60_000);

describe('a JrNode on an sm2-sm3 genesis', () => {
  it('commits and anchors SM2-signed evidence, serves a receipt that verifies, and restarts', async () => {
    const { home, genesis, config, lines, logger: log } = await oneNodeHome('sm-node', cleanups, 'sm2-sm3');
    let node = await JrNode.open(config, log());
    const stopNode = async () => node.stop();
    cleanups.push(stopNode);
    const { apiUrl } = await node.start();

    const client = readKeyFile(join(home, 'client.key'), { suite: 'sm2-sm3' });
    const env = envelope(
      signTx(
        sampleUnsignedTx({
          chainId: genesis.chainId,
          institution: 'bank-a',
          createdAt: Date.now(),
          payload: encodeEvidence(sampleEvidence({ hash: testBytes('sm node evidence', 32) })),
        }),
        client.signer,
      ),
      SM2_SM3,
    );
    const posted = await fetch(`${apiUrl}/v1/txs`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from(env.bytes),
    });
    expect(posted.status, await posted.clone().text()).toBeLessThan(300);

    // The receipt is served once the tx is committed and its block anchored (SM3 imprint, SM2-signed anchor).
    let receipt: any;
    await waitFor(
      async () => {
        const r = await fetch(`${apiUrl}/v1/receipts/${env.hashHex}`);
        if (r.status !== 200) return false;
        receipt = ((await r.json()) as { receipts: any[] }).receipts[0];
        return typeof receipt?.anchor === 'object' && receipt.anchor !== null;
      },
      'an anchored receipt',
      60_000,
    ).catch(async (err: Error) => {
      // Say why: the node's status (anchor lag and last error) and its warnings.
      const st = await (await fetch(`${apiUrl}/v1/status`)).text();
      throw new Error(`${err.message}; status ${st}; node log ${lines.join('').slice(0, 3000)}`);
    });
    expect(receipt.cryptoSuite).toBe('sm2-sm3');
    const v = await verifyReceipt(receipt, { genesis, requireAnchor: true });
    expect(v.ok, JSON.stringify(v.checks.filter((c) => c.status === 'fail'))).toBe(true);
    const height = ((await (await fetch(`${apiUrl}/v1/status`)).json()) as { height: number }).height;

    // A restart on the same data: the ledger, the consensus records and the SM2-signed audit head reopen.
    await node.stop();
    node = await JrNode.open(config, log());
    const again = await node.start();
    const status = (await (await fetch(`${again.apiUrl}/v1/status`)).json()) as any;
    expect(status.height).toBeGreaterThanOrEqual(height);
    expect(status.validators[0].peerId).toBe(genesis.validators[0]!.peerId);
    const tx = await fetch(`${again.apiUrl}/v1/txs/${env.hashHex}`);
    expect(tx.status).toBe(200);
  }, 120_000);
});
