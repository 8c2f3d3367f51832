import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import { createGater } from '../../../src/p2p/gater.ts';
import { MemoryMetrics } from '../../../src/p2p/metrics.ts';
import { RecordingLogger, testPeerId } from '../../helpers/p2p.ts';

const allowed = testPeerId('allowed');
const banned = testPeerId('banned');
const stranger = testPeerId('stranger');
const maConn = { remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/4001') } as any;

function setup() {
  const logger = new RecordingLogger();
  const metrics = new MemoryMetrics();
  const gater = createGater(
    {
      isAllowed: (p) => p === allowed || p === banned,
      bannedUntil: (p) => (p === banned ? 123 : undefined),
    },
    logger,
    metrics,
  );
  return { gater, logger, metrics };
}

describe('connection gater', () => {
  it('admits allowlisted peers in both directions', async () => {
    const { gater, metrics } = setup();
    const p = peerIdFromString(allowed);
    expect(await gater.denyInboundEncryptedConnection!(p, maConn)).toBe(false);
    expect(await gater.denyOutboundEncryptedConnection!(p, maConn)).toBe(false);
    expect(await gater.denyDialPeer!(p)).toBe(false);
    expect(metrics.get('p2p_connections_refused_total')).toBe(0);
  });

  it('refuses, logs and counts peers not on the allowlist', async () => {
    const { gater, logger, metrics } = setup();
    const p = peerIdFromString(stranger);
    expect(await gater.denyInboundEncryptedConnection!(p, maConn)).toBe(true);
    expect(await gater.denyOutboundEncryptedConnection!(p, maConn)).toBe(true);
    expect(
      metrics.get('p2p_connections_refused_total', { reason: 'not-allowlisted', direction: 'inbound' }),
    ).toBe(1);
    expect(
      metrics.get('p2p_connections_refused_total', { reason: 'not-allowlisted', direction: 'outbound' }),
    ).toBe(1);
    const logged = logger.find('refused by gater', { peer: stranger, reason: 'not-allowlisted' });
    expect(logged.map((e) => e.fields.direction)).toEqual(['inbound', 'outbound']);
    expect(logged[0]!.level).toBe('warn');
    expect(logged[0]!.fields.remoteAddr).toBe('/ip4/127.0.0.1/tcp/4001');
  });

  it('refuses banned peers with the ban end in the log', async () => {
    const { gater, logger, metrics } = setup();
    expect(await gater.denyInboundEncryptedConnection!(peerIdFromString(banned), maConn)).toBe(true);
    expect(metrics.get('p2p_connections_refused_total', { reason: 'banned' })).toBe(1);
    expect(logger.find('refused by gater', { peer: banned })[0]!.fields.bannedUntil).toBe(123);
  });
});
