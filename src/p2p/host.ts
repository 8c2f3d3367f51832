/**
 * The p2p host: a js-libp2p 3 node (TCP + Noise + Yamux, nothing else) that carries opaque frames between
 * allowlisted peers. It owns identity, permissioning, connections, framing, scoring and back-pressure;
 * higher layers (consensus, tx gossip, sync) plug in handlers and judge frame contents themselves.
 * See docs/p2p.md for the policies and src/p2p/limits.ts for every default.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { type Clock, type Random, systemClock } from '../core/clock.ts';
import { publicKeyFromSeed, SEED_LENGTH } from '../core/crypto.ts';
import { peerIdOf } from '../core/keys.ts';
import { type Allowlist, normaliseAddrs, type PeerRole, resolveAllowlist } from './allowlist.ts';
import { validateLimits, validateProtocols } from './config.ts';
import { Dialer } from './dialer.ts';
import { P2PError, P2PErrorCode } from './errors.ts';
import type { FrameTooLargeError } from './framing.ts';
import { createGater } from './gater.ts';
import { type InboundPeer, serveMessageStream } from './inbound.ts';
import {
  DEFAULT_PROTOCOLS,
  type HostLimits,
  type HostLimitsInit,
  type MessageProtocolConfig,
  type ProtocolConfig,
  type RequestProtocolConfig,
  resolveHostLimits,
} from './limits.ts';
import { type Logger, noopLogger } from './logger.ts';
import { DisconnectReason, DropReason, MemoryMetrics, MetricName, type MetricsSink } from './metrics.ts';
import { OutboundChannel } from './outbound.ts';
import { InboundLimiter } from './rate-limit.ts';
import { performRequest, type RequestPeer, requestError, serveRequestStream } from './reqresp.ts';
import { PeerScores } from './scoring.ts';
import type { MessageHandler, RequestHandler, Verdict } from './verdict.ts';

export interface P2PHostInit {
  /** The 32-byte Ed25519 seed of this node's key (validator key = libp2p identity). */
  readonly seed: Uint8Array;
  /** Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/7100`; port 0 picks a free port (see `addrs()`). */
  readonly listen: readonly string[];
  readonly allowlist: Allowlist;
  /** Defaults to DEFAULT_PROTOCOLS (consensus, tx, sync). */
  readonly protocols?: readonly ProtocolConfig[];
  readonly limits?: HostLimitsInit;
}

/** Explicit components: nothing is taken from globals. All optional; tests pass recorders. */
export interface P2PHostComponents {
  readonly logger?: Logger;
  readonly metrics?: MetricsSink;
  readonly clock?: Clock;
  readonly random?: Random;
}

export type SendResult = 'queued' | 'queue-full' | 'not-connected';

export interface RequestOptions {
  /** Defaults to the protocol's timeoutMs. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface PeerStatus {
  readonly peerId: string;
  /** undefined when the peer is no longer allowlisted (shown while still connected or banned). */
  readonly role: PeerRole | undefined;
  readonly connected: boolean;
  readonly connections: number;
  /** Epoch ms of the last frame or connection from the peer. */
  readonly lastSeen: number | undefined;
  /** Outbound frames and bytes queued to the peer, all protocols together. */
  readonly queuedFrames: number;
  readonly queuedBytes: number;
  readonly score: number;
  readonly bannedUntil: number | undefined;
  /** Configured dial addresses (validators only). */
  readonly addrs: readonly string[];
  /** Failed dials since the last stable connection, and when the next one is due. */
  readonly dialAttempt: number;
  readonly nextDialAt: number | undefined;
}

export type PeerEvent = 'connected' | 'disconnected';
export type PeerEventListener = (peerId: string, event: PeerEvent) => void;

export interface P2PHost {
  /** This node's peer id (equals peerIdOf(publicKey)). */
  readonly peerId: string;
  readonly metrics: MetricsSink;
  start(): Promise<void>;
  stop(): Promise<void>;
  isStarted(): boolean;
  /** Bound listen addresses, each ending in /p2p/<peerId>. Empty when stopped. */
  addrs(): string[];

