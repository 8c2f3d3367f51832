import { describe, expect, it } from 'vitest';
import { PeerScores } from '../../../src/p2p/scoring.ts';

class FakeClock {
  t = 5_000_000;
  now(): number {
    return this.t;
  }
}

const limits = {
  oversizePenalty: 25,
  invalidPenalty: 10,
  banThreshold: 100,
  halfLifeMs: 1000,
  banDurationMs: 60_000,
};

describe('peer scores', () => {
  it('decay exponentially with the half-life', () => {
    const clock = new FakeClock();
    const s = new PeerScores(limits, clock);
    s.penalize('p', 40);
    expect(s.score('p')).toBe(40);
    clock.t += 1000;
    expect(s.score('p')).toBeCloseTo(20);
    clock.t += 2000;
    expect(s.score('p')).toBeCloseTo(5);
  });

  it('ban a peer that reaches the threshold, for the ban duration, then readmit it with a clean score', () => {
    const clock = new FakeClock();
    const s = new PeerScores(limits, clock);
    for (let i = 0; i < 9; i++) expect(s.penalize('p', 10)).toBe(false);
    expect(s.isBanned('p')).toBe(false);
    expect(s.penalize('p', 10)).toBe(true);
    expect(s.bannedUntil('p')).toBe(clock.t + 60_000);
    // Further penalties while banned change nothing.
    expect(s.penalize('p', 1000)).toBe(false);
    clock.t += 59_999;
    expect(s.isBanned('p')).toBe(true);
    clock.t += 1;
    expect(s.isBanned('p')).toBe(false);
    expect(s.score('p')).toBe(0);
    expect(s.isBanned('q')).toBe(false);
  });

  it('never ban a peer whose occasional penalties decay faster than they accrue', () => {
    const clock = new FakeClock();
    const s = new PeerScores(limits, clock);
    for (let i = 0; i < 1000; i++) {
      expect(s.penalize('p', 10)).toBe(false);
      clock.t += 1000;
    }
    expect(s.score('p')).toBeLessThan(20);
  });

  it('prune forgets decayed, unbanned peers only', () => {
    const clock = new FakeClock();
    const s = new PeerScores({ ...limits, banThreshold: 50 }, clock);
    s.penalize('decayed', 10);
    s.penalize('banned', 60);
    clock.t += 20_000;
    s.prune();
    expect(s.score('decayed')).toBe(0);
    expect(s.isBanned('banned')).toBe(true);
  });
});
