/**
 * The libp2p connection gater: only allowlisted, unbanned peers get past the Noise handshake. The check runs
 * at the encrypted stage because that is the first point where the remote has proven its key; before it we
 * only know an IP address. Dials are gated too, so we never spend a handshake on a peer we would refuse.
 */
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface';
import { LogBudget } from '../core/log-limit.ts';
import type { Logger } from './logger.ts';
import { MetricName, type MetricsSink, RefusalReason } from './metrics.ts';

export interface AdmissionPolicy {
  isAllowed(peerId: string): boolean;
  /** Epoch ms the ban ends, or undefined when not banned. */
  bannedUntil(peerId: string): number | undefined;
}

export function createGater(policy: AdmissionPolicy, logger: Logger, metrics: MetricsSink): ConnectionGater {
  const refuse = (direction: 'inbound' | 'outbound', peer: PeerId, remoteAddr?: string): boolean => {
    const peerId = peer.toString();
    let reason: RefusalReason | undefined;
    let until: number | undefined;
    if (!policy.isAllowed(peerId)) reason = RefusalReason.notAllowlisted;
    else {
      until = policy.bannedUntil(peerId);
      if (until !== undefined) reason = RefusalReason.banned;
    }
    if (reason === undefined) return false;
    metrics.increment(MetricName.connectionsRefused, { direction, reason });
    logger.warn(
      { peer: peerId, direction, reason, remoteAddr, bannedUntil: until },
      'p2p: connection refused by gater',
    );
    return true;
  };
  // An inbound connection that closes before reaching the encrypted stage failed its handshake: anyone can
  // cause that, so it is counted always and logged within a budget.
  const handshaken = new WeakSet<MultiaddrConnection>();
  const budget = new LogBudget();
  const watchHandshake = (maConn: MultiaddrConnection): boolean => {
    maConn.addEventListener(
      'close',
      () => {
        if (handshaken.has(maConn)) return;
        metrics.increment(MetricName.handshakesFailed, {});
        const slot = budget.take();
        if (!slot.ok) return;
        const more = slot.suppressed > 0 ? { suppressedBefore: slot.suppressed } : {};
        logger.warn(
          { remoteAddr: maConn.remoteAddr.toString(), ...more },
          'p2p: inbound connection closed before its handshake completed',
        );
      },
      { once: true },
    );
    return false;
  };
  return {
    denyDialPeer: (peer) => refuse('outbound', peer),
    denyInboundConnection: watchHandshake,
    denyInboundEncryptedConnection: (peer, maConn) => {
      handshaken.add(maConn);
      return refuse('inbound', peer, maConn.remoteAddr.toString());
    },
    denyOutboundEncryptedConnection: (peer, maConn) => refuse('outbound', peer, maConn.remoteAddr.toString()),
  };
}
