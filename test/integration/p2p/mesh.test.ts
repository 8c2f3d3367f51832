/** Several allowlisted hosts on 127.0.0.1 connect and exchange frames on two protocols. */
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolId, Verdicts } from '../../../src/p2p/index.ts';
import {
  allowlistOf,
  fullyConnected,
  HostPool,
  LOOPBACK,
  shareAddrs,
  type TestNode,
  waitFor,
} from '../../helpers/p2p.ts';

const pool = new HostPool();
afterEach(() => pool.stopAll());

const labels = ['v0', 'v1', 'v2', 'v3'];

async function mesh(): Promise<TestNode[]> {
  const nodes = labels.map((l) => pool.create(l, { listen: [LOOPBACK], allowlist: allowlistOf(labels) }));
  await Promise.all(nodes.map((n) => n.host.start()));
  shareAddrs(nodes);
  await waitFor(() => fullyConnected(nodes), 'all four hosts connected to each other');
  return nodes;
}

function encode(from: string, seq: number): Uint8Array {
  return new TextEncoder().encode(`${from}:${seq}`);
}

describe('p2p mesh', () => {
  it('four allowlisted hosts connect and exchange frames on two protocols, in order per sender', async () => {
    const nodes = await mesh();
    const received = new Map<string, { consensus: string[]; tx: string[] }>();
    for (const n of nodes) {
      const log = { consensus: [] as string[], tx: [] as string[] };
      received.set(n.label, log);
      n.host.onMessage(ProtocolId.consensus, (peer, frame) => {
        expect(n.host.roleOf(peer)).toBe('validator');
        log.consensus.push(new TextDecoder().decode(frame));
      });
      // An async handler: frames from one peer still arrive in order.
      n.host.onMessage(ProtocolId.tx, async (_peer, frame) => {
        await Promise.resolve();
        log.tx.push(new TextDecoder().decode(frame));
        return Verdicts.accept();
      });
    }
    const perSender = 200;
    for (const n of nodes) {
      for (let i = 0; i < perSender; i++) {
        const results = n.host.broadcast(ProtocolId.consensus, encode(n.label, i));
        expect([...results.values()].every((r) => r === 'queued')).toBe(true);
        for (const other of nodes) {
          if (other !== n)
            expect(n.host.send(other.peerId, ProtocolId.tx, encode(n.label, i))).toBe('queued');
        }
      }
    }
    const total = perSender * (nodes.length - 1);
    await waitFor(
      () => [...received.values()].every((r) => r.consensus.length === total && r.tx.length === total),
      'every frame delivered',
    );
    for (const n of nodes) {
      const r = received.get(n.label)!;
      for (const other of nodes) {
        if (other === n) continue;
        const expected = Array.from({ length: perSender }, (_, i) => `${other.label}:${i}`);
        expect(r.consensus.filter((s) => s.startsWith(`${other.label}:`))).toEqual(expected);
        expect(r.tx.filter((s) => s.startsWith(`${other.label}:`))).toEqual(expected);
      }
      expect(n.metrics.get('p2p_frames_received_total', { verdict: 'accept' })).toBe(2 * total);
      expect(n.metrics.get('p2p_frames_dropped_total')).toBe(0);
    }
    // Per-peer status reflects the connections.
    const status = nodes[0]!.host.peerStatus(nodes[1]!.peerId)!;
    expect(status).toMatchObject({ role: 'validator', connected: true, bannedUntil: undefined, score: 0 });
    expect(status.connections).toBeGreaterThanOrEqual(1);
    expect(status.lastSeen).toBeTypeOf('number');
    expect(
      nodes[0]!.host
        .peers()
        .map((p) => p.peerId)
        .sort(),
    ).toEqual(
      nodes
        .slice(1)
        .map((n) => n.peerId)
        .sort(),
    );
  });

  it('uses the validator key as the libp2p identity and exposes bound addresses', async () => {
    const nodes = await mesh();
    for (const n of nodes) {
      const addrs = n.host.addrs();
      expect(addrs.length).toBeGreaterThan(0);
      for (const a of addrs) {
        expect(a).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/[1-9]\d*\/p2p\//);
        expect(a.endsWith(`/p2p/${n.peerId}`)).toBe(true);
      }
    }
  });

  it('reports peer connect and disconnect events', async () => {
    const nodes = await mesh();
    const events: string[] = [];
    const off = nodes[0]!.host.onPeerEvent((peer, event) => {
      if (peer === nodes[3]!.peerId) events.push(event);
    });
    await nodes[3]!.host.stop();
    await waitFor(() => events.includes('disconnected'), 'disconnect event');
    off();
    expect(nodes[0]!.host.peerStatus(nodes[3]!.peerId)?.connected).toBe(false);
    expect(nodes[0]!.host.send(nodes[3]!.peerId, ProtocolId.consensus, new Uint8Array(1))).toBe(
      'not-connected',
    );
    expect(nodes[0]!.metrics.get('p2p_frames_dropped_total', { reason: 'not-connected' })).toBe(1);
  });
});
