import { describe, expect, it } from 'vitest';
import { InboundLimiter, TokenBucket } from '../../../src/p2p/rate-limit.ts';

class FakeClock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
}

describe('token bucket', () => {
  it('allows a burst, then refills at the configured rate, never above the burst', () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ perSecond: 10, burst: 5 }, clock);
    for (let i = 0; i < 5; i++) expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    clock.t += 100; // one token
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    clock.t += 60_000;
    expect(b.available()).toBe(5);
  });

  it('takes nothing when a request does not fit', () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ perSecond: 1, burst: 10 }, clock);
    expect(b.take(11)).toBe(false);
    expect(b.available()).toBe(10);
    expect(b.take(10)).toBe(true);
  });
});

describe('inbound limiter', () => {
  it('admits a frame only when both the frame and the byte bucket have room', () => {
    const clock = new FakeClock();
    const l = new InboundLimiter({ perSecond: 1, burst: 3 }, { perSecond: 100, burst: 1000 }, clock);
    expect(l.admit(900)).toBe(true);
    expect(l.admit(200)).toBe(false); // bytes exhausted; must not consume a frame token
    expect(l.admit(100)).toBe(true);
    expect(l.admit(0)).toBe(true);
    expect(l.admit(0)).toBe(false); // frames exhausted
    clock.t += 1000;
    expect(l.admit(100)).toBe(true);
  });
});
