/** Token bucket: `burst` tokens, refilled at `perSecond`. Refill is computed lazily from the clock. */
import type { Clock } from '../core/clock.ts';
import type { RateLimit } from './limits.ts';

export class TokenBucket {
  private readonly rate: number;
  private readonly capacity: number;
  private readonly clock: Clock;
  private tokens: number;
  private updatedAt: number;

  constructor(limit: RateLimit, clock: Clock) {
    this.rate = limit.perSecond;
    this.capacity = limit.burst;
    this.clock = clock;
    this.tokens = limit.burst;
    this.updatedAt = clock.now();
  }

  /** Takes `n` tokens if available and returns true; otherwise takes nothing and returns false. */
  take(n = 1): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.updatedAt;
    if (elapsed <= 0) return;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.rate) / 1000);
    this.updatedAt = now;
  }
}

/** Frames and bytes from one peer, both limited; a frame passes only if both buckets have room. */
export class InboundLimiter {
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(frames: RateLimit, bytes: RateLimit, clock: Clock) {
    this.frames = new TokenBucket(frames, clock);
    this.bytes = new TokenBucket(bytes, clock);
  }

  admit(frameBytes: number): boolean {
    if (this.frames.available() < 1 || this.bytes.available() < frameBytes) return false;
    this.frames.take(1);
    this.bytes.take(frameBytes);
    return true;
  }
}
