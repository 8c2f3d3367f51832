/**
 * A stalled peer (a handler that never returns, or a peer that stops reading) must not stop the others, and
 * the queue towards it stays bounded. Inbound floods are rate-limited per peer.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { Libp2p } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import { type MessageProtocolConfig, ProtocolId } from '../../../src/p2p/index.ts';
import { DEFAULT_PROTOCOLS } from '../../../src/p2p/limits.ts';
import {
  allowlistOf,
  fullyConnected,
  HostPool,
  LOOPBACK,
  shareAddrs,
  type TestNode,
  testSeed,
  waitFor,
} from '../../helpers/p2p.ts';

const pool = new HostPool();
const bare: Libp2p[] = [];
afterEach(async () => {
  await Promise.allSettled(bare.splice(0).map((n) => n.stop()));
  await pool.stopAll();
});

const QUEUE_FRAMES = 256;
const QUEUE_BYTES = 512 * 1024;
const FRAME = 1024;

/** Default protocols with a small consensus queue, so filling it is quick. */
const protocols = DEFAULT_PROTOCOLS.map((p) =>
  p.id === ProtocolId.consensus
    ? ({
        ...p,
        maxFrameBytes: 64 * 1024,
        maxQueueFrames: QUEUE_FRAMES,
        maxQueueBytes: QUEUE_BYTES,
      } as MessageProtocolConfig)
    : p,
);

function frame(seq: number): Uint8Array {
  const f = new Uint8Array(FRAME);
  new DataView(f.buffer).setUint32(0, seq);
  return f;
}

const seqOf = (f: Uint8Array) => new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(0);

function queueBounded(from: TestNode, to: string): void {
  const s = from.host.peerStatus(to)!;
  expect(s.queuedFrames).toBeLessThanOrEqual(QUEUE_FRAMES);
  expect(s.queuedBytes).toBeLessThanOrEqual(QUEUE_BYTES);
}

