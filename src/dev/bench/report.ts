/**
 * `jrchain bench --report` (`npm run bench -- --report`): the performance report in the five dimensions
 * financial alliance chains are assessed on (JR/T 0193), written to docs/performance-report.md with SVG plots
 * next to it (docs/benchmark.md, "The performance report"). Each dimension runs an existing benchmark:
 *
 * - throughput: `runs` closed-loop cluster runs (median figures, ratio to the verification limit of the same
 *   run), and one run at a fixed offered load (2,000 tx/s) for the latency target;
 * - queries under load: one cluster run at a fixed tx load (1,000 tx/s) with the open-loop query load of
 *   querygen.ts against the first validator (5,000 req/s: evidence by hash and signed case queries);
 * - scale: `bench/gen-ledger.ts --records N` (a certified ledger of N evidence records), then
 *   `bench/ledger.ts --ledger` on it (bytes per record, query latency, open time);
 * - synchronisation: `bench/sync.ts` (an empty node catching up over libp2p, every certificate verified), from
 *   the scale dimension's ledger when that ran;
 * - deployment: `bench/deploy.ts` (a fresh clone, npm ci, a devnet until every validator is ready), and the time
 *   from creating a fresh devnet to every validator ready, from the throughput runs, and `bench/join.ts` (a
 *   validator joining a running alliance by governance).
 *
 * A dimension not run says so, never filled in. The formatting is pure (reportMarkdown);
 * runReport does the I/O.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClusterBenchOptions, DEFAULT_CLUSTER_BENCH, runClusterBench } from './cluster.ts';
import type { BenchResult } from './cluster-report.ts';
import { median } from './stats.ts';
import { barChart, lineChart } from './svg.ts';

export const REPORT_DIMENSIONS = ['throughput', 'queries', 'scale', 'sync', 'deploy'] as const;
export type ReportDimension = (typeof REPORT_DIMENSIONS)[number];

export interface ReportOptions {
  /** Markdown output; the SVGs go next to it (`perf-*.svg`). */
  out: string;
  dimensions: ReadonlySet<ReportDimension>;
  /** Closed-loop throughput runs (the median is reported). */
  runs: number;
  /** Measurement window of each cluster run, s. */
  duration: number;
  /** Offered load of the latency run, tx/s. */
  offeredRate: number;
  /** Queries per second of the queries dimension, and the tx load meanwhile (tx/s). */
  queryRate: number;
  queryTxRate: number;
  /** Evidence records the scale dimension loads. */
  scaleRecords: number;
  /** Blocks and txs per block the sync dimension catches up with. */
  syncBlocks: number;
  syncTxsPerBlock: number;
  validators: number;
}

export const DEFAULT_REPORT: Omit<ReportOptions, 'out'> = Object.freeze({
  dimensions: new Set(REPORT_DIMENSIONS),
  runs: 3,
  duration: 30,
  offeredRate: 2000,
  queryRate: 5000,
  queryTxRate: 1000,
  scaleRecords: 100_000,
  syncBlocks: 200,
  syncTxsPerBlock: 500,
  validators: 4,
});

export interface ScaleFigures {
  records: number;
  bytesPerRecord: number;
  /** bench:gen-ledger's speed, records per second (signing included). */
  genRecordsPerSec: number;
  /** Warm p99s (each query's fastest of 3 repeats), then cold (first touch after opening the store). */
  byHashP99Ms: number;
  byCaseP99Ms: number;
  byHashColdP99Ms?: number;
  byCaseColdP99Ms?: number;
  openMs: number;
}

export interface SyncFigures {
  blocks: number;
  txsPerBlock: number;
  txsPerSec: number;
  seconds: number;
  /** CPU of the syncing process per 1,000 txs, ms (user + system). */
  cpuMsPerKtx: number;
  /** Synced from the scale dimension's ledger (else one generated for it). */
  fromScale: boolean;
}

/** bench/deploy.ts: a fresh clone, npm ci, and a devnet until every validator is ready. */
export interface DeployFigures {
  validators: number;
  cloneMs: number;
  npmCiMs: number;
  devnetReadyMs: number;
  totalMs: number;
}

