/**
 * The p2p host: a js-libp2p 3 node (TCP + Noise + Yamux, nothing else; libp2p-node.ts) that carries opaque
 * frames between allowlisted peers. It owns identity, membership, connections, sending and requests; peer
 * admission and scoring are in peer-guard.ts, outbound queues in channels.ts. Higher layers (consensus, tx
 * gossip, sync) plug in handlers and judge frame contents themselves. See docs/p2p.md for the policies and
 * src/p2p/limits.ts for every default.
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { systemClock } from '../core/clock.ts';
import { publicKeyFromSeed, SEED_LENGTH } from '../core/crypto.ts';
import { peerIdOf } from '../core/keys.ts';
import { type Allowlist, normaliseAddrs, type PeerRole, resolveAllowlist } from './allowlist.ts';
import { OutboundChannels } from './channels.ts';
import { validateLimits, validateProtocols } from './config.ts';
import { Dialer } from './dialer.ts';
import { P2PError, P2PErrorCode } from './errors.ts';
import type {
  P2PHost,
  P2PHostComponents,
  P2PHostInit,
  PeerEvent,
  PeerEventListener,
  PeerStatus,
  RequestOptions,
  SendResult,
} from './host-api.ts';
import { serveMessageStream } from './inbound.ts';
import { createLibp2pNode } from './libp2p-node.ts';
import {
  DEFAULT_PROTOCOLS,
  type HostLimits,
  type MessageProtocolConfig,
  type ProtocolConfig,
  type RequestProtocolConfig,
  resolveHostLimits,
} from './limits.ts';
import { type Logger, noopLogger } from './logger.ts';
import { DisconnectReason, DropReason, MemoryMetrics, MetricName, type MetricsSink } from './metrics.ts';
import { PeerGuard } from './peer-guard.ts';
import { performRequest, requestError, serveRequestStream } from './reqresp.ts';
import type { MessageHandler, RequestHandler, Verdict } from './verdict.ts';

export function createP2PHost(init: P2PHostInit, components: P2PHostComponents = {}): P2PHost {
  return new Host(init, components);
}

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
  private readonly guard: PeerGuard;
  private readonly channels: OutboundChannels;
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
  /** Outbound requests in flight, by peer. */
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
    const clock = components.clock ?? systemClock;
    this.guard = new PeerGuard({
      limits: this.limits,
      clock,
      logger: this.logger,
      metrics: this.metrics,
      isAllowlisted: (peerId) => this.roles.has(peerId),
      onBan: (peerId) => this.disconnect(peerId, DisconnectReason.banned),
    });
    this.channels = new OutboundChannels({
      limits: this.limits,
      openStream: (peerId, protocol, signal) => this.openStream(peerId, protocol, signal),
      onStall: (peerId) => this.disconnect(peerId, DisconnectReason.stalled),
      logger: this.logger,
      metrics: this.metrics,
    });
    this.dialer = new Dialer({
      dial: (peerId, addrs, signal) => this.dialPeer(peerId, addrs, signal),
      isConnected: (peerId) => this.connected.has(peerId),
      bannedUntil: (peerId) => this.guard.bannedUntil(peerId),
      backoff: this.limits.backoff,
      dialTimeoutMs: this.limits.dialTimeoutMs,
      clock,
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
    const node = await createLibp2pNode({
      seed: this.seed,
      listen: this.listen,
      limits: this.limits,
      protocols: this.protocols.values(),
      admission: {
        isAllowed: (peerId) => this.roles.has(peerId),
        bannedUntil: (peerId) => this.guard.bannedUntil(peerId),
      },
      logger: this.logger,
      metrics: this.metrics,
      onInboundStream: (p, stream, connection) => this.onInboundStream(p, stream, connection),
      onPeerConnect: (peerId) => this.onPeerConnect(peerId),
      onPeerDisconnect: (peerId) => this.onPeerDisconnect(peerId),
    });
    await node.start();
    this.node = node;
    this.maintenance = setInterval(() => this.guard.prune(), MAINTENANCE_INTERVAL_MS);
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
    this.channels.closeAll(DropReason.disconnected);
    this.connected.clear();
    this.guard.clearInflight();
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
    return this.enqueue(peerId, this.sendable(protocol, frame), frame);
  }

  broadcast(
    protocol: string,
    frame: Uint8Array,
    filter?: (peerId: string) => boolean,
  ): ReadonlyMap<string, SendResult> {
    const cfg = this.sendable(protocol, frame);
    const targets = new Set(this.connected);
    for (const [peerId, role] of this.roles) if (role === 'validator') targets.add(peerId);
    const results = new Map<string, SendResult>();
    for (const peerId of targets) {
      if (filter !== undefined && !filter(peerId)) continue;
      results.set(peerId, this.enqueue(peerId, cfg, frame));
    }
    return results;
  }

  /** The protocol's config, once the frame fits its limit and the host runs. */
  private sendable(protocol: string, frame: Uint8Array): MessageProtocolConfig {
    const cfg = this.messageProtocol(protocol);
    if (frame.length > cfg.maxFrameBytes)
      throw new P2PError(
        P2PErrorCode.frameTooLarge,
        `frame of ${frame.length} bytes exceeds ${protocol} limit of ${cfg.maxFrameBytes}`,
      );
    this.requireStarted();
    return cfg;
  }

  private enqueue(peerId: string, cfg: MessageProtocolConfig, frame: Uint8Array): SendResult {
    if (!this.connected.has(peerId) || !this.guard.isAdmitted(peerId)) {
      this.metrics.increment(MetricName.framesDropped, { protocol: cfg.id, reason: DropReason.notConnected });
      return 'not-connected';
    }
    return this.channels.enqueue(peerId, cfg, frame);
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
      if (e.code === P2PErrorCode.responseTooLarge) {
        this.guard.penalize(peerId, cfg.id, 'oversize response', true);
      }
      throw e;
    } finally {
      const n = (this.inflightOut.get(peerId) ?? 1) - 1;
      if (n <= 0) this.inflightOut.delete(peerId);
      else this.inflightOut.set(peerId, n);
    }
  }

  report(peerId: string, protocol: string, verdict: Verdict): void {
    this.guard.applyVerdict(peerId, protocol, verdict);
  }

  // ---- membership ----

  setAllowlist(allowlist: Allowlist): void {
    this.applyAllowlist(allowlist);
    for (const peerId of [...this.connected]) {
      if (!this.roles.has(peerId)) this.disconnect(peerId, DisconnectReason.notAllowlisted);
    }
    this.guard.forgetRemoved();
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
    const bannedUntil = this.guard.bannedUntil(peerId);
    if (role === undefined && !this.connected.has(peerId) && bannedUntil === undefined) return undefined;
    const queued = this.channels.queued(peerId);
    const dial = this.dialer.status(peerId);
    return {
      peerId,
      role,
      connected: this.connected.has(peerId),
      connections: this.openConnections(peerId).length,
      lastSeen: this.guard.lastSeenAt(peerId),
      queuedFrames: queued.frames,
      queuedBytes: queued.bytes,
      score: this.guard.score(peerId),
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
    if (!this.guard.isAdmitted(peerId)) {
      // The gater refuses such peers; this only happens if the allowlist changed during the handshake.
      this.disconnect(peerId, DisconnectReason.notAllowlisted);
      return;
    }
    this.connected.add(peerId);
    this.guard.touch(peerId);
    this.dialer.onConnected(peerId);
    this.logger.info({ peer: peerId }, 'p2p: peer connected');
    this.emit(peerId, 'connected');
  }

  private onPeerDisconnect(peerId: string): void {
    this.channels.close(peerId, DropReason.disconnected);
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
    this.channels.close(peerId, DropReason.disconnected);
    const node = this.node;
    if (node === undefined) return;
    node.hangUp(peerIdFromString(peerId)).catch((err: unknown) => {
      this.logger.debug({ peer: peerId, err: String(err) }, 'p2p: hang-up failed');
    });
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
    if (!this.guard.isAdmitted(peerId)) {
      stream.abort(new Error('peer not admitted'));
      return;
    }
    if (protocol.kind === 'message') {
      serveMessageStream(stream, protocol, this.guard.inboundPeer(peerId), {
        logger: this.logger,
        metrics: this.metrics,
        handlerFor: (id) => this.messageHandlers.get(id),
      });
      return;
    }
    serveRequestStream(
      stream,
      protocol,
      this.guard.requestPeer(peerId, protocol),
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
