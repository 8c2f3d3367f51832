/**
 * Per-peer penalty scores with exponential decay, and temporary bans. A peer that sends an occasional bad
 * frame decays back to zero; one that keeps doing it crosses the threshold and is banned for banDurationMs.
 * Scores are computed lazily from the clock, so idle peers cost nothing.
 */
import type { Clock } from '../core/clock.ts';
import type { ScoringLimits } from './limits.ts';

interface Entry {
  score: number;
  updatedAt: number;
  bannedUntil: number;
}

export class PeerScores {
  private readonly limits: ScoringLimits;
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();

  constructor(limits: ScoringLimits, clock: Clock) {
    this.limits = limits;
    this.clock = clock;
  }

  /** Current score after decay (0 for unknown peers). */
  score(peerId: string): number {
    const e = this.entries.get(peerId);
    if (e === undefined) return 0;
    this.decay(e);
    return e.score;
  }

  /**
   * Adds a penalty. Returns true when this penalty bans the peer (the caller disconnects it); the score is
   * reset then, so the peer starts clean when the ban expires.
   */
  penalize(peerId: string, points: number): boolean {
    if (this.isBanned(peerId)) return false;
    const e = this.entry(peerId);
    this.decay(e);
    e.score += points;
    if (e.score < this.limits.banThreshold) return false;
    e.score = 0;
    e.bannedUntil = this.clock.now() + this.limits.banDurationMs;
    return true;
  }

  isBanned(peerId: string): boolean {
    return this.bannedUntil(peerId) !== undefined;
  }

  /** Epoch ms when the ban ends, or undefined when the peer is not banned. */
  bannedUntil(peerId: string): number | undefined {
    const e = this.entries.get(peerId);
    if (e === undefined || e.bannedUntil <= this.clock.now()) return undefined;
    return e.bannedUntil;
  }

  /** Drops state for peers whose score has decayed to nothing and who are not banned. */
  prune(): void {
    for (const [peerId, e] of this.entries) {
      this.decay(e);
      if (e.score < 0.01 && e.bannedUntil <= this.clock.now()) this.entries.delete(peerId);
    }
  }

  private entry(peerId: string): Entry {
    let e = this.entries.get(peerId);
    if (e === undefined) {
      e = { score: 0, updatedAt: this.clock.now(), bannedUntil: 0 };
      this.entries.set(peerId, e);
    }
    return e;
  }

  private decay(e: Entry): void {
    const now = this.clock.now();
    const elapsed = now - e.updatedAt;
    if (elapsed > 0) {
      e.score *= 2 ** (-elapsed / this.limits.halfLifeMs);
      e.updatedAt = now;
    }
  }
}
