/**
 * Every p2p default in one place (node limits, documented in docs/limits.md and docs/p2p.md; keep them in
 * step). They protect one node and may differ between nodes; none of them is part of block validity.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/** Fire-and-forget protocol: one long-lived outbound stream per peer, frames queued and written in batches. */
export interface MessageProtocolConfig {
  readonly kind: 'message';
  /** Versioned id, e.g. `/jrchain/consensus/1.0.0`. */
  readonly id: string;
  /** Largest frame body accepted or sent. A larger length prefix is rejected before any body byte is read. */
  readonly maxFrameBytes: number;
  /** Outbound queue bound per peer: frames. */
  readonly maxQueueFrames: number;
  /** Outbound queue bound per peer: bytes (frame bodies). */
  readonly maxQueueBytes: number;
}

/** Request/response protocol: a stream per request carrying one request frame and one response frame. */
export interface RequestProtocolConfig {
  readonly kind: 'request';
  readonly id: string;
  readonly maxRequestBytes: number;
  readonly maxResponseBytes: number;
  /** Requests from one peer being served at once; more are refused. */
  readonly maxConcurrentInbound: number;
  /** Requests to one peer in flight at once; more fail with P2P_TOO_MANY_REQUESTS. */
  readonly maxConcurrentOutbound: number;
  /** Default client timeout; also the server's deadline for reading the request and answering it. */
  readonly timeoutMs: number;
}

export type ProtocolConfig = MessageProtocolConfig | RequestProtocolConfig;

export const ProtocolId = {
  consensus: '/jrchain/consensus/1.0.0',
  tx: '/jrchain/tx/1.0.0',
  sync: '/jrchain/sync/1.0.0',
} as const;

/**
 * The protocols a validator runs. The consensus frame limit leaves room for a pre-prepare carrying a full
 * batch at the default maxBatchBytes (4 MiB) plus certificates; a chain whose genesis raises maxBatchBytes
 * must raise it too. Sync responses carry blocks, so their limit follows the batch size as well.
 */
export const DEFAULT_PROTOCOLS: readonly ProtocolConfig[] = Object.freeze([
  {
    kind: 'message',
    id: ProtocolId.consensus,
    maxFrameBytes: 8 * MiB,
    maxQueueFrames: 4096,
    maxQueueBytes: 32 * MiB,
  },
  {
    kind: 'message',
    id: ProtocolId.tx,
    maxFrameBytes: 1 * MiB,
    maxQueueFrames: 8192,
    maxQueueBytes: 16 * MiB,
  },
  {
    kind: 'request',
    id: ProtocolId.sync,
    maxRequestBytes: 64 * KiB,
    maxResponseBytes: 16 * MiB,
    maxConcurrentInbound: 8,
    maxConcurrentOutbound: 8,
    timeoutMs: 10_000,
  },
]);

export interface RateLimit {
  /** Sustained rate. */
  readonly perSecond: number;
  /** Bucket size: the largest burst. */
  readonly burst: number;
}

export interface ScoringLimits {
  /** Penalty for a length prefix over the protocol limit. */
  readonly oversizePenalty: number;
  /** Penalty for a frame or response a handler rejected. */
  readonly invalidPenalty: number;
  /** A peer whose score reaches this is disconnected and banned. */
  readonly banThreshold: number;
  /** Scores decay exponentially: they halve every halfLifeMs. */
  readonly halfLifeMs: number;
  readonly banDurationMs: number;
}

export interface BackoffLimits {
  /** First retry delay. */
  readonly baseMs: number;
  /** Delays double per failed attempt up to this cap. */
  readonly capMs: number;
  /** A connection that lasted this long resets the backoff when it drops. */
  readonly stableAfterMs: number;
}

