/** Four validators on 127.0.0.1 commit evidence txs submitted to any of them. */
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { waitFor } from '../../helpers/p2p.ts';
import { liveTxs, ValidatorCluster } from '../../helpers/validators.ts';

let cluster: ValidatorCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

describe('four validators over libp2p', () => {
  it('commit evidence txs submitted to any of them, with the same blocks everywhere', async () => {
    const c = new ValidatorCluster();
    cluster = c;
    await c.startAll();
    await c.waitConnected();
    const txs = liveTxs(40, 'commit');
    const results = await Promise.all(txs.map((t, k) => c.node(k % 4).service.submit(t)));
    expect(results.map((r) => r.status)).toEqual(txs.map(() => 'accepted'));
    await waitFor(async () => {
      for (const n of c.running)
        for (const t of txs) if ((await n.store.tx(t.hash)) === undefined) return false;
      return true;
    }, 'every tx committed on every validator');
    const height = Math.min(...c.running.map((n) => n.chain.head().height));
    const hashes = await Promise.all(c.running.map(async (n) => toHex((await n.store.block(height))!.hash)));
    expect(new Set(hashes).size).toBe(1);
    // Retry-safe: submitting a committed tx again says so, on any validator.
    expect((await c.node(2).service.submit(txs[0]!)).status).toBe('committed');
    const s = c.node(1).service.status();
    expect(s).toMatchObject({
      chainId: c.genesis.chainId,
      connectedValidators: 4,
      quorum: 3,
      consensus: 'normal',
    });
    expect(s.height).toBeGreaterThanOrEqual(height);
    expect(c.running.filter((n) => n.service.isPrimary()).map((n) => n.index)).toEqual([s.primary]);
  });

  it('commit a batch submitted to one validator (submitMany): each tx answered, every tx on every chain', async () => {
    const c = new ValidatorCluster();
    cluster = c;
    await c.startAll();
    await c.waitConnected();
    const txs = liveTxs(30, 'batch');
    const results = await c.node(3).service.submitMany([...txs, txs[0]!]);
    expect(results.map((r) => r.status)).toEqual([...txs.map(() => 'accepted'), 'pending']);
    await waitFor(async () => {
      for (const n of c.running)
        for (const t of txs) if ((await n.store.tx(t.hash)) === undefined) return false;
      return true;
    }, 'every tx of the batch committed on every validator');
    const again = await c.node(0).service.submitMany(txs.slice(0, 2));
    expect(again.map((r) => r.status)).toEqual(['committed', 'committed']);
  });
});
