/**
 * State sync with real validators: a validator stopped for 500+ blocks catches up by itself and takes part in
 * consensus again; a validator started on an empty data directory syncs the whole chain. Both catch up while
 * the chain is quiet, so nothing but the status poll tells them they are behind. The catch-up rate is printed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { waitFor } from '../../helpers/p2p.ts';
import { growChain, liveTxs, type TestValidator, ValidatorCluster } from '../../helpers/validators.ts';

const cluster = new ValidatorCluster();
afterAll(() => cluster.stopAll());

async function sameBlock(nodes: TestValidator[], height: number): Promise<void> {
  const hashes = await Promise.all(nodes.map(async (n) => toHex((await n.store.block(height))!.hash)));
  expect(new Set(hashes).size).toBe(1);
}

describe('catching up from peers', () => {
  it('a validator stopped for 500+ blocks catches up by itself and takes part again', async () => {
    await cluster.startAll();
    await cluster.waitConnected();
    await cluster.stop(3);
    const others = cluster.running;
    const t0 = Date.now();
    const head = await growChain(cluster, others, 520);
    const buildMs = Date.now() - t0;
    expect(head).toBeGreaterThanOrEqual(520);

    const back = await cluster.start(3);
    await cluster.waitHeight(head, [back], 90_000);
    const rate = back.service.status().sync;
    console.log(
      `catch-up: ${back.synced.length} blocks in one sync at ${rate.blocksPerSec?.toFixed(0)} blocks/s, ` +
        `${rate.txsPerSec?.toFixed(0)} tx/s (the cluster built them at ${((head * 1000) / buildMs).toFixed(0)} blocks/s)`,
    );
    expect(back.synced.length).toBeGreaterThanOrEqual(500);
    expect(rate.blocksPerSec).toBeGreaterThan(0);
    await sameBlock(cluster.running, head);

    // It takes part again: new blocks reach it through consensus, not only by sync. (If the others changed
    // view while it was away, it first joins their view, and the blocks of that moment may come by sync.)
    const before = back.heights.length;
    for (let round = 0; back.heights.length < before + 3; round++) {
      if (round === 30) throw new Error('the returned validator never committed through consensus');
      const txs = liveTxs(4, `after-${round}`);
      await Promise.all(txs.map((t) => back.service.submit(t)));
      await waitFor(
        async () => (await Promise.all(txs.map((t) => back.store.tx(t.hash)))).every((x) => x !== undefined),
        'txs submitted to the returned validator are committed there',
      );
    }
    await cluster.waitHeight(back.chain.head().height);
    await sameBlock(cluster.running, back.chain.head().height);
  });

  it('a validator started on an empty data directory syncs the whole chain', async () => {
    const head = await cluster.waitQuiet();
    await cluster.stop(2, true);
    const fresh = await cluster.start(2);
    expect(fresh.chain.head().height).toBe(0);
    await cluster.waitHeight(head, [fresh], 90_000);
    await sameBlock(cluster.running, head);
    const rate = fresh.service.status().sync;
    console.log(
      `empty data directory: ${fresh.synced.length} blocks at ${rate.blocksPerSec?.toFixed(0)} blocks/s`,
    );
    expect(fresh.synced).toEqual(Array.from({ length: head }, (_, k) => k + 1));
  });
});
