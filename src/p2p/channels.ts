/**
 * The host's outbound channels: one per connected peer and message protocol (outbound.ts), opened on the
 * first frame and closed with the peer's connections.
 */
import type { Stream } from '@libp2p/interface';
import type { HostLimits, MessageProtocolConfig } from './limits.ts';
import type { Logger } from './logger.ts';
import type { DropReason, MetricsSink } from './metrics.ts';
import { type EnqueueResult, OutboundChannel } from './outbound.ts';

export interface OutboundChannelsInit {
  readonly limits: HostLimits;
  /** Opens a fresh stream to the peer on an open connection; rejects when there is none. */
  openStream(peerId: string, protocol: string, signal: AbortSignal): Promise<Stream>;
  /** A channel to the peer stalled: the host disconnects it. */
  onStall(peerId: string): void;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
}

export class OutboundChannels {
  private readonly init: OutboundChannelsInit;
  private readonly byPeer = new Map<string, Map<string, OutboundChannel>>();

  constructor(init: OutboundChannelsInit) {
    this.init = init;
  }

  /** Queues a frame on the peer's channel for the protocol, opening the channel when there is none. */
  enqueue(peerId: string, cfg: MessageProtocolConfig, frame: Uint8Array): EnqueueResult {
    let byProtocol = this.byPeer.get(peerId);
    if (byProtocol === undefined) {
      byProtocol = new Map();
      this.byPeer.set(peerId, byProtocol);
    }
    let channel = byProtocol.get(cfg.id);
    if (channel === undefined || channel.isClosed) {
      const { limits, logger, metrics } = this.init;
      channel = new OutboundChannel({
        peerId,
        protocol: cfg,
        writeBatchBytes: limits.writeBatchBytes,
        stallTimeoutMs: limits.stallTimeoutMs,
        openStream: () =>
          this.init.openStream(peerId, cfg.id, AbortSignal.timeout(limits.streamOpenTimeoutMs)),
        onStall: () => this.init.onStall(peerId),
        logger,
        metrics,
      });
      byProtocol.set(cfg.id, channel);
    }
    return channel.enqueue(frame);
  }

  /** Closes the peer's channels, dropping what they still hold with `reason`. */
  close(peerId: string, reason: DropReason): void {
    const byProtocol = this.byPeer.get(peerId);
    if (byProtocol === undefined) return;
    this.byPeer.delete(peerId);
    for (const ch of byProtocol.values()) ch.close(reason);
  }

  closeAll(reason: DropReason): void {
    for (const peerId of [...this.byPeer.keys()]) this.close(peerId, reason);
  }

  /** Frames and bytes queued to the peer, all protocols together. */
  queued(peerId: string): { frames: number; bytes: number } {
    let frames = 0;
    let bytes = 0;
    for (const ch of this.byPeer.get(peerId)?.values() ?? []) {
      frames += ch.queuedFrames;
      bytes += ch.queuedBytes;
    }
    return { frames, bytes };
  }
}
