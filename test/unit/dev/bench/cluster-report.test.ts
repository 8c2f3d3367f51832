import { describe, expect, it } from 'vitest';
import {
  type BenchResult,
  blockStats,
  checkExactlyOnce,
  cpuCores,
  cpuMsPerTx,
  disagreements,
  formatResult,
  histogram,
  latencySummary,
  meetsTarget,
  ratePerSecond,
  timeSeries,
  verificationLimit,
  windowSeconds,
} from '../../../../src/dev/bench/cluster-report.ts';

describe('cluster bench: the verification limit', () => {
  it('is cores x verifies per second per core / validators', () => {
    expect(verificationLimit(2, 9700, 4)).toBe(4850);
    expect(verificationLimit(8, 10_000, 4)).toBe(20_000);
    expect(verificationLimit(2, 9700, 7)).toBeCloseTo(2771.43, 2);
    expect(verificationLimit(1, 100, 1)).toBe(100);
  });

  it('refuses non-positive inputs', () => {
    expect(() => verificationLimit(0, 9700, 4)).toThrow(RangeError);
    expect(() => verificationLimit(2, 0, 4)).toThrow(RangeError);
    expect(() => verificationLimit(2, 9700, 0)).toThrow(RangeError);
    expect(() => verificationLimit(2, Number.NaN, 4)).toThrow(RangeError);
  });
});

describe('cluster bench: window arithmetic', () => {
  const w = { start: 10_000, end: 20_000 };

  it('counts events in [start, end) per second of the window', () => {
    expect(windowSeconds(w)).toBe(10);
    const times = [9_999, 10_000, 12_000, 19_999, 20_000, 25_000];
    expect(ratePerSecond(times, w)).toBeCloseTo(0.3);
    expect(ratePerSecond([], w)).toBe(0);
    expect(ratePerSecond([1], { start: 5, end: 5 })).toBeNaN();
  });

  it('summarises latencies with nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(latencySummary(samples)).toEqual({ count: 100, p50Ms: 50, p95Ms: 95, p99Ms: 99, maxMs: 100 });
    const none = latencySummary([]);
    expect(none.count).toBe(0);
    expect(none.p99Ms).toBeNaN();
    expect(none.maxMs).toBeNaN();
  });

  it('computes CPU cores from two CPU-seconds snapshots', () => {
    const before = new Map([
      ['a', 10],
      ['b', 5],
    ]);
    const after = new Map([
      ['a', 15],
      ['b', 7],
      ['c', 3],
    ]);
    expect(cpuCores(before, after, 10)).toEqual({ a: 0.5, b: 0.2 });
    expect(cpuCores(before, after, 0)).toEqual({});
  });

  it('reports block sizes and intervals inside the window only', () => {
    const blocks = [
      { height: 1, hash: 'a', txCount: 5, seenAt: 9_000 },
      { height: 2, hash: 'b', txCount: 10, seenAt: 10_000 },
      { height: 3, hash: 'c', txCount: 30, seenAt: 10_400 },
      { height: 4, hash: 'd', txCount: 20, seenAt: 11_000 },
      { height: 5, hash: 'e', txCount: 99, seenAt: 20_000 },
    ];
    expect(blockStats(blocks, w)).toEqual({
      blocks: 3,
      txsP50: 20,
      txsMean: 20,
      txsMax: 30,
      intervalP50Ms: 400,
      intervalMeanMs: 500,
    });
    const empty = blockStats([], w);
    expect(empty.blocks).toBe(0);
    expect(empty.txsMean).toBeNaN();
  });
});

describe('cluster bench: exactly-once and agreement checks', () => {
  const acked = new Set(['t1', 't2', 't3']);
  const submitted = new Set(['t1', 't2', 't3', 't4']);

  it('passes when every acknowledged tx is on every chain once; anchors are foreign, unacked txs neither', () => {
    const r = checkExactlyOnce(acked, submitted, [
      { name: 'n0', txHashes: ['t1', 'anchor1', 't2', 't3', 't4'] },
      { name: 'n1', txHashes: ['t1', 'anchor1', 't2', 't3'] },
    ]);
    expect(r).toEqual({ lost: 0, duplicated: 0, foreign: 1, lostByNode: { n0: 0, n1: 0 } });
  });

  it('counts a tx missing from any chain as lost once, and per node', () => {
    const r = checkExactlyOnce(acked, submitted, [
      { name: 'n0', txHashes: ['t1', 't2'] },
      { name: 'n1', txHashes: ['t1'] },
      { name: 'n2', txHashes: ['t1', 't2', 't3'] },
    ]);
    expect(r.lost).toBe(2);
    expect(r.lostByNode).toEqual({ n0: 1, n1: 2, n2: 0 });
  });

  it('counts a tx committed twice on a chain as duplicated', () => {
    const r = checkExactlyOnce(acked, submitted, [
      { name: 'n0', txHashes: ['t1', 't2', 't3', 't2'] },
      { name: 'n1', txHashes: ['t1', 't2', 't3', 't4', 't4'] },
    ]);
    expect(r.duplicated).toBe(2);
    expect(r.lost).toBe(0);
  });

  it('lists the heights where two nodes hold different blocks', () => {
    const a = [
      { height: 1, hash: 'x', txCount: 1, seenAt: 1 },
      { height: 2, hash: 'y', txCount: 1, seenAt: 2 },
    ];
    const b = [
      { height: 1, hash: 'x', txCount: 1, seenAt: 1 },
      { height: 2, hash: 'z', txCount: 1, seenAt: 2 },
      { height: 3, hash: 'w', txCount: 1, seenAt: 3 },
    ];
    expect(disagreements([a, b])).toEqual([2]);
    expect(disagreements([a, a])).toEqual([]);
  });
});

