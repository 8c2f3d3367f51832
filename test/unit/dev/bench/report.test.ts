import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../../../src/dev/bench/cluster-report.ts';
import {
  DEFAULT_REPORT,
  medianRun,
  PLOTS,
  type ReportData,
  reportMarkdown,
  reportPlots,
} from '../../../../src/dev/bench/report.ts';
import { barChart, lineChart, niceMax } from '../../../../src/dev/bench/svg.ts';

function run(txPerSec: number, extra: Partial<BenchResult> = {}): BenchResult {
  return {
    txPerSec,
    p50Ms: 300,
    p95Ms: 500,
    p99Ms: 700,
    limitTxPerSec: 4000,
    ratio: txPerSec / 4000,
    cpuMsPerTx: 1.1,
    peakRssMb: 250,
    failed: 0,
    devnetReadyMs: 12_000 + txPerSec,
    series: [
      { t: 0, committed: txPerSec, p50Ms: 300, p99Ms: 700 },
      { t: 1, committed: txPerSec + 10, p50Ms: Number.NaN, p99Ms: Number.NaN },
    ],
    latencyHistogram: { binMs: 25, counts: [1, 5, 2] },
    ...extra,
  } as BenchResult;
}

const { dimensions: _d, ...options } = DEFAULT_REPORT;
const data: ReportData = {
  options: { ...options, dimensions: ['throughput', 'scale', 'sync', 'deploy'] },
  machine: {
    cpu: 'Test CPU',
    cores: 2,
    memoryMb: 4096,
    node: 'v22.0.0',
    loadAvg: [0.5, 1.25],
    commit: 'abc1234',
    date: '2026-12-05T08:00:00.000Z',
  },
  closed: [run(1500), run(1700), run(1600)],
  offered: run(1990, { p99Ms: 480 }),
  scale: {
    records: 100_000,
    bytesPerRecord: 291.3,
    loadTxPerSec: 9000,
    byHashP99Ms: 0.8,
    byCaseP99Ms: 2.5,
    openMs: 60,
  },
  sync: { blocks: 200, txsPerBlock: 500, txsPerSec: 21_000, seconds: 4.76 },
  seconds: 600,
};

describe('the performance report', () => {
  it('reports the medians of the runs, each run, the ratio to the limit, and the commands', () => {
    const md = reportMarkdown(data);
    expect(md).toContain('| committed tx/s (median of runs) | 1,600 | 1,500, 1,700, 1,600 |');
    expect(md).toContain('| ratio achieved / limit | 40.0 % |');
    expect(md).toContain('At 2,000 tx/s offered');
    expect(md).toContain('p50 / p99 300 / 480 ms');
    expect(md).toContain('Test CPU, 2 cores, 4,096 MiB memory, Node v22.0.0');
    expect(md).toContain('0.50, 1.25');
    expect(md).toContain('npm run bench:ledger -- --records 100000');
    expect(md).toContain('| bytes on disk per record | 291.3 |');
    expect(md).toContain('**21,000 tx/s**');
    expect(md).toContain('median **13.6 s**');
    // What is not measured says so, with no figure.
    expect(md).toContain('## 2. Queries under load\n\nNot measured by this version of the report.');
    for (const file of Object.values(PLOTS)) expect(md).toContain(`](${file})`);
  });

  it('says which dimensions were not run', () => {
    const md = reportMarkdown({ ...data, closed: [], offered: undefined, scale: undefined, sync: undefined });
    expect(md.match(/Not run \(`--dimensions`\)\./g)).toHaveLength(4);
    expect(reportPlots({ ...data, closed: [], offered: undefined })).toEqual({});
  });

  it('plots the median run and the offered-load latency', () => {
    expect(medianRun(data.closed)?.txPerSec).toBe(1600);
    const plots = reportPlots(data);
    expect(Object.keys(plots).sort()).toEqual(Object.values(PLOTS).sort());
    expect(plots[PLOTS.latency]).toContain('2000 tx/s offered');
    // Three histogram bars.
    expect(plots[PLOTS.histogram]!.match(/<rect x=/g)).toHaveLength(3);
  });
});

describe('SVG charts', () => {
  it('round axis maxima up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.3, 1, 7, 12, 180, 2001].map(niceMax)).toEqual([1, 0.5, 1, 10, 20, 200, 5000]);
  });

  it('draw a line per series, broken where a point is missing, and escape the text', () => {
    const svg = lineChart({ title: 'a < b & "c"', xLabel: 's', yLabel: 'ms' }, [
      {
        name: 'p99',
        points: [
          [0, 10],
          [1, Number.NaN],
          [2, 30],
        ],
      },
    ]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('a &lt; b &amp; &quot;c&quot;');
    const path = /<path d="([^"]*)"/.exec(svg)![1]!;
    expect(path.match(/M/g)).toHaveLength(2);
    expect(path).not.toContain('L');
  });

  it('draw one bar per bin, the tallest reaching the top of the axis', () => {
    const svg = barChart({ title: 't', xLabel: 'ms', yLabel: 'n' }, 10, [2, 10, 5]);
    const heights = [...svg.matchAll(/<rect x="[^"]*" y="([^"]*)" width="[^"]*" height="([^"]*)"/g)].map(
      (m) => Number(m[2]),
    );
    expect(heights).toHaveLength(3);
    expect(heights[1]).toBeCloseTo(heights[0]! * 5, 0);
    expect(heights[1]).toBeCloseTo(360 - 40 - 50, 0);
  });
});
