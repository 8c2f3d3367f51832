/**
 * The cluster benchmark (`npm run bench`, `jrchain bench`): a fresh devnet of N validator processes (and the
 * embedded TSA) on loopback, a load generator process that pre-signs evidence txs from every institution and
 * submits them as fast as the cluster takes them with bounded outstanding txs, and, over a steady window after
 * a warm-up: committed tx/s, submit→commit latency percentiles, CPU and peak RSS per validator, block size and
 * interval. In the same run it measures this machine's Ed25519 verify rate on one core and reports the
 * verification-bound limit (cores × rate ÷ validators) and the ratio achieved / limit. Every acknowledged tx
 * is checked to be on every validator's chain exactly once. Writes a JSON result and prints a table.
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, exitCodes, JrError } from '../../core/errors.ts';
import type { ConsensusParams } from '../../core/params.ts';
import { type DevnetManifest, type RunningDevnet, startDevnet } from '../devnet.ts';
import { portFree } from '../processes.ts';
import {
  type BenchResult,
  blockStats,
  cpuCores,
  cpuMsPerTx,
  histogram,
  latencySummary,
  meetsTarget,
  ratePerSecond,
  timeSeries,
  verificationLimit,
  windowSeconds,
} from './cluster-report.ts';
import type { LoadgenConfig, LoadgenMessage, LoadgenResult } from './loadgen.ts';
import { machineCpuTicks, ResourceSampler, type RssBreakdown } from './proc.ts';
import type { QuerygenConfig, QuerygenMessage, QuerygenResult } from './querygen.ts';
import { median } from './stats.ts';
import { measureVerifyRate } from './verify-rate.ts';

export interface ClusterBenchOptions {
  validators: number;
  /** Measurement window, s. */
  duration: number;
  warmup: number;
  /** Txs pre-signed (the run stops early if they run out). */
  txs: number;
  /** Most txs outstanding (submitted, not yet committed). */
  concurrency: number;
  /** Txs per submit request. */
  batch: number;
  /** Requests in flight per validator. */
  connections: number;
  /** Offered load, tx/s (paced submissions); absent: as fast as the cluster takes them. */
  rate?: number;
  /** The genesis maxBatchTxs (txs per block); the devnet default when absent. */
  blockTxs?: number;
  /** The genesis maxBatchWaitMs; the devnet default when absent. */
  batchWaitMs?: number;
  /** Longest wait after the window for every acknowledged tx to commit everywhere, s. */
  drain: number;
  /** Data directory (must not exist or be empty); a temporary one when absent. */
  dir?: string;
  /** Keep the data directory (logs, ledgers, profiles) after the run. */
  keep: boolean;
  /** Run the validators with --cpu-prof; profiles go to DIR/profiles (implies keep). */
  profile: boolean;
  /** Where to write the JSON result; bench/results/cluster-<time>.json when absent. */
  out?: string;
  /** Query requests per second against the first validator during the window (querygen.ts); none when absent. */
  queryRate?: number;
  /** Share of those that are signed case queries (the rest: evidence by hash). */
  queryCaseShare?: number;
}

export const DEFAULT_CLUSTER_BENCH: ClusterBenchOptions = Object.freeze({
  validators: 4,
  duration: 60,
  warmup: 10,
  txs: 200_000,
  concurrency: 800,
  batch: 50,
  connections: 8,
  drain: 60,
  keep: false,
  profile: false,
});

export const BenchErrorCode = {
  /** The data directory given is not empty. */
  dirNotEmpty: 'BENCH_DIR_NOT_EMPTY',
  /** No block of free loopback ports for the cluster. */
  noPorts: 'BENCH_NO_PORTS',
  /** The load generator process failed. */
  loadgen: 'BENCH_LOADGEN_FAILED',
} as const;
export type BenchErrorCode = (typeof BenchErrorCode)[keyof typeof BenchErrorCode];
export const BenchErrorExit = exitCodes(BenchErrorCode, {
  dirNotEmpty: ExitCode.usage,
  noPorts: ExitCode.unavailable,
  loadgen: ExitCode.failed,
});

export class BenchError extends JrError {
  declare readonly code: BenchErrorCode;
  constructor(code: BenchErrorCode, message: string) {
    super(code, message);
  }
}

