/** The p2p host's public interface and the types it speaks (the host itself is in host.ts). */

import type { Clock, Random } from '../core/clock.ts';
import type { Allowlist, PeerRole } from './allowlist.ts';
import type { HostLimitsInit, ProtocolConfig } from './limits.ts';
import type { Logger } from './logger.ts';
import type { MetricsSink } from './metrics.ts';
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