describe('cluster bench: the target and the table', () => {
  const base = { txPerSec: 1200, p99Ms: 1500, peakRssMb: 300, failed: 0 };

  it('is met only with throughput, p99, RSS and zero failures all in bounds', () => {
    expect(meetsTarget(base)).toBe(true);
    expect(meetsTarget({ ...base, txPerSec: 999 })).toBe(false);
    expect(meetsTarget({ ...base, p99Ms: 2001 })).toBe(false);
    expect(meetsTarget({ ...base, peakRssMb: 401 })).toBe(false);
    expect(meetsTarget({ ...base, failed: 1 })).toBe(false);
    expect(meetsTarget({ ...base, p99Ms: Number.NaN })).toBe(false);
  });

  it('prints the figures, the limit and the ratio', () => {
    const r: BenchResult = {
      ...base,
      p50Ms: 400,
      p95Ms: 900,
      maxMs: 1800,
      verifyPerSecPerCore: 9600,
      limitTxPerSec: 4800,
      ratio: 0.25,
      validators: 4,
      durationS: 60,
      warmupS: 10,
      startedAt: '2026-11-29T00:00:00.000Z',
      machine: { cores: 2, cpu: 'x', memoryMb: 1, node: 'v22', loadAvg: [0, 0, 0] },
      options: { concurrency: 2000, batch: 1 },
      txs: {
        signed: 100,
        submitted: 90,
        acked: 90,
        committedInWindow: 72_000,
        rejected: {},
        mempoolFullRetries: 0,
        requestErrors: 0,
        lost: 0,
        duplicated: 0,
        foreign: 3,
        disagreements: [],
      },
      latencySamples: 10,
      cpu: { nodes: { 'bank-a': 0.45 }, loadgen: 0.1, machineBusy: 0.97 },
      cpuMsPerTx: 1.25,
      peakRssByNodeMb: { 'bank-a': 300 },
      blocks: { blocks: 10, txsP50: 100, txsMean: 100, txsMax: 200, intervalP50Ms: 90, intervalMeanMs: 100 },
      viewChanges: 0,
      series: [],
      latencyHistogram: { binMs: 10, counts: [] },
      devnetReadyMs: 5000,
      consensusDrops: {},
      prePrepareTxs: { resolved: 90, fetches: 3, fetchedTxs: 12 },
      verifySamples: [9600],
      meetsTarget: true,
    };
    const text = formatResult(r);
    expect(text).toContain('1,200');
    expect(text).toContain('4,800 = 2 cores x 9,600 / 4');
    expect(text).toContain('25.0 %');
    expect(text).toContain('target met');
    expect(text).toContain('1.25 (at most 1,600 tx/s on 2 cores)');
    expect(text).toMatch(/compact pre-prepares \/ fetches \/ txs +90 \/ 3 \/ 12/);
  });
});

describe('cluster bench: CPU per tx', () => {
  it("is the validators' cores together x 1000 / tx per second, in ms", () => {
    expect(cpuMsPerTx({ a: 0.25, b: 0.25, c: 0.25, d: 0.25 }, 800)).toBe(1.25);
    expect(cpuMsPerTx({ a: 1 }, 1000)).toBe(1);
    expect(cpuMsPerTx({ a: 1 }, 0)).toBeNaN();
    expect(cpuMsPerTx({ a: 1 }, Number.NaN)).toBeNaN();
  });
});

describe('cluster bench: series for the report plots', () => {
  const w = { start: 10_000, end: 13_000 };

  it('counts commits per second of the window and takes latency percentiles by submit second', () => {
    const commits = [9_999, 10_000, 10_500, 11_999, 12_000, 13_000];
    const submits = [10_100, 10_200, 11_500, 12_900, 13_000];
    const lats = [100, 300, 50, 70, 999];
    expect(timeSeries(commits, submits, lats, w)).toEqual([
      { t: 0, committed: 2, p50Ms: 100, p99Ms: 300 },
      { t: 1, committed: 1, p50Ms: 50, p99Ms: 50 },
      { t: 2, committed: 1, p50Ms: 70, p99Ms: 70 },
    ]);
  });

  it('bins latencies up to the p99.9, the outliers in the last bin', () => {
    const samples = [...Array.from({ length: 10_000 }, (_, i) => i), 1_000_000];
    const h = histogram(samples, 10);
    // The bins span the p99.9 (about 9,990 ms), not the one outlier at 1,000,000 ms.
    expect(h.binMs).toBeGreaterThanOrEqual(990);
    expect(h.binMs).toBeLessThanOrEqual(1000);
    expect(h.counts[0]).toBe(h.binMs);
    expect(h.counts[9]).toBe(10_001 - 9 * h.binMs);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(10_001);
  });
});