export interface HostLimits {
  /** Inbound streams per connection for each message protocol (one in use, one being replaced). */
  readonly messageStreamsPerConnection: number;
  /** All inbound streams per connection, every protocol together (yamux limit). */
  readonly streamsPerConnection: number;
  /** Inbound frames per peer, all protocols together. */
  readonly inboundFrames: RateLimit;
  /** Inbound bytes per peer, all protocols together. The burst must be at least the largest frame. */
  readonly inboundBytes: RateLimit;
  readonly scoring: ScoringLimits;
  readonly backoff: BackoffLimits;
  /** A peer whose outbound stream makes no progress for this long while frames are queued is disconnected. */
  readonly stallTimeoutMs: number;
  /** Bytes coalesced into one stream write. */
  readonly writeBatchBytes: number;
  /** Per dial attempt, TCP connect plus Noise and Yamux upgrade. */
  readonly dialTimeoutMs: number;
  /** Opening a stream and negotiating its protocol. */
  readonly streamOpenTimeoutMs: number;
  /** Yamux per-stream receive window cap; also bounds what a paused stream buffers. */
  readonly streamWindowBytes: number;
  /** libp2p connection monitor: ping interval, and the shortest time a ping may take before the link is dropped. */
  readonly livenessIntervalMs: number;
  readonly livenessTimeoutMs: number;
  /** libp2p connection manager: total connections, and new inbound connections per second from one IP. */
  readonly maxConnections: number;
  readonly inboundConnectionsPerSecondPerIp: number;
}

export const DEFAULT_HOST_LIMITS: HostLimits = Object.freeze({
  messageStreamsPerConnection: 2,
  streamsPerConnection: 64,
  inboundFrames: Object.freeze({ perSecond: 10_000, burst: 20_000 }),
  inboundBytes: Object.freeze({ perSecond: 64 * MiB, burst: 64 * MiB }),
  scoring: Object.freeze({
    oversizePenalty: 25,
    invalidPenalty: 10,
    banThreshold: 100,
    halfLifeMs: 60_000,
    banDurationMs: 5 * 60_000,
  }),
  backoff: Object.freeze({ baseMs: 500, capMs: 30_000, stableAfterMs: 10_000 }),
  stallTimeoutMs: 30_000,
  writeBatchBytes: 256 * KiB,
  dialTimeoutMs: 10_000,
  streamOpenTimeoutMs: 10_000,
  streamWindowBytes: 4 * MiB,
  livenessIntervalMs: 10_000,
  livenessTimeoutMs: 10_000,
  maxConnections: 1024,
  inboundConnectionsPerSecondPerIp: 16,
});

/** Bytes of the frame length prefix (u32, big-endian). */
export const FRAME_HEADER_BYTES = 4;
/** Sanity cap on any configured frame limit: a block at the protocol cap (64 MiB) plus its certificate fits. */
export const MAX_FRAME_LIMIT = 128 * MiB;

/** Overrides for HostLimits; nested groups may be given in part. */
export type HostLimitsInit = Partial<
  Omit<HostLimits, 'inboundFrames' | 'inboundBytes' | 'scoring' | 'backoff'>
> & {
  readonly inboundFrames?: Partial<RateLimit>;
  readonly inboundBytes?: Partial<RateLimit>;
  readonly scoring?: Partial<ScoringLimits>;
  readonly backoff?: Partial<BackoffLimits>;
};

export function resolveHostLimits(init: HostLimitsInit = {}): HostLimits {
  const d = DEFAULT_HOST_LIMITS;
  return {
    ...d,
    ...init,
    inboundFrames: { ...d.inboundFrames, ...init.inboundFrames },
    inboundBytes: { ...d.inboundBytes, ...init.inboundBytes },
    scoring: { ...d.scoring, ...init.scoring },
    backoff: { ...d.backoff, ...init.backoff },
  };
}

/** The largest frame a peer may send us under these protocols (what the inbound byte bucket must fit). */
export function largestInboundFrame(protocols: readonly ProtocolConfig[]): number {
  let max = 0;
  for (const p of protocols) max = Math.max(max, p.kind === 'message' ? p.maxFrameBytes : p.maxRequestBytes);
  return max;
}
