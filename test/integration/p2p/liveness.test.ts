/** A peer that goes silent without closing the connection (hung process, partition) is detected and redialled. */
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolId } from '../../../src/p2p/index.ts';
import { allowlistOf, HostPool, LOOPBACK, portOf, waitFor } from '../../helpers/p2p.ts';
import { FreezableProxy } from '../../helpers/tcp-proxy.ts';

const pool = new HostPool();
const proxies: FreezableProxy[] = [];
afterEach(async () => {
  await pool.stopAll();
  await Promise.allSettled(proxies.splice(0).map((p) => p.close()));
});

describe('liveness', () => {
  it('drops a connection that stops answering and reconnects once the peer is reachable again', async () => {
    const labels = ['a', 'b'];
    const limits = {
      livenessIntervalMs: 300,
      livenessTimeoutMs: 1000,
      dialTimeoutMs: 2000,
      backoff: { baseMs: 100, capMs: 500, stableAfterMs: 60_000 },
    };
    const a = pool.create('a', { listen: [LOOPBACK], allowlist: allowlistOf(labels), limits });
    // b knows no address for a, so the only path between them is a's dial through the proxy.
    const b = pool.create('b', { listen: [LOOPBACK], allowlist: allowlistOf(labels), limits });
    const got: number[] = [];
    b.host.onMessage(ProtocolId.consensus, (_p, f) => {
      got.push(f[0]!);
    });
    await Promise.all([a.host.start(), b.host.start()]);
    const proxy = await FreezableProxy.start(portOf(b.host.addrs()[0]!));
    proxies.push(proxy);
    a.host.updatePeerAddrs(b.peerId, [`/ip4/127.0.0.1/tcp/${proxy.port}`]);
    await waitFor(() => a.host.connectedPeers().includes(b.peerId), 'a connected to b through the proxy');

    const events: string[] = [];
    a.host.onPeerEvent((peer, event) => {
      if (peer === b.peerId) events.push(event);
    });
    proxy.freeze();
    await waitFor(() => events.includes('disconnected'), 'a dropped the silent connection');
    expect(a.host.connectedPeers()).not.toContain(b.peerId);

    proxy.thaw();
    await waitFor(
      () => a.host.connectedPeers().includes(b.peerId),
      'a reconnected after the partition healed',
    );
    await waitFor(() => {
      if (!got.includes(9)) a.host.send(b.peerId, ProtocolId.consensus, Uint8Array.of(9));
      return got.includes(9);
    }, 'frames flow again');
  });
});
