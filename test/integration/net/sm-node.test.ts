/**
 * A whole node (JrNode: ledger, validator, anchoring, audit log, API) runs an sm2-sm3 chain (ADR 014), made the
 * way an operator makes one: `init --crypto-suite sm2-sm3` homes, their member file assembled into an SM genesis
 * that trusts an HTTP TSA on loopback. SM2-signed evidence submitted over HTTP is committed and anchored (SM3
 * imprint), the receipt served by the API verifies with the anchor required, and the node restarts on its data.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { encodeEvidence } from '../../../src/core/evidence.ts';
import { readKeyFile } from '../../../src/core/keys.ts';
import { assembleGenesis, readMemberFile } from '../../../src/core/member.ts';
import { envelope, signTx } from '../../../src/core/tx.ts';
import { loadConfig } from '../../../src/node/config.ts';
import { initHome } from '../../../src/node/home.ts';
import { createLogger } from '../../../src/node/logger.ts';
import { JrNode } from '../../../src/node/node.ts';
import { verifyReceipt } from '../../../src/receipt/receipt.ts';
import { TsaHttpServer } from '../../../src/timestamp/server.ts';
import { sampleEvidence, sampleUnsignedTx } from '../../helpers/fixtures.ts';
import { removeDir, tempDir } from '../../helpers/ledger.ts';
import { freePortBlock } from '../../helpers/ports.ts';
import { testBytes } from '../../helpers/sm.ts';
import { makePki, startTsa } from '../../helpers/tsa.ts';
import { waitFor } from '../../helpers/wait.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
}, 60_000);

describe('a JrNode on an sm2-sm3 genesis', () => {
  it('commits and anchors SM2-signed evidence, serves a receipt that verifies, and restarts', async () => {
    const pki = await makePki();
    const tsa = await startTsa(pki, undefined, { clock: Date.now });
    cleanups.push(() => tsa.stop());
    const server = new TsaHttpServer(tsa, { port: 0 });
    await server.start();
    cleanups.push(() => server.stop());

    const home = await tempDir('sm-node');
    cleanups.push(() => removeDir(home));
    const base = await freePortBlock(2);
    initHome({
      home,
      institution: 'bank-a',
      host: '127.0.0.1',
      p2pPort: base,
      apiPort: base + 1,
      tsaUrl: server.address.url,
      cryptoSuite: 'sm2-sm3',
    });
    const { json, genesis } = assembleGenesis([readMemberFile(join(home, 'member.json'))], {
      chainId: 'sm-node',
      createdAt: new Date(Date.now() - 60_000),
      trustAnchors: [pki.rootPem],
      cryptoSuite: 'sm2-sm3',
      consensus: { maxBatchWaitMs: 5 },
    });
    writeFileSync(join(home, 'genesis.json'), JSON.stringify(json));
    const config = { ...loadConfig(home), tsa: { ...loadConfig(home).tsa, anchorIntervalMs: 200 } };
    const lines: string[] = [];
    const log = () => {
      const sink = new PassThrough();
      sink.on('data', (d: Buffer) => lines.push(d.toString()));
      return createLogger({ level: 'warn', destination: sink });
    };

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