  onMessage(protocol: string, handler: MessageHandler): void;
  onRequest(protocol: string, handler: RequestHandler): void;
  /** Queues a frame for one peer. Throws P2P_FRAME_TOO_LARGE / P2P_UNKNOWN_PROTOCOL / P2P_NOT_STARTED. */
  send(peerId: string, protocol: string, frame: Uint8Array): SendResult;
  /** Queues a frame for every connected peer and every allowlisted validator; the result per peer. */
  broadcast(
    protocol: string,
    frame: Uint8Array,
    filter?: (peerId: string) => boolean,
  ): ReadonlyMap<string, SendResult>;
  request(peerId: string, protocol: string, frame: Uint8Array, options?: RequestOptions): Promise<Uint8Array>;
  /** Scores a peer for something found after the handler returned (e.g. an invalid sync response). */
  report(peerId: string, protocol: string, verdict: Verdict): void;

  setAllowlist(allowlist: Allowlist): void;
  updatePeerAddrs(peerId: string, addrs: readonly string[]): void;
  roleOf(peerId: string): PeerRole | undefined;
  connectedPeers(): string[];
  peerStatus(peerId: string): PeerStatus | undefined;
  /** Status of every allowlisted, connected or banned peer. */
  peers(): PeerStatus[];
  /** Returns an unsubscribe function. */
  onPeerEvent(listener: PeerEventListener): () => void;
}

export function createP2PHost(init: P2PHostInit, components: P2PHostComponents = {}): P2PHost {
  return new Host(init, components);
}

const MiB = 1024 * 1024;
/** How often idle scoring state is pruned. */
const MAINTENANCE_INTERVAL_MS = 30_000;

class Host implements P2PHost {
  readonly peerId: string;
  readonly metrics: MetricsSink;
  private readonly seed: Uint8Array;
  private readonly listen: readonly string[];
  private readonly protocols = new Map<string, ProtocolConfig>();
  private readonly limits: HostLimits;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly scores: PeerScores;
  private readonly dialer: Dialer;

  private roles = new Map<string, PeerRole>();
  private dialAddrs = new Map<string, readonly string[]>();
  private readonly messageHandlers = new Map<string, MessageHandler>();
  private readonly requestHandlers = new Map<string, RequestHandler>();
  private readonly listeners = new Set<PeerEventListener>();

  private node: Libp2p | undefined;
  private starting: Promise<void> | undefined;
  private maintenance: NodeJS.Timeout | undefined;
  private readonly connected = new Set<string>();
  private readonly channels = new Map<string, Map<string, OutboundChannel>>();
  private readonly limiters = new Map<string, InboundLimiter>();
  private readonly lastSeen = new Map<string, number>();
  private readonly inflightIn = new Map<string, number>();
  private readonly inflightOut = new Map<string, number>();

  constructor(init: P2PHostInit, components: P2PHostComponents) {
    if (!(init.seed instanceof Uint8Array) || init.seed.length !== SEED_LENGTH)
      throw new P2PError(P2PErrorCode.configInvalid, `seed must be ${SEED_LENGTH} bytes`);
    if (init.listen.length === 0) throw new P2PError(P2PErrorCode.configInvalid, 'no listen address');
    for (const a of init.listen) {
      try {
        multiaddr(a);
      } catch (err) {
        throw new P2PError(P2PErrorCode.configInvalid, `bad listen address ${a}`, undefined, { cause: err });
      }
    }
    const protocols = init.protocols ?? DEFAULT_PROTOCOLS;
    validateProtocols(protocols);
    for (const p of protocols) this.protocols.set(p.id, p);
    this.limits = resolveHostLimits(init.limits);
    validateLimits(this.limits, protocols);

    this.seed = init.seed;
    this.listen = [...init.listen];
    this.peerId = peerIdOf(publicKeyFromSeed(init.seed));
    this.logger = components.logger ?? noopLogger;
    this.metrics = components.metrics ?? new MemoryMetrics();
    this.clock = components.clock ?? systemClock;
    this.scores = new PeerScores(this.limits.scoring, this.clock);
    this.dialer = new Dialer({
      dial: (peerId, addrs, signal) => this.dialPeer(peerId, addrs, signal),
      isConnected: (peerId) => this.connected.has(peerId),
      bannedUntil: (peerId) => this.scores.bannedUntil(peerId),
      backoff: this.limits.backoff,
      dialTimeoutMs: this.limits.dialTimeoutMs,
      clock: this.clock,
      random: components.random ?? Math.random,
      logger: this.logger,
      metrics: this.metrics,
    });
    this.applyAllowlist(init.allowlist);
  }

