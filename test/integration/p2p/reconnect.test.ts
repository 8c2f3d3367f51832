/** Reconnection after a peer restarts: on the same port by backoff, on a new port after updatePeerAddrs. */
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolId } from '../../../src/p2p/index.ts';
import {
  allowlistOf,
  fullyConnected,
  HostPool,
  LOOPBACK,
  portOf,
  shareAddrs,
  type TestNode,
  waitFor,
} from '../../helpers/p2p.ts';

const pool = new HostPool();
afterEach(() => pool.stopAll());

const labels = ['a', 'b'];
const limits = { backoff: { baseMs: 100, capMs: 500, stableAfterMs: 60_000 } };

async function start(): Promise<[TestNode, TestNode]> {
  const a = pool.create('a', { listen: [LOOPBACK], allowlist: allowlistOf(labels), limits });
  const b = pool.create('b', { listen: [LOOPBACK], allowlist: allowlistOf(labels), limits });
  await Promise.all([a.host.start(), b.host.start()]);
  shareAddrs([a, b]);
  await waitFor(() => fullyConnected([a, b]), 'a and b connected');
  return [a, b];
}

/** b restarted: same key, given listen address, and no address for a, so only a's dialer can reconnect. */
async function restartB(listen: string): Promise<TestNode> {
  const b2 = pool.create('b', { listen: [listen], allowlist: allowlistOf(labels), limits });
  await b2.host.start();
  return b2;
}

async function exchange(from: TestNode, to: TestNode): Promise<void> {
  const got: number[] = [];
  to.host.onMessage(ProtocolId.consensus, (_p, f) => {
    got.push(f[0]!);
  });
  expect(from.host.send(to.peerId, ProtocolId.consensus, Uint8Array.of(77))).toBe('queued');
  await waitFor(() => got.includes(77), 'frame delivered after reconnect');
}

describe('reconnect', () => {
  it('redials a peer that stops and restarts on the same port', async () => {
    const [a, b] = await start();
    const port = portOf(b.host.addrs()[0]!);
    await b.host.stop();
    await waitFor(() => !a.host.connectedPeers().includes(b.peerId), 'a noticed b is gone');
    // While b is down, a keeps trying with growing delays.
    await waitFor(() => a.metrics.get('p2p_dials_total', { result: 'failed' }) >= 2, 'a retrying');
    expect(a.host.peerStatus(b.peerId)!.dialAttempt).toBeGreaterThanOrEqual(2);
    const b2 = await restartB(`/ip4/127.0.0.1/tcp/${port}`);
    expect(b2.peerId).toBe(b.peerId);
    await waitFor(() => a.host.connectedPeers().includes(b2.peerId), 'a reconnected to restarted b');
    await waitFor(() => b2.host.connectedPeers().includes(a.peerId), 'b sees a');
    await exchange(a, b2);
  });

  it('reconnects to a peer that restarted on a new port once its address is updated', async () => {
    const [a, b] = await start();
    await b.host.stop();
    await waitFor(() => !a.host.connectedPeers().includes(b.peerId), 'a noticed b is gone');
    const b2 = await restartB(LOOPBACK);
    const newAddrs = b2.host.addrs();
    // Still dialling the old port: no connection however long we wait for a few attempts.
    const failed = a.metrics.get('p2p_dials_total', { result: 'failed' });
    await waitFor(
      () => a.metrics.get('p2p_dials_total', { result: 'failed' }) >= failed + 2,
      'more failed dials',
    );
    expect(a.host.connectedPeers()).not.toContain(b.peerId);
    a.host.updatePeerAddrs(b.peerId, newAddrs);
    expect(a.host.peerStatus(b.peerId)!.addrs).toEqual(newAddrs);
    await waitFor(() => a.host.connectedPeers().includes(b2.peerId), 'a reached b at its new address');
    await exchange(a, b2);
  });

  it('a stopped host can be started again; it redials its peers and keeps its handlers', async () => {
    const [a, b] = await start();
    const got: number[] = [];
    a.host.onMessage(ProtocolId.tx, (_p, f) => {
      got.push(f[0]!);
    });
    await a.host.stop();
    expect(a.host.isStarted()).toBe(false);
    expect(a.host.addrs()).toEqual([]);
    await waitFor(() => !b.host.connectedPeers().includes(a.peerId), 'b noticed a is gone');
    await a.host.start();
    await waitFor(() => fullyConnected([a, b]), 'a redialled b after its restart');
    await waitFor(() => {
      if (!got.includes(5)) b.host.send(a.peerId, ProtocolId.tx, Uint8Array.of(5));
      return got.includes(5);
    }, 'the handler registered before the restart still receives');
  });
});
