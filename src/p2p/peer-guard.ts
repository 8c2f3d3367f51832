/**
 * What the host knows and decides about each remote peer's inbound traffic: whether it is admitted now
 * (allowlisted and not banned), its rate limits, its concurrent inbound requests, when it was last seen, and
 * the penalties that may ban it (docs/p2p.md, scoring). A ban is reported to the host, which disconnects.
 */
import type { Clock } from '../core/clock.ts';
import type { FrameTooLargeError } from './framing.ts';
import type { InboundPeer } from './inbound.ts';
import type { HostLimits, RequestProtocolConfig } from './limits.ts';
import type { Logger } from './logger.ts';
import { DropReason, MetricName, type MetricsSink } from './metrics.ts';
import { InboundLimiter } from './rate-limit.ts';
import type { RequestPeer } from './reqresp.ts';
import { PeerScores } from './scoring.ts';
import type { Verdict } from './verdict.ts';

export interface PeerGuardInit {
  readonly limits: HostLimits;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  isAllowlisted(peerId: string): boolean;
  /** Called when a penalty bans the peer. */
  onBan(peerId: string): void;
}

export class PeerGuard {
  private readonly init: PeerGuardInit;
  private readonly scores: PeerScores;
  private readonly limiters = new Map<string, InboundLimiter>();
  private readonly lastSeen = new Map<string, number>();
  /** Inbound requests being served, by `peerId protocol`. */
  private readonly inflight = new Map<string, number>();

  constructor(init: PeerGuardInit) {
    this.init = init;
    this.scores = new PeerScores(init.limits.scoring, init.clock);
  }

  isAdmitted(peerId: string): boolean {
    return this.init.isAllowlisted(peerId) && !this.scores.isBanned(peerId);
  }

  bannedUntil(peerId: string): number | undefined {
    return this.scores.bannedUntil(peerId);
  }

  score(peerId: string): number {
    return this.scores.score(peerId);
  }

  lastSeenAt(peerId: string): number | undefined {
    return this.lastSeen.get(peerId);
  }

  touch(peerId: string): void {
    this.lastSeen.set(peerId, this.init.clock.now());
  }

  /** Drops idle scoring state (called periodically). */
  prune(): void {
    this.scores.prune();
  }

  /** Forgets the rate limits and last-seen times of peers no longer allowlisted (scores and bans stay). */
  forgetRemoved(): void {
    for (const peerId of [...this.limiters.keys()]) {
      if (!this.init.isAllowlisted(peerId)) this.limiters.delete(peerId);
    }
    for (const peerId of [...this.lastSeen.keys()]) {
      if (!this.init.isAllowlisted(peerId)) this.lastSeen.delete(peerId);
    }
  }

  /** Forgets inbound requests in flight (the host stopped). */
  clearInflight(): void {
    this.inflight.clear();
  }

  /** The inbound side of one peer, as the message stream reader sees it. */
  inboundPeer(peerId: string): InboundPeer {
    return {
      peerId,
      admit: (bytes) => this.admit(peerId, bytes),
      isActive: () => this.isAdmitted(peerId),
      touch: () => this.touch(peerId),
      oversize: (protocol, err) => this.onOversize(peerId, protocol, err),
      verdict: (protocol, verdict) => this.applyVerdict(peerId, protocol, verdict),
    };
  }

  /** The same for a request stream, with the per-peer cap on concurrent inbound requests. */
  requestPeer(peerId: string, protocol: RequestProtocolConfig): RequestPeer {
    const key = `${peerId} ${protocol.id}`;
    return {
      ...this.inboundPeer(peerId),
      acquire: () => {
        const n = this.inflight.get(key) ?? 0;
        if (n >= protocol.maxConcurrentInbound) return false;
        this.inflight.set(key, n + 1);
        return true;
      },
      release: () => {
        const n = (this.inflight.get(key) ?? 1) - 1;
        if (n <= 0) this.inflight.delete(key);
        else this.inflight.set(key, n);
      },
    };
  }

  applyVerdict(peerId: string, protocol: string, verdict: Verdict): void {
    if (verdict.action !== 'reject') return;
    this.init.metrics.increment(MetricName.framesDropped, { protocol, reason: DropReason.invalid });
    this.penalize(peerId, protocol, verdict.reason, false);
  }

  penalize(peerId: string, protocol: string, why: string, oversize: boolean): void {
    const s = this.init.limits.scoring;
    const points = oversize ? s.oversizePenalty : s.invalidPenalty;
    const banned = this.scores.penalize(peerId, points);
    this.init.logger.debug(
      { peer: peerId, protocol, why, points, score: this.scores.score(peerId) },
      'p2p: penalty',
    );
    if (!banned) return;
    this.init.metrics.increment(MetricName.bans, {});
    this.init.logger.warn(
      { peer: peerId, protocol, why, bannedUntil: this.scores.bannedUntil(peerId) },
      'p2p: peer banned',
    );
    this.init.onBan(peerId);
  }

  private admit(peerId: string, bytes: number): boolean {
    let limiter = this.limiters.get(peerId);
    if (limiter === undefined) {
      const l = this.init.limits;
      limiter = new InboundLimiter(l.inboundFrames, l.inboundBytes, this.init.clock);
      this.limiters.set(peerId, limiter);
    }
    return limiter.admit(bytes);
  }

  private onOversize(peerId: string, protocol: string, err: FrameTooLargeError): void {
    this.penalize(peerId, protocol, `oversize frame (${err.length} > ${err.limit})`, true);
  }
}
