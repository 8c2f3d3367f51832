/** Token bucket: `burst` tokens, refilled at `perSecond`. Refill is computed lazily from the clock. */
import type { Clock } from './clock.ts';

/** A sustained rate and the largest burst (the bucket size). */
export interface BucketLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export class TokenBucket {
  private readonly rate: number;
  private readonly capacity: number;
  private readonly clock: Clock;
  private tokens: number;
  private updatedAt: number;

  constructor(limit: BucketLimit, clock: Clock) {
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