  // ---- lifecycle ----

  isStarted(): boolean {
    return this.node !== undefined;
  }

  async start(): Promise<void> {
    if (this.node !== undefined) return;
    if (this.starting !== undefined) return this.starting;
    this.starting = this.startNode();
    try {
      await this.starting;
    } finally {
      this.starting = undefined;
    }
  }

  private async startNode(): Promise<void> {
    const privateKey = await generateKeyPairFromSeed('Ed25519', this.seed);
    const l = this.limits;
    const node = await createLibp2p({
      privateKey,
      start: false,
      addresses: { listen: [...this.listen] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [
        yamux({
          maxInboundStreams: l.streamsPerConnection,
          maxOutboundStreams: l.streamsPerConnection,
          streamOptions: {
            maxStreamWindowSize: l.streamWindowBytes,
            // A paused stream buffers at most one window; the margin covers frames in flight at pause time.
            maxReadBufferLength: l.streamWindowBytes + MiB,
          },
        }),
      ],
      connectionGater: createGater(
        {
          isAllowed: (peerId) => this.roles.has(peerId),
          bannedUntil: (peerId) => this.scores.bannedUntil(peerId),
        },
        this.logger,
        this.metrics,
      ),
      connectionManager: {
        maxConnections: l.maxConnections,
        dialTimeout: l.dialTimeoutMs,
        inboundConnectionThreshold: l.inboundConnectionsPerSecondPerIp,
        // Our dialer owns reconnection; libp2p's own retry queue only serves KEEP_ALIVE-tagged peers.
        reconnectRetries: 0,
      },
      // Liveness: libp2p pings each connection and drops it when a ping times out, so a peer that vanished
      // without a FIN (power loss, SIGSTOP) is noticed and redialled. We register no ping handler: the
      // remote's "protocol not supported" answer proves it is alive, which is all the monitor needs.
      connectionMonitor: {
        enabled: true,
        pingInterval: l.livenessIntervalMs,
        pingTimeout: { minTimeout: l.livenessTimeoutMs },
        protocolPrefix: 'jrchain',
      },
    });
    for (const p of this.protocols.values()) {
      // libp2p's per-connection stream caps are a backstop. For requests they sit above our own per-peer
      // cap, so an excess request reaches us and is refused and counted rather than silently reset.
      await node.handle(p.id, (stream, connection) => this.onInboundStream(p, stream, connection), {
        maxInboundStreams: p.kind === 'message' ? l.messageStreamsPerConnection : 2 * p.maxConcurrentInbound,
        maxOutboundStreams: p.kind === 'message' ? l.messageStreamsPerConnection : p.maxConcurrentOutbound,
      });
    }
    node.addEventListener('peer:connect', (evt) => this.onPeerConnect(evt.detail.toString()));
    node.addEventListener('peer:disconnect', (evt) => this.onPeerDisconnect(evt.detail.toString()));
    await node.start();
    this.node = node;
    this.maintenance = setInterval(() => this.scores.prune(), MAINTENANCE_INTERVAL_MS);
    this.maintenance.unref();
    this.dialer.start();
    this.logger.info({ peer: this.peerId, addrs: this.addrs() }, 'p2p: host started');
  }

  async stop(): Promise<void> {
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    const node = this.node;
    if (node === undefined) return;
    this.node = undefined;
    this.dialer.stop();
    if (this.maintenance !== undefined) clearInterval(this.maintenance);
    this.maintenance = undefined;
    for (const peerId of [...this.channels.keys()]) this.closeChannels(peerId, DropReason.disconnected);
    this.connected.clear();
    this.inflightIn.clear();
    await node.stop();
    this.logger.info({ peer: this.peerId }, 'p2p: host stopped');
  }

  addrs(): string[] {
    return this.node?.getMultiaddrs().map((a) => a.toString()) ?? [];
  }

  // ---- handlers ----

  onMessage(protocol: string, handler: MessageHandler): void {
    this.messageProtocol(protocol);
    if (this.messageHandlers.has(protocol))
      throw new P2PError(P2PErrorCode.handlerExists, `a handler for ${protocol} is already registered`);
    this.messageHandlers.set(protocol, handler);
  }

  onRequest(protocol: string, handler: RequestHandler): void {
    this.requestProtocol(protocol);
    if (this.requestHandlers.has(protocol))
      throw new P2PError(P2PErrorCode.handlerExists, `a handler for ${protocol} is already registered`);
    this.requestHandlers.set(protocol, handler);
  }

  // ---- sending ----

  send(peerId: string, protocol: string, frame: Uint8Array): SendResult {
    const cfg = this.messageProtocol(protocol);
    if (frame.length > cfg.maxFrameBytes)
      throw new P2PError(
        P2PErrorCode.frameTooLarge,
        `frame of ${frame.length} bytes exceeds ${protocol} limit of ${cfg.maxFrameBytes}`,
      );
    this.requireStarted();
    return this.enqueue(peerId, cfg, frame);
  }

  broadcast(
    protocol: string,
    frame: Uint8Array,
    filter?: (peerId: string) => boolean,
  ): ReadonlyMap<string, SendResult> {
    const cfg = this.messageProtocol(protocol);
    if (frame.length > cfg.maxFrameBytes)
      throw new P2PError(
        P2PErrorCode.frameTooLarge,
        `frame of ${frame.length} bytes exceeds ${protocol} limit of ${cfg.maxFrameBytes}`,
      );
    this.requireStarted();
    const targets = new Set(this.connected);
    for (const [peerId, role] of this.roles) if (role === 'validator') targets.add(peerId);
    const results = new Map<string, SendResult>();
    for (const peerId of targets) {
      if (filter !== undefined && !filter(peerId)) continue;
      results.set(peerId, this.enqueue(peerId, cfg, frame));
    }
    return results;
  }

  private enqueue(peerId: string, cfg: MessageProtocolConfig, frame: Uint8Array): SendResult {
    if (!this.connected.has(peerId) || !this.isAdmitted(peerId)) {
      this.metrics.increment(MetricName.framesDropped, { protocol: cfg.id, reason: DropReason.notConnected });
      return 'not-connected';
    }
    let byProtocol = this.channels.get(peerId);
    if (byProtocol === undefined) {
      byProtocol = new Map();
      this.channels.set(peerId, byProtocol);
    }
    let channel = byProtocol.get(cfg.id);
    if (channel === undefined || channel.isClosed) {
      channel = new OutboundChannel({
        peerId,
        protocol: cfg,
        writeBatchBytes: this.limits.writeBatchBytes,
        stallTimeoutMs: this.limits.stallTimeoutMs,
        openStream: () =>
          this.openStream(peerId, cfg.id, AbortSignal.timeout(this.limits.streamOpenTimeoutMs)),
        onStall: () => this.disconnect(peerId, DisconnectReason.stalled),
        logger: this.logger,
        metrics: this.metrics,
      });
      byProtocol.set(cfg.id, channel);
    }
    return channel.enqueue(frame);
  }

  async request(
    peerId: string,
    protocol: string,
    frame: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    const cfg = this.requestProtocol(protocol);
    if (frame.length > cfg.maxRequestBytes)
      throw new P2PError(
        P2PErrorCode.frameTooLarge,
        `request of ${frame.length} bytes exceeds ${protocol} limit of ${cfg.maxRequestBytes}`,
      );
    this.requireStarted();
    const count = (result: string): void =>
      this.metrics.increment(MetricName.requests, { protocol: cfg.id, result });
    if (!this.connected.has(peerId)) {
      count(P2PErrorCode.notConnected);
      throw new P2PError(P2PErrorCode.notConnected, `not connected to ${peerId}`);
    }
    const inflight = this.inflightOut.get(peerId) ?? 0;
    if (inflight >= cfg.maxConcurrentOutbound) {
      count(P2PErrorCode.tooManyRequests);
      throw new P2PError(P2PErrorCode.tooManyRequests, `${inflight} requests to ${peerId} already in flight`);
    }
    this.inflightOut.set(peerId, inflight + 1);
    const timeout = AbortSignal.timeout(options.timeoutMs ?? cfg.timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    try {
      let stream: Stream;
      try {
        stream = await this.openStream(peerId, cfg.id, signal);
      } catch (err) {
        throw requestError(err, signal, timeout);
      }
      const response = await performRequest(stream, cfg, frame, signal, timeout);
      count('ok');
      return response;
    } catch (err) {
      const e = err instanceof P2PError ? err : requestError(err, signal, timeout);
      count(e.code);
      if (e.code === P2PErrorCode.responseTooLarge) this.penalize(peerId, cfg.id, 'oversize response', true);
      throw e;
    } finally {
      const n = (this.inflightOut.get(peerId) ?? 1) - 1;
      if (n <= 0) this.inflightOut.delete(peerId);
      else this.inflightOut.set(peerId, n);
    }
  }

  report(peerId: string, protocol: string, verdict: Verdict): void {
    this.applyVerdict(peerId, protocol, verdict);
  }

  // ---- membership ----

  setAllowlist(allowlist: Allowlist): void {
    this.applyAllowlist(allowlist);
    for (const peerId of [...this.connected]) {
      if (!this.roles.has(peerId)) this.disconnect(peerId, DisconnectReason.notAllowlisted);
    }
    for (const peerId of [...this.limiters.keys()]) if (!this.roles.has(peerId)) this.limiters.delete(peerId);
    for (const peerId of [...this.lastSeen.keys()]) if (!this.roles.has(peerId)) this.lastSeen.delete(peerId);
  }

  private applyAllowlist(allowlist: Allowlist): void {
    const resolved = resolveAllowlist(allowlist);
    const roles = new Map(resolved.roles);
    const dialAddrs = new Map(resolved.dialAddrs);
    roles.delete(this.peerId);
    dialAddrs.delete(this.peerId);
    this.roles = roles;
    this.dialAddrs = dialAddrs;
    this.dialer.setTargets(dialAddrs);
  }

  updatePeerAddrs(peerId: string, addrs: readonly string[]): void {
    if (this.roles.get(peerId) !== 'validator')
      throw new P2PError(P2PErrorCode.configInvalid, `${peerId} is not an allowlisted validator`);
    let normalised: string[];
    try {
      normalised = normaliseAddrs(peerId, addrs);
    } catch (err) {
      throw new P2PError(P2PErrorCode.configInvalid, String(err), undefined, { cause: err });
    }
    this.dialAddrs.set(peerId, normalised);
    this.dialer.updateAddrs(peerId, normalised);
  }

  roleOf(peerId: string): PeerRole | undefined {
    return this.roles.get(peerId);
  }

  connectedPeers(): string[] {
    return [...this.connected];
  }

  peerStatus(peerId: string): PeerStatus | undefined {
    const role = this.roles.get(peerId);
    const bannedUntil = this.scores.bannedUntil(peerId);
    if (role === undefined && !this.connected.has(peerId) && bannedUntil === undefined) return undefined;
    let queuedFrames = 0;
    let queuedBytes = 0;
    for (const ch of this.channels.get(peerId)?.values() ?? []) {
      queuedFrames += ch.queuedFrames;
      queuedBytes += ch.queuedBytes;
    }
    const dial = this.dialer.status(peerId);
    return {
      peerId,
      role,
      connected: this.connected.has(peerId),
      connections: this.openConnections(peerId).length,
      lastSeen: this.lastSeen.get(peerId),
      queuedFrames,
      queuedBytes,
      score: this.scores.score(peerId),
      bannedUntil,
      addrs: this.dialAddrs.get(peerId) ?? [],
      dialAttempt: dial?.attempt ?? 0,
      nextDialAt: dial?.nextDialAt,
    };
  }

  peers(): PeerStatus[] {
    const ids = new Set([...this.roles.keys(), ...this.connected]);
    const out: PeerStatus[] = [];
    for (const id of ids) {
      const s = this.peerStatus(id);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  onPeerEvent(listener: PeerEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- connections ----

  private onPeerConnect(peerId: string): void {
    if (!this.isAdmitted(peerId)) {
      // The gater refuses such peers; this only happens if the allowlist changed during the handshake.
      this.disconnect(peerId, DisconnectReason.notAllowlisted);
      return;
    }
    this.connected.add(peerId);
    this.lastSeen.set(peerId, this.clock.now());
    this.dialer.onConnected(peerId);
    this.logger.info({ peer: peerId }, 'p2p: peer connected');
    this.emit(peerId, 'connected');
  }

  private onPeerDisconnect(peerId: string): void {
    this.closeChannels(peerId, DropReason.disconnected);
    const was = this.connected.delete(peerId);
    this.dialer.onDisconnected(peerId);
    if (was) {
      this.logger.info({ peer: peerId }, 'p2p: peer disconnected');
      this.emit(peerId, 'disconnected');
    }
  }

  private emit(peerId: string, event: PeerEvent): void {
    for (const l of this.listeners) {
      try {
        l(peerId, event);
      } catch (err) {
        this.logger.error({ peer: peerId, event, err: String(err) }, 'p2p: peer event listener failed');
      }
    }
  }

  /** Closes every connection to the peer on purpose (ban, allowlist removal, stall). */
  private disconnect(peerId: string, reason: DisconnectReason): void {
    this.metrics.increment(MetricName.disconnects, { reason });
    this.logger.warn({ peer: peerId, reason }, 'p2p: disconnecting peer');
    this.closeChannels(peerId, DropReason.disconnected);
    const node = this.node;
    if (node === undefined) return;
    node.hangUp(peerIdFromString(peerId)).catch((err: unknown) => {
      this.logger.debug({ peer: peerId, err: String(err) }, 'p2p: hang-up failed');
    });
  }

  private closeChannels(peerId: string, reason: DropReason): void {
    const byProtocol = this.channels.get(peerId);
    if (byProtocol === undefined) return;
    this.channels.delete(peerId);
    for (const ch of byProtocol.values()) ch.close(reason);
  }

  private async dialPeer(_peerId: string, addrs: readonly string[], signal: AbortSignal): Promise<void> {
    const node = this.node;
    if (node === undefined) throw new P2PError(P2PErrorCode.notStarted, 'host is not started');
    await node.dial(
      addrs.map((a) => multiaddr(a)),
      { signal },
    );
  }

  private openConnections(peerId: string): Connection[] {
    const node = this.node;
    if (node === undefined) return [];
    let id: PeerId;
    try {
      id = peerIdFromString(peerId);
    } catch {
      return [];
    }
    return node.getConnections(id).filter((c) => c.status === 'open');
  }

  private async openStream(peerId: string, protocol: string, signal: AbortSignal): Promise<Stream> {
    const conn = this.openConnections(peerId)[0];
    if (conn === undefined) throw new P2PError(P2PErrorCode.notConnected, `not connected to ${peerId}`);
    return conn.newStream(protocol, { signal });
  }

  // ---- inbound ----

  private onInboundStream(protocol: ProtocolConfig, stream: Stream, connection: Connection): void {
    const peerId = connection.remotePeer.toString();
    if (!this.isAdmitted(peerId)) {
      stream.abort(new Error('peer not admitted'));
      return;
    }
    if (protocol.kind === 'message') {
      serveMessageStream(stream, protocol, this.inboundPeer(peerId), {
        logger: this.logger,
        metrics: this.metrics,
        handlerFor: (id) => this.messageHandlers.get(id),
      });
      return;
    }
    serveRequestStream(
      stream,
      protocol,
      this.requestPeer(peerId, protocol),
      this.requestHandlers.get(protocol.id),
      {
        logger: this.logger,
        metrics: this.metrics,
      },
    ).catch((err: unknown) => {
      this.logger.error(
        { peer: peerId, protocol: protocol.id, err: String(err) },
        'p2p: request serving failed',
      );
    });
  }

  private inboundPeer(peerId: string): InboundPeer {
    return {
      peerId,
      admit: (bytes) => this.admit(peerId, bytes),
      isActive: () => this.isAdmitted(peerId),
      touch: () => this.lastSeen.set(peerId, this.clock.now()),
      oversize: (protocol, err) => this.onOversize(peerId, protocol, err),
      verdict: (protocol, verdict) => this.applyVerdict(peerId, protocol, verdict),
    };
  }

  private requestPeer(peerId: string, protocol: RequestProtocolConfig): RequestPeer {
    const key = `${peerId} ${protocol.id}`;
    return {
      ...this.inboundPeer(peerId),
      acquire: () => {
        const n = this.inflightIn.get(key) ?? 0;
        if (n >= protocol.maxConcurrentInbound) return false;
        this.inflightIn.set(key, n + 1);
        return true;
      },
      release: () => {
        const n = (this.inflightIn.get(key) ?? 1) - 1;
        if (n <= 0) this.inflightIn.delete(key);
        else this.inflightIn.set(key, n);
      },
    };
  }

  private admit(peerId: string, bytes: number): boolean {
    let limiter = this.limiters.get(peerId);
    if (limiter === undefined) {
      limiter = new InboundLimiter(this.limits.inboundFrames, this.limits.inboundBytes, this.clock);
      this.limiters.set(peerId, limiter);
    }
    return limiter.admit(bytes);
  }

  private isAdmitted(peerId: string): boolean {
    return this.roles.has(peerId) && !this.scores.isBanned(peerId);
  }

  // ---- scoring ----

  private onOversize(peerId: string, protocol: string, err: FrameTooLargeError): void {
    this.penalize(peerId, protocol, `oversize frame (${err.length} > ${err.limit})`, true);
  }

  private applyVerdict(peerId: string, protocol: string, verdict: Verdict): void {
    if (verdict.action !== 'reject') return;
    this.metrics.increment(MetricName.framesDropped, { protocol, reason: DropReason.invalid });
    this.penalize(peerId, protocol, verdict.reason, false);
  }

  private penalize(peerId: string, protocol: string, why: string, oversize: boolean): void {
    const s = this.limits.scoring;
    const points = oversize ? s.oversizePenalty : s.invalidPenalty;
    const banned = this.scores.penalize(peerId, points);
    this.logger.debug(
      { peer: peerId, protocol, why, points, score: this.scores.score(peerId) },
      'p2p: penalty',
    );
    if (!banned) return;
    this.metrics.increment(MetricName.bans, {});
    this.logger.warn(
      { peer: peerId, protocol, why, bannedUntil: this.scores.bannedUntil(peerId) },
      'p2p: peer banned',
    );
    this.disconnect(peerId, DisconnectReason.banned);
  }

  // ---- helpers ----

  private messageProtocol(id: string): MessageProtocolConfig {
    const p = this.protocols.get(id);
    if (p === undefined || p.kind !== 'message')
      throw new P2PError(P2PErrorCode.unknownProtocol, `${id} is not a configured message protocol`);
    return p;
  }

  private requestProtocol(id: string): RequestProtocolConfig {
    const p = this.protocols.get(id);
    if (p === undefined || p.kind !== 'request')
      throw new P2PError(P2PErrorCode.unknownProtocol, `${id} is not a configured request protocol`);
    return p;
  }

  private requireStarted(): void {
    if (this.node === undefined) throw new P2PError(P2PErrorCode.notStarted, 'host is not started');
  }
}
