/** An observer node relays the txs its clients submit to the validators, and follows them to its own ledger. */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/p2p.ts';
import { liveTxs, UNREACHABLE, ValidatorCluster, validatorKey } from '../../helpers/validators.ts';

let cluster: ValidatorCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

describe('an observer node', () => {
  it('takes txs and gets them committed through the one validator it reaches', async () => {
    const c = new ValidatorCluster();
    cluster = c;
    const observerKey = validatorKey(9);
    for (let i = 0; i < 4; i++) await c.start(i, { observers: [observerKey.peerId] });
    await c.waitConnected();
    const primary = c.node(0).service.status().primary;
    const via = (primary + 1) % 4;
    // The observer dials one backup only (which forwards its txs to the others, as for a client's).
    const unreachable: Record<string, string[]> = {};
    for (let i = 0; i < 4; i++) if (i !== via) unreachable[validatorKey(i).peerId] = UNREACHABLE;
    const observer = await c.start(4, { key: observerKey, peerAddrs: unreachable });
    // connectedValidators counts the node itself.
    await waitFor(
      () => observer.service.status().connectedValidators >= 2,
      'the observer to reach a validator',
    );

    const txs = liveTxs(5, 'observer');
    const results = await observer.service.submitMany(txs);
    expect(results.map((r) => (r.status === 'rejected' ? r.rejection.code : r.status))).toEqual(
      txs.map(() => 'accepted'),
    );
    const all = [...c.running];
    await waitFor(async () => {
      for (const n of all) for (const t of txs) if ((await n.store.tx(t.hash)) === undefined) return false;
      return true;
    }, 'every tx committed on every validator and synced by the observer');
    expect((await observer.service.submit(txs[0]!)).status).toBe('committed');
    expect(observer.service.status().pendingTxs).toBe(0);
    expect(observer.heights).toEqual([]);
  });
});
