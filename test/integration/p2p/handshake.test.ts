/** Garbage and failed handshakes on the p2p port are counted and logged (within a budget); peers are not. */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { allowlistOf, fullyConnected, HostPool, LOOPBACK, portOf, waitFor } from '../../helpers/p2p.ts';

const pool = new HostPool();
afterEach(() => pool.stopAll());

const FAILED = 'p2p_handshakes_failed_total';

function garbage(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' }, () =>
      s.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n\u0000\u00ff'),
    );
    s.on('error', () => {});
    s.on('close', () => resolve());
  });
}

describe('failed handshakes', () => {
  it('are counted and logged; a peer that connects and leaves is not', async () => {
    const a = pool.create('a', { listen: [LOOPBACK], allowlist: allowlistOf(['a', 'b']) });
    const b = pool.create('b', { listen: [LOOPBACK], allowlist: allowlistOf(['a', 'b']) });
    await Promise.all([a.host.start(), b.host.start()]);
    // Only b knows where a listens, so b's connection is inbound at a, through the same gater stages.
    b.host.updatePeerAddrs(a.peerId, a.host.addrs());
    await waitFor(() => fullyConnected([a, b]), 'a and b connected');
    const port = portOf(a.host.addrs()[0]!);
    for (let i = 0; i < 3; i++) await garbage(port);
    await waitFor(() => a.metrics.get(FAILED) >= 3, 'three failed handshakes counted');
    const logs = a.logger.find('closed before its handshake completed');
    expect(logs.length).toBe(3);
    expect(logs[0]!.level).toBe('warn');
    expect(String(logs[0]!.fields.remoteAddr)).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/);
    await b.host.stop();
    await waitFor(() => !a.host.connectedPeers().includes(b.peerId), 'b gone');
    expect(a.metrics.get(FAILED)).toBe(3);
  });
});