describe('back-pressure', () => {
  it('a handler that never returns stalls only its own peer; the queue towards it stays bounded', async () => {
    const labels = ['a', 'b', 'c'];
    // No stall disconnect during this test: we want to watch the queue towards c stay full but bounded.
    const limits = { stallTimeoutMs: 600_000 };
    const nodes = labels.map((l) =>
      pool.create(l, { listen: [LOOPBACK], allowlist: allowlistOf(labels), protocols, limits }),
    );
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const atB: number[] = [];
    const atCfromB: number[] = [];
    let atCfromA = 0;
    b.host.onMessage(ProtocolId.consensus, (_p, f) => {
      atB.push(seqOf(f));
    });
    c.host.onMessage(ProtocolId.consensus, (peer, f) => {
      if (peer === a.peerId) {
        atCfromA++;
        return new Promise(() => {}); // never settles
      }
      atCfromB.push(seqOf(f));
      return undefined;
    });
    await Promise.all(nodes.map((n) => n.host.start()));
    shareAddrs(nodes);
    await waitFor(() => fullyConnected(nodes), 'all connected');

    const rounds = 20;
    const perRound = 100;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < perRound; i++) {
        const seq = r * perRound + i;
        a.host.send(c.peerId, ProtocolId.consensus, frame(seq));
        a.host.send(b.peerId, ProtocolId.consensus, frame(seq));
        b.host.send(c.peerId, ProtocolId.consensus, frame(seq));
      }
      queueBounded(a, c.peerId);
      const want = (r + 1) * perRound;
      await waitFor(() => atB.length === want && atCfromB.length === want, `round ${r} delivered to b and c`);
      queueBounded(a, c.peerId);
    }
    const all = Array.from({ length: rounds * perRound }, (_, i) => i);
    expect(atB).toEqual(all);
    expect(atCfromB).toEqual(all);
    expect(atCfromA).toBe(1);
    // Everything past the Yamux window and the queue bound was refused at a, and counted.
    expect(a.metrics.get('p2p_frames_dropped_total', { reason: 'queue-full' })).toBeGreaterThan(0);
    expect(a.host.peerStatus(c.peerId)!.queuedFrames).toBeGreaterThan(0);
    expect(b.metrics.get('p2p_frames_dropped_total')).toBe(0);
  });

  it('a peer that stops reading gets a bounded queue, then is disconnected as stalled; others are unaffected', async () => {
    const labels = ['a', 'b', 'r'];
    const limits = { stallTimeoutMs: 1500, backoff: { baseMs: 200, capMs: 1000, stableAfterMs: 60_000 } };
    const a = pool.create('a', { listen: [LOOPBACK], allowlist: allowlistOf(labels), protocols, limits });
    const b = pool.create('b', { listen: [LOOPBACK], allowlist: allowlistOf(labels), protocols, limits });
    // r holds a validator key but is a bare libp2p node that accepts the stream and never reads it.
    const r = await createLibp2p({
      privateKey: await generateKeyPairFromSeed('Ed25519', testSeed('r')),
      addresses: { listen: [LOOPBACK] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false },
    });
    bare.push(r);
    let streamsAtR = 0;
    await r.handle(ProtocolId.consensus, (stream) => {
      streamsAtR++;
      stream.pause();
    });
    const atB: number[] = [];
    b.host.onMessage(ProtocolId.consensus, (_p, f) => {
      atB.push(seqOf(f));
    });
    await Promise.all([a.host.start(), b.host.start()]);
    shareAddrs([a, b]);
    a.host.updatePeerAddrs(r.peerId.toString(), r.getMultiaddrs().map(String));
    const rId = r.peerId.toString();
    await waitFor(
      () => fullyConnected([a, b]) && a.host.connectedPeers().includes(rId),
      'a connected to b and r',
    );

    let seq = 0;
    const queuedForB: number[] = [];
    await waitFor(() => {
      // Keep offering a's traffic to both peers; b must keep receiving all of it.
      for (let i = 0; i < 50; i++) {
        a.host.send(rId, ProtocolId.consensus, frame(seq));
        if (a.host.send(b.peerId, ProtocolId.consensus, frame(seq)) === 'queued') queuedForB.push(seq);
        seq++;
      }
      if (a.host.peerStatus(rId)!.connected) queueBounded(a, rId);
      return a.metrics.get('p2p_disconnects_total', { reason: 'stalled' }) >= 1;
    }, 'a disconnects the stalled reader');
    expect(streamsAtR).toBeGreaterThan(0);
    expect(a.metrics.get('p2p_frames_dropped_total', { reason: 'queue-full' })).toBeGreaterThan(0);
    expect(a.logger.find('outbound stream stalled', { peer: rId }).length).toBeGreaterThan(0);
    await waitFor(() => atB.length === queuedForB.length, 'b received everything a queued for it');
    expect(atB).toEqual(queuedForB);
    expect(b.host.connectedPeers()).toContain(a.peerId);
  });

  it('rate-limits a flooding peer per its token bucket and counts the drops', async () => {
    const labels = ['a', 'b'];
    const a = pool.create('a', { listen: [LOOPBACK], allowlist: allowlistOf(labels) });
    const b = pool.create('b', {
      listen: [LOOPBACK],
      allowlist: allowlistOf(labels),
      limits: { inboundFrames: { perSecond: 10, burst: 20 } },
    });
    let delivered = 0;
    b.host.onMessage(ProtocolId.tx, () => {
      delivered++;
    });
    await Promise.all([a.host.start(), b.host.start()]);
    shareAddrs([a, b]);
    await waitFor(() => fullyConnected([a, b]), 'connected');
    const n = 500;
    for (let i = 0; i < n; i++)
      expect(a.host.send(b.peerId, ProtocolId.tx, new Uint8Array(16))).toBe('queued');
    const limited = () => b.metrics.get('p2p_frames_dropped_total', { reason: 'rate-limited' });
    await waitFor(() => delivered + limited() === n, 'every frame either delivered or rate-limited');
    expect(limited()).toBeGreaterThan(0);
    expect(delivered).toBeGreaterThanOrEqual(20);
    // Rate limiting is not misbehaviour: no penalty.
    expect(b.host.peerStatus(a.peerId)!.score).toBe(0);
  });
});