const LOADGEN = fileURLToPath(new URL('./loadgen.ts', import.meta.url));
const QUERYGEN = fileURLToPath(new URL('./querygen.ts', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
const VERIFY_SAMPLES = 3;

/** The first of `count` consecutive free loopback ports, from a random start in 20000-50000. */
async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new BenchError(BenchErrorCode.noPorts, `no block of ${count} free loopback ports found`);
}

function verifySamples(log: (s: string) => void, when: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < VERIFY_SAMPLES; i++) out.push(measureVerifyRate(1000));
  log(`Ed25519 verify rate ${when}: ${out.map((v) => v.toFixed(0)).join(', ')} /s on one core`);
  return out;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

function runLoadgenProcess(
  config: LoadgenConfig,
  on: (m: LoadgenMessage) => void,
): { pid: number; done: Promise<LoadgenResult> } {
  const child = fork(LOADGEN, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const done = new Promise<LoadgenResult>((resolveResult, reject) => {
    let result: LoadgenResult | undefined;
    child.on('message', (m: LoadgenMessage) => {
      if (m.type === 'result') result = m.result;
      else if (m.type === 'error') reject(new BenchError(BenchErrorCode.loadgen, m.message));
      else on(m);
    });
    child.once('exit', (code) => {
      if (result !== undefined) resolveResult(result);
      else
        reject(
          new BenchError(BenchErrorCode.loadgen, `the load generator exited (${code}) without a result`),
        );
    });
  });
  child.send({ type: 'run', config });
  return { pid: child.pid!, done };
}

/** Forks the query generator; `start()` starts its window. */
function runQuerygenProcess(config: QuerygenConfig): {
  pid: number;
  start: () => void;
  done: Promise<QuerygenResult>;
} {
  const child = fork(QUERYGEN, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const done = new Promise<QuerygenResult>((resolveResult, reject) => {
    let result: QuerygenResult | undefined;
    child.on('message', (m: QuerygenMessage) => {
      if (m.type === 'result') result = m.result;
      else if (m.type === 'error')
        reject(new BenchError(BenchErrorCode.loadgen, `query generator: ${m.message}`));
    });
    child.once('exit', (code) => {
      if (result !== undefined) resolveResult(result);
      else
        reject(
          new BenchError(BenchErrorCode.loadgen, `the query generator exited (${code}) without a result`),
        );
    });
  });
  child.send({ type: 'run', config });
  return { pid: child.pid!, start: () => child.send({ type: 'start' }), done };
}

/** The run's data directory: `o.dir` if new or empty, else a fresh temporary one. */
function dataDir(o: ClusterBenchOptions): string {
  if (o.dir === undefined) return mkdtempSync(join(tmpdir(), 'jrchain-bench-'));
  const dir = resolve(o.dir);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new BenchError(
      BenchErrorCode.dirNotEmpty,
      `${dir} is not empty: the benchmark starts from a fresh data directory`,
    );
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The genesis consensus parameters the options override (none: the devnet's own). */
function consensusOverrides(o: ClusterBenchOptions): Partial<ConsensusParams> {
  return {
    ...(o.blockTxs !== undefined ? { maxBatchTxs: o.blockTxs } : {}),
    ...(o.batchWaitMs !== undefined ? { maxBatchWaitMs: o.batchWaitMs } : {}),
  };
}

async function startBenchDevnet(o: ClusterBenchOptions, dir: string, log: (s: string) => void) {
  const ports = await freePortBlock(2 * o.validators + 1);
  log(`starting ${o.validators} validators and a TSA in ${dir}`);
  return startDevnet({
    dir,
    validators: o.validators,
    basePort: ports,
    apiBasePort: ports + o.validators,
    tsaPort: ports + 2 * o.validators,
    logFormat: 'json',
    out: log,
    consensus: consensusOverrides(o),
    nodeEnv: o.profile
      ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(dir, 'profiles')} --cpu-prof-interval=500` }
      : {},
  });
}

function loadgenConfig(m: DevnetManifest, o: ClusterBenchOptions, startedAt: Date): LoadgenConfig {
  return {
    nodes: m.nodes.map((x) => x.apiUrl),
    chainId: m.chainId,
    clients: m.nodes.map((x) => ({ institution: x.institution, keyId: 'client-1', keyFile: x.clientKey })),
    txs: o.txs,
    concurrency: o.concurrency,
    batch: o.batch,
    connections: o.connections,
    ...(o.rate !== undefined ? { rate: o.rate } : {}),
    warmupS: o.warmup,
    durationS: o.duration,
    drainS: o.drain,
    runTag: startedAt.toISOString(),
  };
}

/** What the load run measured: the load generator's result, and CPU and memory around its window. */
interface Measured {
  r: LoadgenResult;
  queries?: QuerygenResult;
  peaks: Map<string, number>;
  highest: Map<string, RssBreakdown>;
  cpuStart: Map<string, number>;
  cpuEnd: Map<string, number>;
  machineStart: ReturnType<typeof machineCpuTicks> | undefined;
  machineEnd: ReturnType<typeof machineCpuTicks> | undefined;
}

/** Runs the load generator against the devnet, sampling every process's CPU and RSS. */
async function measureLoad(
  m: DevnetManifest,
  o: ClusterBenchOptions,
  startedAt: Date,
  log: (s: string) => void,
): Promise<Measured> {
  const pids = new Map<string, number>(m.nodes.map((x) => [x.institution, x.pid!]));
  let sampler: ResourceSampler | undefined;
  const marks: Omit<Measured, 'r' | 'peaks' | 'highest'> = {
    cpuStart: new Map(),
    cpuEnd: new Map(),
    machineStart: undefined,
    machineEnd: undefined,
  };
  log(`pre-signing ${o.txs} txs from ${m.nodes.length} institutions`);
  const first = m.nodes[0]!;
  const qg =
    o.queryRate === undefined
      ? undefined
      : runQuerygenProcess({
          node: first.apiUrl,
          runTag: startedAt.toISOString(),
          rate: o.queryRate,
          caseShare: o.queryCaseShare ?? 0.5,
          durationS: o.duration,
          client: { institution: first.institution, keyId: 'client-1', keyFile: first.clientKey },
          maxInFlight: 2000,
          connections: 32,
        });
  // Queries that fail the run must not leave the tx load unawaited, nor the other way round.
  qg?.done.catch(() => {});
  const lg = runLoadgenProcess(loadgenConfig(m, o, startedAt), (msg) => {
    if (msg.type === 'signed') {
      log(`signed ${msg.count} txs in ${msg.seconds.toFixed(1)} s; submitting (warm-up ${o.warmup} s)`);
    } else if (msg.type === 'progress') {
      log(msg.line);
    } else if (msg.type === 'window' && msg.phase === 'start') {
      marks.cpuStart = sampler!.mark();
      marks.machineStart = machineCpuTicks();
      qg?.start();
      log(`measurement window starts (${o.duration} s)${qg ? `, with ${o.queryRate} queries/s` : ''}`);
    } else if (msg.type === 'window' && msg.phase === 'end') {
      marks.cpuEnd = sampler!.mark();
      marks.machineEnd = machineCpuTicks();
      log('measurement window ends; draining');
    }
  });
  pids.set('loadgen', lg.pid);
  if (qg !== undefined) pids.set('querygen', qg.pid);
  sampler = new ResourceSampler(pids);
  try {
    const r = await lg.done;
    const queries = qg === undefined ? undefined : await qg.done;
    const peaks = sampler.peaks();
    return { r, peaks, highest: sampler.highestSamples(), ...marks, ...(queries ? { queries } : {}) };
  } finally {
    sampler.stop();
  }
}

export async function runClusterBench(
  o: ClusterBenchOptions,
  log: (line: string) => void = (s) => process.stderr.write(`${s}\n`),
): Promise<BenchResult> {
  const startedAt = new Date();
  const dir = dataDir(o);
  const keep = o.keep || o.profile || o.dir !== undefined;
  let devnet: RunningDevnet | undefined;
  try {
    const before = verifySamples(log, 'before the run');
    const t0 = performance.now();
    devnet = await startBenchDevnet(o, dir, log);
    const devnetReadyMs = performance.now() - t0;
    const measured = await measureLoad(devnet.manifest, o, startedAt, log);
    const nodes = devnet.manifest.nodes.map((x) => x.institution);
    await devnet.stop();
    devnet = undefined;
    const after = verifySamples(log, 'after the run');
    const result = benchResult(o, measured, nodes, [...before, ...after], startedAt);
    result.devnetReadyMs = devnetReadyMs;
    const out = o.out ?? join(RESULTS_DIR, `cluster-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(resolve(out, '..'), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    log(`result written to ${out}${keep ? `; data directory kept: ${dir}` : ''}`);
    return result;
  } finally {
    if (devnet !== undefined) await devnet.stop();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

function machineInfo(cores: number): BenchResult['machine'] {
  return {
    cores,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryMb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    loadAvg: loadavg(),
  };
}

function txCounts(r: LoadgenResult, committedInWindow: number): BenchResult['txs'] {
  return {
    signed: r.signed,
    submitted: r.submitted,
    acked: r.acked,
    committedInWindow,
    rejected: r.rejected,
    mempoolFullRetries: r.mempoolFullRetries,
    requestErrors: r.requestErrors,
    lost: r.exactlyOnce.lost,
    duplicated: r.exactlyOnce.duplicated,
    foreign: r.exactlyOnce.foreign,
    disagreements: r.disagreements,
    unresolved: r.unresolved,
  };
}

/** The JSON result of a run, from what it measured. */
function benchResult(
  o: ClusterBenchOptions,
  { r, peaks, highest, cpuStart, cpuEnd, machineStart, machineEnd, queries }: Measured,
  nodeNames: readonly string[],
  verifyRates: number[],
  startedAt: Date,
): BenchResult {
  const cores = availableParallelism();
  const seconds = windowSeconds(r.window);
  const cpu = cpuCores(cpuStart, cpuEnd, (r.window.end - r.window.start) / 1000);
  const nodeCpu = Object.fromEntries(nodeNames.map((n) => [n, cpu[n] ?? Number.NaN]));
  const verifyPerSecPerCore = median(verifyRates);
  const limit = verificationLimit(cores, verifyPerSecPerCore, o.validators);
  const txPerSec = ratePerSecond(r.commitTimes, r.window);
  const lat = latencySummary(r.latencies);
  const rejectedCount = Object.values(r.rejected).reduce((a, b) => a + b, 0);
  const peakByNode = Object.fromEntries(nodeNames.map((n) => [n, peaks.get(n) ?? Number.NaN]));
  const machineBusy =
    machineStart && machineEnd && machineEnd.total > machineStart.total
      ? (machineEnd.busy - machineStart.busy) / (machineEnd.total - machineStart.total)
      : null;
  const result: BenchResult = {
    txPerSec,
    p50Ms: lat.p50Ms,
    p95Ms: lat.p95Ms,
    p99Ms: lat.p99Ms,
    maxMs: lat.maxMs,
    peakRssMb: Math.max(...Object.values(peakByNode)),
    verifyPerSecPerCore,
    limitTxPerSec: limit,
    ratio: txPerSec / limit,
    failed: rejectedCount + r.exactlyOnce.lost + r.exactlyOnce.duplicated,
    validators: o.validators,
    durationS: seconds,
    warmupS: o.warmup,
    startedAt: startedAt.toISOString(),
    machine: machineInfo(cores),
    options: {
      ...o,
      consensus: consensusOverrides(o),
      commit: gitCommit(),
      ranOut: r.ranOut,
      drained: r.drained,
    },
    txs: txCounts(r, Math.round(txPerSec * seconds)),
    latencySamples: lat.count,
    cpu: { nodes: nodeCpu, loadgen: cpu.loadgen ?? Number.NaN, machineBusy },
    cpuMsPerTx: cpuMsPerTx(nodeCpu, txPerSec),
    peakRssByNodeMb: peakByNode,
    rssAtPeakByNodeMb: Object.fromEntries(
      nodeNames.flatMap((n) => (highest.has(n) ? [[n, highest.get(n)!]] : [])),
    ),
    blocks: blockStats(r.blocks[0] ?? [], r.window),
    viewChanges: Math.max(0, ...r.views),
    series: timeSeries(r.commitTimes, r.submitTimes, r.latencies, r.window),
    latencyHistogram: histogram(r.latencies),
    devnetReadyMs: Number.NaN,
    consensusDrops: r.drops,
    prePrepareTxs: r.prePrepareTxs,
    suspicions: r.suspicions,
    verifySamples: verifyRates,
    meetsTarget: false,
  };
  result.meetsTarget = meetsTarget(result) && r.disagreements.length === 0 && r.drained;
  if (queries !== undefined) result.queries = queries;
  return result;
}
