/** Per-peer inbound limits over the token bucket of src/core/token-bucket.ts. */
import type { Clock } from '../core/clock.ts';
import { TokenBucket } from '../core/token-bucket.ts';
import type { RateLimit } from './limits.ts';

export { TokenBucket };

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
