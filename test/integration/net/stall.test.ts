/**
 * A stalled validator: every connection to validator 3 goes through a TCP proxy that then freezes, as a hung
 * process or a silent partition would (the connections stay open, no byte moves). The other three keep
 * committing, their queues towards it stay within the protocol bounds, and once it thaws it catches up.
 * (test/integration/p2p/backpressure.test.ts drives such a queue to its bound and the stall timeout.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROTOCOLS } from '../../../src/p2p/index.ts';
import { FreezableProxy } from '../../helpers/tcp-proxy.ts';
import { liveTxs, UNREACHABLE, ValidatorCluster } from '../../helpers/validators.ts';

const cluster = new ValidatorCluster();
let proxy: FreezableProxy | undefined;
afterAll(async () => {
  await proxy?.close();
  await cluster.stopAll();
});

describe('a stalled validator', () => {
  it('does not stop the others from committing, and catches up when it resumes', async () => {
    const g = cluster.genesis;
    // Validator 3 never dials out, so the proxy carries every connection it has.
    const stalled = await cluster.start(3, {
      peerAddrs: Object.fromEntries(g.validators.slice(0, 3).map((v) => [v.peerId, UNREACHABLE])),
    });
    const port = Number(/\/tcp\/(\d+)/.exec(stalled.service.p2pAddrs()[0]!)![1]);
    proxy = await FreezableProxy.start(port);
    const via = { [g.validators[3]!.peerId]: [`/ip4/127.0.0.1/tcp/${proxy.port}`] };
    for (const i of [0, 1, 2]) await cluster.start(i, { peerAddrs: via });
    await cluster.waitConnected();
    const first = liveTxs(8, 'stall');
    await Promise.all(first.map((t, k) => cluster.node(k % 4).service.submit(t)));
    await cluster.waitQuiet();

    proxy.freeze();
    const others = [0, 1, 2].map((i) => cluster.node(i));
    const start = others[0]!.chain.head().height;
    const txs = liveTxs(120, 'stalled');
    await Promise.all(txs.map((t, k) => others[k % 3]!.service.submit(t)));
    await cluster.waitHeight(start + 30, others);
    const bounds = DEFAULT_PROTOCOLS.filter((p) => p.kind === 'message').reduce(
      (n, p) => n + p.maxQueueBytes,
      0,
    );
    for (const n of others) {
      const towards = n.service.status().peers.find((p) => p.peerId === g.validators[3]!.peerId)!;
      expect(towards.queuedBytes).toBeLessThanOrEqual(bounds);
    }
    expect(stalled.chain.head().height).toBe(start);

    proxy.thaw();
    const head = await cluster.waitQuiet();
    expect(stalled.chain.head().height).toBe(head);
  });
});
