/**
 * Counters the host increments. The sink is a single method so that prom-client (one Counter per name,
 * labels as given) or a test recorder can back it. Label values come from the fixed sets below, never from
 * peer input, so label cardinality stays bounded (peer ids are not labels; per-peer detail is in status).
 */
export interface MetricsSink {
  increment(name: string, labels: Readonly<Record<string, string>>, by?: number): void;
}

export const MetricName = {
  /** Frames a handler judged, by protocol and verdict (accept, ignore, reject). */
  framesReceived: 'p2p_frames_received_total',
  /** Frames written to a stream, by protocol. */
  framesSent: 'p2p_frames_sent_total',
  /** Frames (or requests) dropped, by protocol and DropReason. */
  framesDropped: 'p2p_frames_dropped_total',
  /** Inbound connections closed before the Noise handshake completed (garbage, scanners, wrong protocol). */
  handshakesFailed: 'p2p_handshakes_failed_total',
  /** Connections refused by the gater, by direction and RefusalReason. */
  connectionsRefused: 'p2p_connections_refused_total',
  /** Connections the host closed on purpose, by DisconnectReason. */
  disconnects: 'p2p_disconnects_total',
  /** Peers banned for misbehaviour. */
  bans: 'p2p_bans_total',
  /** Dial attempts by the reconnect loop, by result (ok, failed). */
  dials: 'p2p_dials_total',
  /** Outbound requests, by protocol and result (ok or an error code). */
  requests: 'p2p_requests_total',
  /** Inbound requests answered or refused, by protocol and result. */
  requestsServed: 'p2p_requests_served_total',
} as const;

export const DropReason = {
  /** The length prefix exceeded the protocol's frame limit; the body was never read. */
  oversize: 'oversize',
  /** A handler returned a reject verdict (undecodable or invalid content). */
  invalid: 'invalid',
  /** A frame or request arrived for a protocol with no handler registered yet. */
  noHandler: 'no-handler',
  /** A handler threw or its promise rejected. The peer is not penalised: the fault is ours. */
  handlerError: 'handler-error',
  /** The peer exceeded its inbound token bucket (frames or bytes per second). */
  rateLimited: 'rate-limited',
  /** The peer exceeded the cap on concurrent inbound requests. */
  tooManyRequests: 'too-many-requests',
  /** The outbound queue to the peer was full (count or bytes). */
  queueFull: 'queue-full',
  /** send() to a peer with no open connection. */
  notConnected: 'not-connected',
  /** Frames still queued when the peer disconnected, was banned, stalled or left the allowlist. */
  disconnected: 'disconnected',
  /** The outbound stream could not be opened or failed while frames were queued. */
  streamError: 'stream-error',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export const RefusalReason = {
  notAllowlisted: 'not-allowlisted',
  banned: 'banned',
} as const;
export type RefusalReason = (typeof RefusalReason)[keyof typeof RefusalReason];

export const DisconnectReason = {
  banned: 'banned',
  notAllowlisted: 'not-allowlisted',
  /** Outbound writes made no progress for the stall timeout. */
  stalled: 'stalled',
} as const;
export type DisconnectReason = (typeof DisconnectReason)[keyof typeof DisconnectReason];

export const noopMetrics: MetricsSink = Object.freeze({ increment: () => {} });

/** An in-memory sink: the default, and what tests read. */
export class MemoryMetrics implements MetricsSink {
  private readonly series = new Map<
    string,
    { name: string; labels: Record<string, string>; value: number }
  >();

  increment(name: string, labels: Readonly<Record<string, string>>, by = 1): void {
    const key = `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    const entry = this.series.get(key);
    if (entry === undefined) this.series.set(key, { name, labels: { ...labels }, value: by });
    else entry.value += by;
  }

  /** The sum over every label set of `name` that includes all of `labels` (all of them when omitted). */
  get(name: string, labels: Readonly<Record<string, string>> = {}): number {
    let total = 0;
    for (const s of this.series.values()) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
    return total;
  }
}
