/** Oversize and invalid frames are dropped and penalised; a persistent offender is banned, then readmitted. */
import { afterEach, describe, expect, it } from 'vitest';
import { type MessageProtocolConfig, ProtocolId, Verdicts } from '../../../src/p2p/index.ts';
import { DEFAULT_PROTOCOLS } from '../../../src/p2p/limits.ts';
import { allowlistOf, fullyConnected, HostPool, LOOPBACK, shareAddrs, waitFor } from '../../helpers/p2p.ts';

const pool = new HostPool();
afterEach(() => pool.stopAll());

const BAN_MS = 4000;

/** The same protocols with the consensus frame limit set to `maxFrameBytes`. */
function protocolsWithConsensusLimit(maxFrameBytes: number) {
  return DEFAULT_PROTOCOLS.map((p) =>
    p.id === ProtocolId.consensus ? ({ ...p, maxFrameBytes } as MessageProtocolConfig) : p,
  );
}

async function pair() {
  const labels = ['sender', 'receiver'];
  const limits = {
    scoring: { oversizePenalty: 25, invalidPenalty: 10, banThreshold: 100, banDurationMs: BAN_MS },
    // The sender redials often, so it knocks on the door while banned.
    backoff: { baseMs: 50, capMs: 200, stableAfterMs: 60_000 },
  };
  // A misconfigured (or hostile) sender allows itself 64 KiB consensus frames; the receiver allows 1 KiB.
  const sender = pool.create('sender', {
    listen: [LOOPBACK],
    allowlist: allowlistOf(labels),
    protocols: protocolsWithConsensusLimit(64 * 1024),
    limits,
  });
  const receiver = pool.create('receiver', {
    listen: [LOOPBACK],
    allowlist: allowlistOf(labels),
    protocols: protocolsWithConsensusLimit(1024),
    limits,
  });
  const delivered: Uint8Array[] = [];
  receiver.host.onMessage(ProtocolId.consensus, (_peer, frame) => {
    delivered.push(frame);
    return frame[0] === 0xff ? Verdicts.reject('bad signature') : Verdicts.accept();
  });
  await Promise.all([sender.host.start(), receiver.host.start()]);
  shareAddrs([sender, receiver]);
  await waitFor(() => fullyConnected([sender, receiver]), 'pair connected');
  return { sender, receiver, delivered };
}

describe('scoring and bans', () => {
  it('drops an oversize frame without delivering it, resets the stream and keeps the peer', async () => {
    const { sender, receiver, delivered } = await pair();
    expect(sender.host.send(receiver.peerId, ProtocolId.consensus, new Uint8Array(4096))).toBe('queued');
    await waitFor(
      () => receiver.metrics.get('p2p_frames_dropped_total', { reason: 'oversize' }) === 1,
      'oversize drop counted',
    );
    expect(delivered).toHaveLength(0);
    expect(receiver.host.peerStatus(sender.peerId)?.score).toBeGreaterThan(0);
    expect(receiver.logger.find('oversize frame', { peer: sender.peerId })).toHaveLength(1);
    // The sender's stream was reset; its next frames go out on a new stream. (A frame written before the
    // reset reaches the sender is lost with the old stream, so keep offering one until it arrives.)
    await waitFor(() => {
      if (delivered.length === 0)
        sender.host.send(receiver.peerId, ProtocolId.consensus, Uint8Array.of(1, 2, 3));
      return delivered.length > 0;
    }, 'a valid frame after the reset');
    expect([...delivered[0]!]).toEqual([1, 2, 3]);
    expect(receiver.host.connectedPeers()).toContain(sender.peerId);
    expect(receiver.metrics.get('p2p_bans_total')).toBe(0);
  });

  it.each([
    ['oversize', () => new Uint8Array(2048)],
    ['invalid', () => Uint8Array.of(0xff, 0)],
  ])(
    'bans a peer that keeps sending %s frames, refuses it while banned, readmits it after',
    async (kind, bad) => {
      const { sender, receiver } = await pair();
      await waitFor(() => {
        if (receiver.metrics.get('p2p_bans_total') === 0)
          sender.host.send(receiver.peerId, ProtocolId.consensus, bad());
        return receiver.metrics.get('p2p_bans_total') === 1;
      }, `ban after repeated ${kind} frames`);
      const reason = kind === 'oversize' ? 'oversize' : 'invalid';
      expect(receiver.metrics.get('p2p_frames_dropped_total', { reason })).toBeGreaterThanOrEqual(
        kind === 'oversize' ? 4 : 10,
      );
      expect(receiver.metrics.get('p2p_disconnects_total', { reason: 'banned' })).toBe(1);
      expect(receiver.logger.find('peer banned', { peer: sender.peerId })).toHaveLength(1);
      const until = receiver.host.peerStatus(sender.peerId)?.bannedUntil;
      expect(until).toBeTypeOf('number');

      await waitFor(
        () => !receiver.host.connectedPeers().includes(sender.peerId),
        'banned peer disconnected',
      );
      // The sender redials; the receiver's gater refuses it for as long as the ban lasts.
      await waitFor(
        () => receiver.metrics.get('p2p_connections_refused_total', { reason: 'banned' }) > 0,
        'a redial refused because of the ban',
      );
      expect(
        receiver.logger.find('refused by gater', { peer: sender.peerId, reason: 'banned' }).length,
      ).toBeGreaterThan(0);

      await waitFor(() => receiver.host.connectedPeers().includes(sender.peerId), 'readmitted after the ban');
      expect(Date.now()).toBeGreaterThanOrEqual(until!);
      const status = receiver.host.peerStatus(sender.peerId)!;
      expect(status.bannedUntil).toBeUndefined();
      expect(status.score).toBe(0);
    },
  );
});
