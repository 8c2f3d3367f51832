/**
 * Anchoring through a real HTTP TSA on 127.0.0.1, with the system clock and timers: the TSA server is stopped
 * while blocks keep committing, then started again on the same port, and the anchors catch up. Every wait is
 * a condition with a generous deadline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { AnchoringService } from '../../../src/node/anchoring.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import { verifyReceipt } from '../../../src/receipt/receipt.ts';
import { HttpTsaClient } from '../../../src/timestamp/client.ts';
import { TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { createGenesisTokenVerifier } from '../../../src/timestamp/genesis-verifier.ts';
import { TsaHttpServer } from '../../../src/timestamp/server.ts';
import { FakeConsensus } from '../../helpers/fake-consensus.ts';
import { evidenceTx, TEST_INSTITUTIONS, testGenesis, validatorSigners } from '../../helpers/fixtures.ts';
import { makePki, startTsa } from '../../helpers/tsa.ts';
import { waitFor } from '../../helpers/wait.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('anchoring through an HTTP TSA that goes away and comes back', () => {
  it('commits blocks regardless, reports the failure and the lag, and catches up after the restart', async () => {
    const pki = await makePki();
    const genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
    const tsa = await startTsa(pki, undefined, { clock: Date.now });
    cleanups.push(() => tsa.stop());
    let server = new TsaHttpServer(tsa, { port: 0 });
    await server.start();
    cleanups.push(() => server.stop());
    const { port, url } = server.address;
    const client = new HttpTsaClient({ url, retries: 0, timeoutMs: 5_000 });
    await client.start();
    cleanups.push(() => client.stop());

    const verifier = createGenesisTokenVerifier(genesis.tsa);
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis, {
      tokenVerifier: verifier,
      anchorVerifier: verifier,
    });
    const queries = new LedgerQueries(chain.store, genesis);
    const consensus = new FakeConsensus(chain, Date.now);
    let nonce = 0;
    const evidence = (): TxEnvelope => evidenceTx({ nonce: ++nonce, createdAt: Date.now() });
    const service = new AnchoringService(
      {
        tsa: client,
        chainId: genesis.chainId,
        institution: TEST_INSTITUTIONS[0],
        signer: validatorSigners()[0]!,
        ledger: queries,
        onHead: consensus.onHead,
        isPrimary: () => true,
        submit: consensus.submit,
      },
      { intervalMs: 100, backoffBaseMs: 20, backoffMaxMs: 200 },
    );
    await service.start();
    cleanups.push(() => service.stop());

    // With the TSA up, the first evidence block is anchored.
    await consensus.commit([evidence()]);
    await waitFor(() => consensus.anchorsWaiting().length === 1, 'the first anchor');
    await consensus.commit();
    expect(queries.anchorState()).toEqual({ anchoredHeight: 1, evidenceHeight: 1 });

    // The TSA goes away: blocks keep committing, anchoring fails and backs off, the lag grows.
    await server.stop();
    const during = evidence();
    await consensus.commit([during]);
    await consensus.commit([evidence()]);
    await waitFor(async () => (await service.status()).consecutiveFailures >= 2, 'two failed attempts');
    const down = await service.status();
    expect(down.lastError?.code).toBe(TimestampErrorCode.httpError);
    expect(down).toMatchObject({ anchoredHeight: 1, headHeight: 4, lagBlocks: 3 });
    expect(down.lagMs).toBeGreaterThan(0);
    expect(chain.head().height).toBe(4);
    expect((await receiptFor(queries, genesis, during.hash))!.anchor).toBeNull();

    // The TSA returns on the same address: one anchor covers everything up to the head.
    server = new TsaHttpServer(tsa, { port });
    await server.start();
    await waitFor(() => consensus.anchorsWaiting().length === 1, 'the catch-up anchor');
    await consensus.commit();
    const up = await service.status();
    expect(up).toMatchObject({ anchoredHeight: 4, lagBlocks: 0, lagMs: 0, consecutiveFailures: 0 });
    expect(consensus.rejected).toEqual([]);

    const receipt = await receiptFor(queries, genesis, during.hash);
    const v = await verifyReceipt(receipt, { genesis, requireAnchor: true });
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(receipt!.anchor!.height).toBe(4);
  });
});
