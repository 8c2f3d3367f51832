import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, Dialer, type DialerDeps } from '../../../src/p2p/dialer.ts';
import { noopLogger } from '../../../src/p2p/logger.ts';
import { MemoryMetrics } from '../../../src/p2p/metrics.ts';

const backoff = { baseMs: 100, capMs: 1600, stableAfterMs: 5000 };

describe('backoffDelay', () => {
  it('doubles per attempt up to the cap, with jitter in the upper half', () => {
    for (const [attempt, ceiling] of [
      [0, 100],
      [1, 200],
      [3, 800],
      [4, 1600],
      [5, 1600],
      [500, 1600],
    ] as const) {
      expect(backoffDelay(attempt, backoff, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(attempt, backoff, () => 0.999999)).toBeCloseTo(ceiling, 2);
    }
  });
});

describe('Dialer', () => {
  let dials: Array<{ peer: string; addrs: readonly string[] }>;
  let connected: Set<string>;
  let banned: Map<string, number>;
  let outcome: (peer: string) => Promise<void>;
  let metrics: MemoryMetrics;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    dials = [];
    connected = new Set();
    banned = new Map();
    outcome = () => Promise.reject(new Error('connection refused'));
    metrics = new MemoryMetrics();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function dialer(): Dialer {
    const deps: DialerDeps = {
      dial: (peer, addrs) => {
        dials.push({ peer, addrs });
        return outcome(peer);
      },
      isConnected: (p) => connected.has(p),
      bannedUntil: (p) => {
        const until = banned.get(p);
        return until !== undefined && until > Date.now() ? until : undefined;
      },
      backoff,
      dialTimeoutMs: 1000,
      clock: { now: () => Date.now() },
      random: () => 0, // delays at the low end of the jitter range: base/2, base, 2*base, ...
      logger: noopLogger,
      metrics,
    };
    return new Dialer(deps);
  }

  it('dials every target at start, then retries failures with growing delays up to the cap', async () => {
    const d = dialer();
    d.setTargets(new Map([['p', ['/ip4/127.0.0.1/tcp/1/p2p/p']]]));
    d.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(dials).toHaveLength(1);
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const before = dials.length;
      const t0 = Date.now();
      while (dials.length === before) await vi.advanceTimersByTimeAsync(10);
      times.push(Date.now() - t0);
    }
    // random() = 0 gives half of each ceiling: 50, 100, 200, 400, 800, 800, ...
    expect(times).toEqual([50, 100, 200, 400, 800, 800, 800]);
    expect(metrics.get('p2p_dials_total', { result: 'failed' })).toBe(8);
    d.stop();
  });

  it('does not dial connected peers; a disconnect after a stable connection retries at the base delay', async () => {
    outcome = (peer) => {
      connected.add(peer);
      return Promise.resolve();
    };
    const d = dialer();
    d.setTargets(new Map([['p', ['/a']]]));
    d.start();
    await vi.advanceTimersByTimeAsync(0);
    d.onConnected('p');
    expect(dials).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(dials).toHaveLength(1);
    connected.delete('p');
    d.onDisconnected('p');
    expect(d.status('p')?.attempt).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(dials).toHaveLength(2);
    d.stop();
  });

  it('keeps backing off when connections drop right away (e.g. the remote refuses us)', async () => {
    outcome = () => Promise.resolve(); // "connects", then drops at once
    const d = dialer();
    d.setTargets(new Map([['p', ['/a']]]));
    d.start();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 4; i++) {
      d.onConnected('p');
      d.onDisconnected('p');
      await vi.advanceTimersByTimeAsync(2000);
    }
    expect(d.status('p')?.attempt).toBeGreaterThanOrEqual(4);
    d.stop();
  });

  it('waits for a ban to end before dialling', async () => {
    banned.set('p', Date.now() + 5000);
    const d = dialer();
    d.setTargets(new Map([['p', ['/a']]]));
    d.start();
    await vi.advanceTimersByTimeAsync(4900);
    expect(dials).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(dials.length).toBeGreaterThanOrEqual(1);
    d.stop();
  });

  it('updateAddrs drops the backoff and dials the new address at once', async () => {
    const d = dialer();
    d.setTargets(new Map([['p', ['/old']]]));
    d.start();
    for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1000);
    expect(d.status('p')?.attempt).toBeGreaterThan(3);
    d.updateAddrs('p', ['/new']);
    await vi.advanceTimersByTimeAsync(0);
    expect(dials.at(-1)).toEqual({ peer: 'p', addrs: ['/new'] });
    d.stop();
  });

  it('forgets removed targets and stops dialling on stop', async () => {
    const d = dialer();
    d.setTargets(
      new Map([
        ['p', ['/a']],
        ['q', ['/b']],
      ]),
    );
    d.start();
    await vi.advanceTimersByTimeAsync(0);
    d.setTargets(new Map([['q', ['/b']]]));
    const before = dials.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(dials.slice(before).every((x) => x.peer === 'q')).toBe(true);
    d.stop();
    const stopped = dials.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(dials.length).toBe(stopped);
    expect(d.status('p')).toBeUndefined();
  });
});
