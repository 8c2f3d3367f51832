/**
 * The replay cache of signed requests (src/api/replay-cache.ts): a replay is found while its `created` is in
 * the window, and memory stays bounded by counts under a flood (entries ≤ the cap, one bucket per second).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_AGE_SEC, DEFAULT_MAX_FUTURE_SEC, DEFAULT_MAX_NONCES } from '../../../src/api/auth.ts';
import { ReplayCache } from '../../../src/api/replay-cache.ts';

const T = 1_764_892_800;

describe('ReplayCache', () => {
  it('refuses a replay of (key id, nonce, created) until that created leaves the window', () => {
    const c = new ReplayCache(60, 10);
    expect(c.use('bank-a/client-1', 'n1', T, T)).toBe('fresh');
    expect(c.use('bank-a/client-1', 'n1', T, T + 60)).toBe('replayed');
    // Another key with the same nonce, or the same key with another nonce, is another request.
    expect(c.use('bank-b/client-1', 'n1', T, T + 60)).toBe('fresh');
    expect(c.use('bank-a/client-1', 'n2', T, T + 60)).toBe('fresh');
    // A space cannot make two pairs one: "a b" + "c" differs from "a" + "b c".
    expect(c.use('a b', 'c', T, T)).toBe('fresh');
    expect(c.use('a', 'b c', T, T)).toBe('fresh');
    expect(c.size).toBe(5);
    // At T + 61 created T is stale (the authenticator refuses it first); its bucket goes whole.
    expect(c.use('bank-a/client-1', 'n3', T + 61, T + 61)).toBe('fresh');
    expect([c.size, c.buckets]).toEqual([1, 1]);
  });

  it('full of live entries it says so, and frees them as their second leaves the window', () => {
    const c = new ReplayCache(60, 3);
    for (const n of ['a', 'b', 'c']) expect(c.use('k/1', n, T, T)).toBe('fresh');
    expect(c.use('k/1', 'd', T, T)).toBe('full');
    // A replay is still a replay when the cache is full.
    expect(c.use('k/1', 'a', T, T + 60)).toBe('replayed');
    expect(c.use('k/1', 'd', T + 61, T + 61)).toBe('fresh');
    expect(c.size).toBe(1);
  });

  it('a flood at 5,000 requests/s with the default limits: never full, never more than rate x window', () => {
    const c = new ReplayCache(DEFAULT_MAX_AGE_SEC, DEFAULT_MAX_NONCES);
    const rate = 5_000;
    let most = 0;
    let mostBuckets = 0;
    for (let s = 0; s < 150; s++) {
      const now = T + s;
      for (let i = 0; i < rate; i++) {
        // The worst clients: `created` as far ahead as the window allows, so every entry lives longest.
        expect(c.use('bank-a/client-1', `${s}-${i}`, now + DEFAULT_MAX_FUTURE_SEC, now)).toBe('fresh');
      }
      most = Math.max(most, c.size);
      mostBuckets = Math.max(mostBuckets, c.buckets);
    }
    const window = DEFAULT_MAX_AGE_SEC + DEFAULT_MAX_FUTURE_SEC + 1;
    expect(most).toBeLessThanOrEqual(rate * window);
    expect(most).toBeGreaterThan(rate * (window - 1)); // the window's entries are all there (none dropped early)
    expect(mostBuckets).toBeLessThanOrEqual(window);
  }, 60_000);

  it('a flood above the cap is refused, not stored: entries never exceed the cap', () => {
    const c = new ReplayCache(60, 1_000);
    const verdicts = new Map<string, number>();
    for (let s = 0; s < 200; s++) {
      for (let i = 0; i < 100; i++) {
        const v = c.use('k/1', `${s}-${i}`, T + s, T + s);
        verdicts.set(v, (verdicts.get(v) ?? 0) + 1);
        expect(c.size).toBeLessThanOrEqual(1_000);
      }
    }
    // 100/s for 61 s would need 6,100 entries: from second 10 on, only what the freed buckets make room for.
    expect(verdicts.get('full')).toBeGreaterThan(0);
    expect(verdicts.get('replayed')).toBeUndefined();
  });
});