/** bench/join.ts: a validator joining a running alliance by governance. */
export interface JoinFigures {
  registerMs: number;
  addValidatorMs: number;
  catchUpMs: number;
  validatesMs: number;
  totalMs: number;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryMb: number;
  node: string;
  /** 1-minute load average at the start of each part. */
  loadAvg: number[];
  commit: string;
  date: string;
}

export interface ReportData {
  options: Omit<ReportOptions, 'out' | 'dimensions'> & { dimensions: ReportDimension[] };
  machine: Machine;
  closed: BenchResult[];
  offered?: BenchResult;
  /** The cluster run with the query load (its `queries`). */
  queries?: BenchResult;
  deploy?: DeployFigures;
  join?: JoinFigures;
  scale?: ScaleFigures;
  sync?: SyncFigures;
  seconds: number;
}

const BENCH_DIR = fileURLToPath(new URL('../../../bench/', import.meta.url));

/** Runs a bench/ script with `--json` and parses what it prints. */
function benchScript(script: string, args: string[]): unknown {
  const out = execFileSync(process.execPath, [join(BENCH_DIR, script), ...args, '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out);
}

interface LedgerRun {
  records: number;
  bytesPerRecord: number;
  byHash: { cold: { p99: number }; warm: { p99: number } };
  byCase: { cold: { p99: number }; warm: { p99: number } };
  openMs: number;
}

/** Generates a ledger of `records` records in `dir` and measures it. */
function runScale(records: number, dir: string): ScaleFigures {
  const gen = benchScript('gen-ledger.ts', ['--records', String(records), '--dir', dir]) as {
    recordsPerSec: number;
  };
  const r = benchScript('ledger.ts', ['--ledger', dir, '--queries', '2000']) as { runs: LedgerRun[] };
  const run = r.runs[0]!;
  return {
    records: run.records,
    bytesPerRecord: run.bytesPerRecord,
    genRecordsPerSec: gen.recordsPerSec,
    byHashP99Ms: run.byHash.warm.p99,
    byCaseP99Ms: run.byCase.warm.p99,
    byHashColdP99Ms: run.byHash.cold.p99,
    byCaseColdP99Ms: run.byCase.cold.p99,
    openMs: run.openMs,
  };
}

/** Syncs the ledger in `ledger` (from the scale dimension), or one of blocks × txsPerBlock generated for it. */
function runSync(blocks: number, txsPerBlock: number, ledger: string | undefined): SyncFigures {
  const args =
    ledger !== undefined
      ? ['--ledger', ledger]
      : ['--blocks', String(blocks), '--txs-per-block', String(txsPerBlock)];
  const r = benchScript('sync.ts', args) as {
    blocks: number;
    txsPerBlock: number;
    txsPerSec: number;
    seconds: number;
    cpuMsPerKtx: number;
  }[];
  const s = r[0]!;
  return {
    blocks: s.blocks,
    txsPerBlock: s.txsPerBlock,
    txsPerSec: s.txsPerSec,
    seconds: s.seconds,
    cpuMsPerKtx: s.cpuMsPerKtx,
    fromScale: ledger !== undefined,
  };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function clusterOptions(o: ReportOptions, extra: Partial<ClusterBenchOptions>): ClusterBenchOptions {
  return { ...DEFAULT_CLUSTER_BENCH, validators: o.validators, duration: o.duration, ...extra };
}

/** Runs the selected dimensions, writes the report and its plots, and returns what it measured. */
export async function runReport(o: ReportOptions, log: (line: string) => void): Promise<ReportData> {
  const started = performance.now();
  const machine: Machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryMb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    loadAvg: [],
    commit: gitCommit(),
    date: new Date().toISOString(),
  };
  const data: ReportData = {
    options: { ...o, dimensions: [...o.dimensions] },
    machine,
    closed: [],
    seconds: 0,
  };
  const part = (name: string) => {
    machine.loadAvg.push(loadavg()[0]!);
    log(`report: ${name} (load average ${loadavg()[0]!.toFixed(2)})`);
  };
  if (o.dimensions.has('throughput') || o.dimensions.has('deploy')) {
    for (let i = 0; i < o.runs; i++) {
      part(`throughput, closed loop, run ${i + 1} of ${o.runs}`);
      data.closed.push(await runClusterBench(clusterOptions(o, {}), log));
    }
  }
  if (o.dimensions.has('throughput')) {
    part(`throughput at ${o.offeredRate} tx/s offered`);
    // Outstanding txs are not the limit here: the offered rate is.
    // Enough pre-signed txs for the warm-up and the window at that rate, and some to spare.
    const txs = Math.ceil(o.offeredRate * (DEFAULT_CLUSTER_BENCH.warmup + o.duration) * 1.2);
    const paced = clusterOptions(o, { rate: o.offeredRate, concurrency: 20_000, txs });
    data.offered = await runClusterBench(paced, log);
  }
  if (o.dimensions.has('queries')) {
    part(`queries, ${o.queryRate} req/s while the cluster commits ${o.queryTxRate} tx/s`);
    const txs = Math.ceil(o.queryTxRate * (DEFAULT_CLUSTER_BENCH.warmup + o.duration) * 1.2);
    const opts = { rate: o.queryTxRate, concurrency: 20_000, txs, queryRate: o.queryRate };
    data.queries = await runClusterBench(clusterOptions(o, opts), log);
  }
  if (o.dimensions.has('deploy')) {
    part('deployment from a fresh clone');
    data.deploy = benchScript('deploy.ts', ['--validators', String(o.validators)]) as DeployFigures;
    part('a validator joining by governance');
    data.join = benchScript('join.ts', []) as JoinFigures;
  }
  const ledgers = mkdtempSync(join(tmpdir(), 'jrchain-report-'));
  try {
    const ledger = o.dimensions.has('scale') ? join(ledgers, 'ledger') : undefined;
    if (ledger !== undefined) {
      part(`scale, ${o.scaleRecords} records`);
      data.scale = runScale(o.scaleRecords, ledger);
    }
    if (o.dimensions.has('sync')) {
      part(
        ledger !== undefined
          ? `synchronisation from the ${o.scaleRecords}-record ledger`
          : `synchronisation, ${o.syncBlocks} blocks of ${o.syncTxsPerBlock} txs`,
      );
      data.sync = runSync(o.syncBlocks, o.syncTxsPerBlock, ledger);
    }
  } finally {
    rmSync(ledgers, { recursive: true, force: true });
  }
  data.seconds = (performance.now() - started) / 1000;
  writeReport(o.out, data);
  log(`report written to ${o.out}`);
  return data;
}

export const PLOTS = {
  throughput: 'perf-throughput.svg',
  latency: 'perf-latency.svg',
  histogram: 'perf-latency-histogram.svg',
} as const;

function writeReport(out: string, data: ReportData): void {
  const dir = dirname(out);
  mkdirSync(dir, { recursive: true });
  for (const [name, svg] of Object.entries(reportPlots(data))) writeFileSync(join(dir, name), svg);
  writeFileSync(out, reportMarkdown(data));
}

/** The run whose throughput is the median of the closed-loop runs (the one plotted). */
export function medianRun(runs: readonly BenchResult[]): BenchResult | undefined {
  const sorted = [...runs].sort((a, b) => a.txPerSec - b.txPerSec);
  return sorted[(sorted.length - 1) >> 1];
}

/** The SVG plots by file name: throughput and latency over time, latency histogram (as far as measured). */
export function reportPlots(data: ReportData): Record<string, string> {
  const plots: Record<string, string> = {};
  const run = medianRun(data.closed);
  if (run !== undefined) {
    plots[PLOTS.throughput] = lineChart(
      { title: 'Committed tx/s over the window (median closed-loop run)', xLabel: 's', yLabel: 'tx/s' },
      [{ name: 'committed tx/s', points: run.series.map((p) => [p.t, p.committed] as const) }],
    );
  }
  const lat = data.offered ?? run;
  if (lat !== undefined) {
    const which = data.offered ? `${data.options.offeredRate} tx/s offered` : 'closed loop';
    plots[PLOTS.latency] = lineChart(
      { title: `Submit-to-commit latency by submit second (${which})`, xLabel: 's', yLabel: 'ms' },
      [
        { name: 'p50', points: lat.series.map((p) => [p.t, p.p50Ms] as const) },
        { name: 'p99', points: lat.series.map((p) => [p.t, p.p99Ms] as const) },
      ],
    );
    plots[PLOTS.histogram] = barChart(
      { title: `Submit-to-commit latency histogram (${which})`, xLabel: 'ms', yLabel: 'txs' },
      lat.latencyHistogram.binMs,
      lat.latencyHistogram.counts,
    );
  }
  return plots;
}

const n0 = (v: number | undefined, digits = 0) =>
  v === undefined || !Number.isFinite(v)
    ? '-'
    : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const med = (runs: readonly BenchResult[], f: (r: BenchResult) => number) => median(runs.map(f));
const pct = (v: number) => `${n0(v * 100, 1)} %`;

/** A run whose drain ended first counts the acknowledged txs still pending as lost: say so. */
function undrained(r: BenchResult): string {
  if (r.options.drained !== false) return '';
  return (
    ` The drain after the window ended before every acknowledged tx was on every chain (\`drained: false\`): ` +
    `the ${n0(r.txs.lost)} still pending then count as lost here.`
  );
}

function throughputSection(d: ReportData): string[] {
  const c = d.closed;
  if (c.length === 0) return ['## 1. Transaction throughput', '', 'Not run (`--dimensions`).', ''];
  const o = d.offered;
  const cmd = `npm run bench -- --duration ${d.options.duration}`;
  const rows = [
    [
      'committed tx/s (median of runs)',
      n0(med(c, (r) => r.txPerSec)),
      c.map((r) => n0(r.txPerSec)).join(', '),
    ],
    [
      'verification limit, tx/s',
      n0(med(c, (r) => r.limitTxPerSec)),
      c.map((r) => n0(r.limitTxPerSec)).join(', '),
    ],
    ['ratio achieved / limit', pct(med(c, (r) => r.ratio)), c.map((r) => pct(r.ratio)).join(', ')],
    [
      'p99 submit-to-commit, closed loop (ms)',
      n0(med(c, (r) => r.p99Ms)),
      c.map((r) => n0(r.p99Ms)).join(', '),
    ],
    [
      'validator CPU per tx (ms, all validators)',
      n0(
        med(c, (r) => r.cpuMsPerTx),
        2,
      ),
      c.map((r) => n0(r.cpuMsPerTx, 2)).join(', '),
    ],
    [
      'peak RSS, largest validator (MiB)',
      n0(med(c, (r) => r.peakRssMb)),
      c.map((r) => n0(r.peakRssMb)).join(', '),
    ],
    [
      'failed or lost txs',
      n0(Math.max(...c.map((r) => r.failed))),
      c.map((r) => String(r.failed)).join(', '),
    ],
  ];
  const lines = [
    '## 1. Transaction throughput',
    '',
    `Command: \`${cmd}\` (${c.length} run${c.length === 1 ? '' : 's'}, closed loop: 800 txs outstanding, 50 per request).`,
    '',
    '| figure | median | runs |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ];
  if (o !== undefined) {
    lines.push(
      `At ${n0(d.options.offeredRate)} tx/s offered (\`${cmd} --rate ${d.options.offeredRate} --concurrency 20000\`): ` +
        `${n0(o.txPerSec)} tx/s committed, p50 / p99 ${n0(o.p50Ms)} / ${n0(o.p99Ms)} ms, peak RSS ${n0(o.peakRssMb)} MiB, ` +
        `${o.failed} failed or lost.` +
        (o.txPerSec < 0.95 * d.options.offeredRate
          ? ' The cluster did not keep up with the offered load, so this latency is mostly queueing.'
          : '') +
        undrained(o),
      '',
    );
  }
  lines.push(
    `![throughput over time](${PLOTS.throughput})`,
    '',
    `![latency over time](${PLOTS.latency})`,
    '',
    `![latency histogram](${PLOTS.histogram})`,
    '',
  );
  return lines;
}

function queriesSection(d: ReportData): string[] {
  const q = d.queries?.queries;
  if (d.queries === undefined || q === undefined)
    return ['## 2. Queries under load', '', 'Not run (`--dimensions`).', ''];
  const r = d.queries;
  const errors = (e: Record<string, number>) => Object.values(e).reduce((a, b) => a + b, 0);
  const share = 0.5;
  return [
    '## 2. Queries under load',
    '',
    `Command: \`npm run bench -- --duration ${d.options.duration} --rate ${d.options.queryTxRate} ` +
      `--concurrency 20000 --query-rate ${d.options.queryRate}\`: an open-loop query load against the first ` +
      `validator (${n0(share * 100)} % signed case queries, the rest evidence by hash, over the evidence ` +
      'committed before the window) while the cluster is offered a steady tx load.',
    '',
    '| figure | value |',
    '|---|---|',
    `| queries offered / answered per second | ${n0(q.offeredPerSec)} / ${n0(q.achievedPerSec)} |`,
    `| queries not sent (2,000 outstanding) | ${n0(q.notSent)} |`,
    `| evidence by hash, p50 / p99 (ms) | ${n0(q.byHash.p50Ms, 1)} / ${n0(q.byHash.p99Ms, 1)} |`,
    `| signed case query, p50 / p99 (ms) | ${n0(q.cases.p50Ms, 1)} / ${n0(q.cases.p99Ms, 1)} |`,
    `| query errors (by hash, case) | ${errors(q.byHash.errors)}, ${errors(q.cases.errors)} |`,
    `| txs committed meanwhile, tx/s (offered ${n0(d.options.queryTxRate)}) | ${n0(r.txPerSec)} |`,
    `| tx submit-to-commit p99 meanwhile (ms) | ${n0(r.p99Ms)} |`,
    '',
    'Latency runs from when each query was due, so a server that falls behind shows as latency, not as a ' +
      `lower rate.${undrained(r)}`,
    '',
  ];
}

function scaleSection(d: ReportData): string[] {
  const s = d.scale;
  if (s === undefined) return ['## 3. Scale (ledger growth)', '', 'Not run (`--dimensions`).', ''];
  return [
    '## 3. Scale (ledger growth)',
    '',
    `Command: \`npm run bench:gen-ledger -- --records ${s.records} --dir DIR\` (really signed txs in blocks of ` +
      '2,000 with real commit certificates), then `npm run bench:ledger -- --ledger DIR --queries 2000` ' +
      "(LevelDB, compacted before measuring; warm: each query's fastest of 3 repeats, cold: its first " +
      'touch after opening the store).',
    '',
    '| figure | value |',
    '|---|---|',
    `| records | ${n0(s.records)} |`,
    `| bytes on disk per record | ${n0(s.bytesPerRecord, 1)} |`,
    `| generation, records/s (signing included) | ${n0(s.genRecordsPerSec)} |`,
    `| evidence by hash, p99 warm / cold (ms) | ${n0(s.byHashP99Ms, 3)} / ${n0(s.byHashColdP99Ms, 3)} |`,
    `| evidence by case (20 records), p99 warm / cold (ms) | ${n0(s.byCaseP99Ms, 3)} / ${n0(s.byCaseColdP99Ms, 3)} |`,
    `| open time, store and chain state (ms) | ${n0(s.openMs, 1)} |`,
    '',
    `Measured at ${n0(s.records)} records, not at the 10 million of the target; nothing here is extrapolated.`,
    '',
  ];
}

function syncSection(d: ReportData): string[] {
  const s = d.sync;
  if (s === undefined) return ['## 4. Synchronisation', '', 'Not run (`--dimensions`).', ''];
  const cmd = s.fromScale
    ? "npm run bench:sync -- --ledger DIR` (the scale dimension's ledger)"
    : `npm run bench:sync -- --blocks ${s.blocks} --txs-per-block ${s.txsPerBlock}\``;
  return [
    '## 4. Synchronisation',
    '',
    `Command: \`${cmd}: a node with an empty ledger catches up over libp2p on loopback from two validators ` +
      '(another process), verifying every commit certificate, hash link and tx root and executing every tx; ' +
      'client signatures are not verified again once the second validator vouches for them (docs/protocol.md, ' +
      '"Signatures at catch-up").',
    '',
    `${n0(s.blocks * s.txsPerBlock)} txs in ${n0(s.seconds, 2)} s: **${n0(s.txsPerSec)} tx/s**, ` +
      `${n0(s.cpuMsPerKtx)} ms of the syncing process's CPU per 1,000 txs.`,
    '',
  ];
}

function deploySection(d: ReportData): string[] {
  const ready = d.closed.map((r) => r.devnetReadyMs).filter((v) => Number.isFinite(v));
  const lines = ['## 5. Deployment', ''];
  if (ready.length > 0) {
    lines.push(
      `From creating a fresh ${d.options.validators}-validator devnet (keys, genesis with TSA trust anchors, ` +
        `processes) to every validator ready: median **${n0(median(ready) / 1000, 1)} s** ` +
        `(${ready.map((v) => n0(v / 1000, 1)).join(', ')} s; measured by each throughput run).`,
      '',
    );
  }
  const f = d.deploy;
  if (f !== undefined) {
    lines.push(
      `From nothing (\`npm run bench:deploy\`): \`git clone\` ${n0(f.cloneMs / 1000, 1)} s, \`npm ci\` from the ` +
        `local npm cache ${n0(f.npmCiMs / 1000, 1)} s, \`npm run devnet\` to every validator ready ` +
        `${n0(f.devnetReadyMs / 1000, 1)} s: a fresh clone to a ready ${f.validators}-validator devnet in ` +
        `**${n0(f.totalMs / 1000, 1)} s**.`,
      '',
    );
  }
  const j = d.join;
  if (j !== undefined) {
    lines.push(
      'A new validator joining by governance (`npm run bench:join`: four validators under a light load; ' +
        `quorum proposals, each approved by two more validators): registering its institution ${n0(j.registerMs / 1000, 1)} s, ` +
        `adding its validator ${n0(j.addValidatorMs / 1000, 1)} s; its node, started on an empty data directory, ` +
        `caught up in ${n0(j.catchUpMs / 1000, 1)} s and signed a commit certificate ${n0(j.validatesMs / 1000, 1)} s ` +
        `after its start: **${n0(j.totalMs / 1000, 1)} s** from the first proposal.`,
      '',
    );
  }
  if (ready.length === 0 && f === undefined && j === undefined) lines.push('Not run (`--dimensions`).', '');
  return lines;
}

/** The command that regenerates this report. */
export function reportCommand(d: ReportData): string {
  const o = d.options;
  const dims =
    o.dimensions.length === REPORT_DIMENSIONS.length ? '' : ` --dimensions ${o.dimensions.join(',')}`;
  return (
    `npm run bench -- --report --report-runs ${o.runs} --duration ${o.duration} --scale-records ${o.scaleRecords} ` +
    `--sync-blocks ${o.syncBlocks} --sync-txs-per-block ${o.syncTxsPerBlock}${dims}`
  );
}

/** The report's markdown. */
export function reportMarkdown(d: ReportData): string {
  const m = d.machine;
  return [
    '# Performance report',
    '',
    `Generated by \`${reportCommand(d)}\` at commit ${m.commit}, ${m.date}, in ${n0(d.seconds / 60, 1)} min. ` +
      'Regenerate it with the same command; docs/benchmark.md says how each figure is measured.',
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${n0(m.memoryMb)} MiB memory, Node ${m.node}; 1-minute load average at ` +
      `the start of each part: ${m.loadAvg.map((v) => v.toFixed(2)).join(', ')}. Figures from a shared or loaded ` +
      'machine are low and noisy: compare the ratio to the verification limit, measured in the same run.',
    '',
    ...throughputSection(d),
    ...queriesSection(d),
    ...scaleSection(d),
    ...syncSection(d),
    ...deploySection(d),
  ].join('\n');
}
