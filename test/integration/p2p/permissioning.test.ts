/** Only allowlisted peers get a connection; refusals are logged and counted; the allowlist can change. */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { Libp2p } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import { createGater } from '../../../src/p2p/gater.ts';
import { MemoryMetrics, ProtocolId } from '../../../src/p2p/index.ts';
import {
  allowlistOf,
  fullyConnected,
  HostPool,
  LOOPBACK,
  portOf,
  RecordingLogger,
  shareAddrs,
  testPeerId,
  testSeed,
  waitFor,
} from '../../helpers/p2p.ts';

const pool = new HostPool();
const bare: Libp2p[] = [];
afterEach(async () => {
  await Promise.allSettled(bare.splice(0).map((n) => n.stop()));
  await pool.stopAll();
});

const fastRetry = { backoff: { baseMs: 50, capMs: 400, stableAfterMs: 60_000 } };

describe('permissioning', () => {
  it('refuses a host that is not on the allowlist when it dials in, and logs and counts each refusal', async () => {
    const members = ['a', 'b'];
    const a = pool.create('a', { listen: [LOOPBACK], allowlist: allowlistOf(members), limits: fastRetry });
    const b = pool.create('b', { listen: [LOOPBACK], allowlist: allowlistOf(members), limits: fastRetry });
    // The intruder lists a and b as validators, so it keeps dialling them.
    const x = pool.create('intruder', {
      listen: [LOOPBACK],
      allowlist: allowlistOf([...members, 'intruder']),
      limits: fastRetry,
    });
    const got: string[] = [];
    a.host.onMessage(ProtocolId.consensus, (peer) => {
      got.push(peer);
    });
    await Promise.all([a, b, x].map((n) => n.host.start()));
    shareAddrs([a, b, x]);
    await waitFor(() => fullyConnected([a, b]), 'a and b connected');
    const refusedAt = (n: typeof a) =>
      n.metrics.get('p2p_connections_refused_total', { direction: 'inbound', reason: 'not-allowlisted' });
    await waitFor(() => refusedAt(a) >= 2 && refusedAt(b) >= 2, 'repeated refusals of the intruder');
    for (const n of [a, b]) {
      expect(n.host.connectedPeers()).not.toContain(x.peerId);
      expect(n.host.peerStatus(x.peerId)).toBeUndefined();
      const logs = n.logger.find('refused by gater', { peer: x.peerId, reason: 'not-allowlisted' });
      expect(logs.length).toBeGreaterThanOrEqual(2);
      expect(logs[0]!.level).toBe('warn');
    }
    // Whatever the intruder manages to queue during its brief pre-refusal window never reaches a handler.
    for (let i = 0; i < 20; i++) x.host.send(a.peerId, ProtocolId.consensus, new Uint8Array(8));
    b.host.send(a.peerId, ProtocolId.consensus, new Uint8Array(8));
    await waitFor(() => got.includes(b.peerId), 'frame from b');
    expect(got.every((p) => p === b.peerId)).toBe(true);
  });

  it('refuses an outbound connection whose remote turns out not to be allowlisted', async () => {
    // A host we must never talk to, listening somewhere we might dial by address.
    const x = pool.create('intruder', { listen: [LOOPBACK], allowlist: allowlistOf(['intruder']) });
    await x.host.start();
    // A libp2p node using our gater with an empty allowlist dials x by address alone (no peer id known in
    // advance): the check happens after Noise proves x's identity.
    const logger = new RecordingLogger();
    const metrics = new MemoryMetrics();
    const node = await createLibp2p({
      privateKey: await generateKeyPairFromSeed('Ed25519', testSeed('dialer')),
      addresses: { listen: [LOOPBACK] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: createGater({ isAllowed: () => false, bannedUntil: () => undefined }, logger, metrics),
      connectionMonitor: { enabled: false },
    });
    bare.push(node);
    const port = portOf(x.host.addrs()[0]!);
    await expect(node.dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}`))).rejects.toThrow();
    expect(
      metrics.get('p2p_connections_refused_total', { direction: 'outbound', reason: 'not-allowlisted' }),
    ).toBe(1);
    expect(logger.find('refused by gater', { peer: x.peerId, direction: 'outbound' })).toHaveLength(1);
    expect(node.getConnections()).toHaveLength(0);
  });

  it('admits configured observers without dialling them', async () => {
    const a = pool.create('a', { listen: [LOOPBACK], allowlist: allowlistOf(['a'], ['obs']) });
    const obs = pool.create('obs', { listen: [LOOPBACK], allowlist: allowlistOf(['a']) });
    await Promise.all([a.host.start(), obs.host.start()]);
    expect(a.host.roleOf(obs.peerId)).toBe('observer');
    expect(a.host.peerStatus(obs.peerId)?.addrs).toEqual([]);
    obs.host.updatePeerAddrs(a.peerId, a.host.addrs());
    await waitFor(() => a.host.connectedPeers().includes(obs.peerId), 'observer connected to a');
    const frames: number[] = [];
    obs.host.onMessage(ProtocolId.consensus, (_p, f) => {
      frames.push(f.length);
    });
    expect(a.host.broadcast(ProtocolId.consensus, new Uint8Array(3)).get(obs.peerId)).toBe('queued');
    await waitFor(() => frames.length === 1, 'observer received the broadcast');
  });

  it('disconnects a peer removed from the allowlist at runtime and refuses it from then on', async () => {
    const members = ['a', 'b', 'c'];
    const nodes = members.map((l) =>
      pool.create(l, { listen: [LOOPBACK], allowlist: allowlistOf(members), limits: fastRetry }),
    );
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    await Promise.all(nodes.map((n) => n.host.start()));
    shareAddrs(nodes);
    await waitFor(() => fullyConnected(nodes), 'all connected');
    // The validator set changes: c leaves. a applies the new list; c keeps trying to reach a.
    const bAddrs = b.host.addrs();
    a.host.setAllowlist({ validators: [{ peerId: b.peerId, addrs: bAddrs }] });
    await waitFor(() => !a.host.connectedPeers().includes(c.peerId), 'a dropped c');
    expect(a.metrics.get('p2p_disconnects_total', { reason: 'not-allowlisted' })).toBe(1);
    expect(a.host.roleOf(c.peerId)).toBeUndefined();
    await waitFor(
      () =>
        a.metrics.get('p2p_connections_refused_total', { direction: 'inbound', reason: 'not-allowlisted' }) >
        0,
      'c refused when it redials a',
    );
    expect(a.host.connectedPeers()).toEqual([b.peerId]);
    expect(b.host.connectedPeers().sort()).toEqual([a.peerId, c.peerId].sort());
    // Adding c back admits it again.
    a.host.setAllowlist({
      validators: [
        { peerId: b.peerId, addrs: bAddrs },
        { peerId: c.peerId, addrs: c.host.addrs() },
      ],
    });
    await waitFor(() => a.host.connectedPeers().includes(c.peerId), 'c readmitted');
    expect(testPeerId('c')).toBe(c.peerId);
  });
});
