/**
 * The cluster benchmark's arithmetic, kept free of I/O so it can be tested: the verification-bound limit,
 * throughput and latency over the measurement window, the exactly-once check of every acknowledged tx, block
 * statistics, and the result table.
 */
import type { RssBreakdown } from './proc.ts';
import type { QuerygenResult } from './querygen.ts';
import { percentile } from './stats.ts';
import type { UnresolvedSplit } from './unresolved.ts';

/** The first throughput target of the benchmark issue. */
export const TARGET = Object.freeze({ txPerSec: 1000, p99Ms: 2000, peakRssMb: 400 });

/**
 * Each validator verifies every client signature once, and the validators share the machine's cores, so
 * signature verification alone caps throughput at cores × verifies per second per core ÷ validators.
 */
export function verificationLimit(cores: number, verifyPerSecPerCore: number, validators: number): number {
  if (!(cores > 0 && verifyPerSecPerCore > 0 && validators > 0)) {
    throw new RangeError('cores, verify rate and validators must be positive');
  }
  return (cores * verifyPerSecPerCore) / validators;
}

export interface Window {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

export function windowSeconds(w: Window): number {
  return (w.end - w.start) / 1000;
}

/** Events per second of the times that fall in the window. */
export function ratePerSecond(times: Iterable<number>, w: Window): number {
  let n = 0;
  for (const t of times) if (t >= w.start && t < w.end) n++;
  const s = windowSeconds(w);
  return s > 0 ? n / s : Number.NaN;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function latencySummary(samples: readonly number[]): LatencySummary {
  return {
    count: samples.length,
    p50Ms: percentile(samples, 50),
    p95Ms: percentile(samples, 95),
    p99Ms: percentile(samples, 99),
    maxMs: samples.length === 0 ? Number.NaN : Math.max(...samples),
  };
}

export interface SecondStats {
  /** Seconds since the window start. */
  t: number;
  committed: number;
  p50Ms: number;
  p99Ms: number;
}

/** Per-second throughput and latency over the window (for the plots of the performance report). */
export function timeSeries(
  commitTimes: readonly number[],
  submitTimes: readonly number[],
  latencies: readonly number[],
  w: Window,
): SecondStats[] {
  const n = Math.max(0, Math.ceil(windowSeconds(w)));
  const committed = new Array<number>(n).fill(0);
  const lat: number[][] = Array.from({ length: n }, () => []);
  const slot = (t: number) => Math.floor((t - w.start) / 1000);
  for (const t of commitTimes) if (t >= w.start && t < w.end) committed[slot(t)]!++;
  submitTimes.forEach((t, i) => {
    if (t >= w.start && t < w.end) lat[slot(t)]!.push(latencies[i]!);
  });
  return committed.map((c, t) => ({
    t,
    committed: c,
    p50Ms: percentile(lat[t]!, 50),
    p99Ms: percentile(lat[t]!, 99),
  }));
}

export interface Histogram {
  binMs: number;
  /** counts[i]: samples in [i × binMs, (i+1) × binMs); the last bin also holds everything above. */
  counts: number[];
}

/** Latency histogram in `bins` equal bins up to the p99.9 (so a few outliers do not flatten it). */
export function histogram(samples: readonly number[], bins = 40): Histogram {
  const top = samples.length === 0 ? 1 : Math.max(1, percentile(samples, 99.9));
  const binMs = Math.max(1, Math.ceil(top / bins));
  const counts = new Array<number>(bins).fill(0);
  for (const v of samples) counts[Math.min(bins - 1, Math.floor(v / binMs))]!++;
  return { binMs, counts };
}

export interface ChainView {
  name: string;
  /** Every tx hash of the node's chain, in chain order. */
  txHashes: readonly string[];
}

export interface ExactlyOnce {
  /** Acknowledged txs missing from some node's chain (counted once per tx). */
  lost: number;
  /** Txs that appear more than once in some node's chain. */
  duplicated: number;
  /** Txs the load generator never submitted (the validators' own anchor txs), on the node with most. */
  foreign: number;
  /** Per node: acknowledged txs it does not hold. */
  lostByNode: Record<string, number>;
}

/**
 * Every acknowledged tx must be in every node's chain exactly once. Submitted txs that were never
 * acknowledged (a request that failed in flight) may or may not be committed; they count as neither lost nor
 * foreign.
 */
export function checkExactlyOnce(
  acked: ReadonlySet<string>,
  submitted: ReadonlySet<string>,
  chains: readonly ChainView[],
): ExactlyOnce {
  const lostTxs = new Set<string>();
  const duplicated = new Set<string>();
  const lostByNode: Record<string, number> = {};
  let foreign = 0;
  for (const chain of chains) {
    const seen = new Set<string>();
    let foreignHere = 0;
    for (const h of chain.txHashes) {
      if (seen.has(h)) duplicated.add(h);
      seen.add(h);
      if (!submitted.has(h) && !acked.has(h)) foreignHere++;
    }
    let lostHere = 0;
    for (const h of acked) {
      if (!seen.has(h)) {
        lostHere++;
        lostTxs.add(h);
      }
    }
    lostByNode[chain.name] = lostHere;
    foreign = Math.max(foreign, foreignHere);
  }
  return { lost: lostTxs.size, duplicated: duplicated.size, foreign, lostByNode };
}

export interface BlockSeen {
  height: number;
  hash: string;
  txCount: number;
  /** When the watcher received it (epoch ms). */
  seenAt: number;
}

/** Heights at which two nodes hold different blocks. */
export function disagreements(nodes: readonly (readonly BlockSeen[])[]): number[] {
  const byHeight = new Map<number, string>();
  const bad = new Set<number>();
  for (const blocks of nodes) {
    for (const b of blocks) {
      const prev = byHeight.get(b.height);
      if (prev === undefined) byHeight.set(b.height, b.hash);
      else if (prev !== b.hash) bad.add(b.height);
    }
  }
  return [...bad].sort((a, b) => a - b);
}

export interface BlockStats {
  blocks: number;
  txsP50: number;
  txsMean: number;
  txsMax: number;
  /** Time between consecutive commits, as one node's watcher saw them. */
  intervalP50Ms: number;
  intervalMeanMs: number;
}

/** Size and spacing of the blocks one node committed inside the window. */
export function blockStats(blocks: readonly BlockSeen[], w: Window): BlockStats {
  const inWindow = blocks.filter((b) => b.seenAt >= w.start && b.seenAt < w.end);
  const sizes = inWindow.map((b) => b.txCount);
  const intervals: number[] = [];
  for (let i = 1; i < inWindow.length; i++) intervals.push(inWindow[i]!.seenAt - inWindow[i - 1]!.seenAt);
  const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    blocks: inWindow.length,
    txsP50: percentile(sizes, 50),
    txsMean: mean(sizes),
    txsMax: sizes.length === 0 ? Number.NaN : Math.max(...sizes),
    intervalP50Ms: percentile(intervals, 50),
    intervalMeanMs: mean(intervals),
  };
}

/** CPU use over the window in cores (1.0 = one core busy all the time), from two CPU-seconds snapshots. */
export function cpuCores(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  seconds: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, end] of after) {
    const start = before.get(name);
    if (start !== undefined && seconds > 0) out[name] = (end - start) / seconds;
  }
  return out;
}

/**
 * CPU the validators spent per committed tx, ms (all validators together): how much machine one tx costs,
 * which unlike tx/s hardly depends on what else the machine runs. On C cores the cluster cannot pass
 * C × 1000 / cpuMsPerTx tx/s. NaN without throughput.
 */
export function cpuMsPerTx(nodeCores: Readonly<Record<string, number>>, txPerSec: number): number {
  if (!(txPerSec > 0)) return Number.NaN;
  const cores = Object.values(nodeCores).reduce((a, b) => a + b, 0);
  return (cores * 1000) / txPerSec;
}

export interface BenchResult {
  /** Committed evidence tx/s over the window (as seen on the node each tx was submitted to). */
  txPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The largest peak RSS of any validator, MiB. */
  peakRssMb: number;
  verifyPerSecPerCore: number;
  limitTxPerSec: number;
  /** txPerSec / limitTxPerSec. */
  ratio: number;
  /** Submissions refused for good, plus acknowledged txs lost or committed twice. */
  failed: number;
  validators: number;
  /** Length of the measurement window, s. */
  durationS: number;
  warmupS: number;
  startedAt: string;
  machine: { cores: number; cpu: string; memoryMb: number; node: string; loadAvg: number[] };
  options: Record<string, unknown>;
  txs: {
    signed: number;
    submitted: number;
    acked: number;
    committedInWindow: number;
    rejected: Record<string, number>;
    /** MEMPOOL_FULL answers, retried (back-pressure, not failures). */
    mempoolFullRetries: number;
    /** Requests that failed in flight and were retried. */
    requestErrors: number;
    lost: number;
    duplicated: number;
    /** Txs the validators added themselves (anchors). */
    foreign: number;
    /** Heights where validators disagree (must be empty). */
    disagreements: number[];
    /** Where the acknowledged txs uncommitted after the drain were (absent in older results). */
    unresolved?: UnresolvedSplit;
  };
  latencySamples: number;
  /** CPU in cores over the window, per validator and for the load generator; the machine's busy fraction. */
  cpu: { nodes: Record<string, number>; loadgen: number; machineBusy: number | null };
  /** Validator CPU per committed tx, ms, all validators together (cpuMsPerTx). */
  cpuMsPerTx: number;
  peakRssByNodeMb: Record<string, number>;
  /**
   * Each validator's sample with the highest RSS (every 0.5 s), split into anonymous memory (JS heap, malloc,
   * LevelDB, stacks) and file-backed pages (the node binary, shared libraries); absent in older results.
   */
  rssAtPeakByNodeMb?: Record<string, RssBreakdown>;
  blocks: BlockStats;
  viewChanges: number;
  /** Per second of the window: txs committed, and p50/p99 latency of the txs first submitted in that second. */
  series: SecondStats[];
  latencyHistogram: Histogram;
  /** From starting the devnet (genesis, keys, processes) to every validator ready, ms. */
  devnetReadyMs: number;
  /** Consensus messages dropped by the validators, by reason, summed. */
  consensusDrops: Record<string, number>;
  /** Compact PRE-PREPAREs the backups filled in, those that needed a fetch, and the txs fetched (summed). */
  prePrepareTxs: Record<string, number>;
  /** Request timeouts that made a validator suspect the primary, by cause, summed (absent in older results). */
  suspicions?: Record<string, number>;
  verifySamples: number[];
  meetsTarget: boolean;
  /** The query load run against the first validator during the window (`--query-rate`), when asked for. */
  queries?: QuerygenResult;
}

export type { QuerygenResult };

export function meetsTarget(r: Pick<BenchResult, 'txPerSec' | 'p99Ms' | 'peakRssMb' | 'failed'>): boolean {
  return (
    r.txPerSec >= TARGET.txPerSec &&
    r.p99Ms <= TARGET.p99Ms &&
    r.peakRssMb <= TARGET.peakRssMb &&
    r.failed === 0
  );
}

const num = (v: number, digits = 0) =>
  Number.isFinite(v)
    ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';

/** `anon + file` per validator at its highest RSS sample; `-` where the OS does not split it. */
function rssSplit(r: BenchResult, nodes: readonly string[]): string {
  return nodes
    .map((n) => {
      const b = r.rssAtPeakByNodeMb?.[n];
      return b?.anonMb === undefined || b.fileMb === undefined ? '-' : `${num(b.anonMb)} + ${num(b.fileMb)}`;
    })
    .join(' / ');
}

/** The readable table printed after a run. */
export function formatResult(r: BenchResult): string {
  const nodes = Object.keys(r.cpu.nodes);
  const rows: [string, string][] = [
    ['committed tx/s (window)', num(r.txPerSec)],
    [
      'latency p50 / p95 / p99 / max (ms)',
      [r.p50Ms, r.p95Ms, r.p99Ms, r.maxMs].map((v) => num(v)).join(' / '),
    ],
    ['Ed25519 verify/s, one core', num(r.verifyPerSecPerCore)],
    [
      'verification limit (tx/s)',
      `${num(r.limitTxPerSec)} = ${r.machine.cores} cores x ${num(r.verifyPerSecPerCore)} / ${r.validators}`,
    ],
    ['ratio achieved / limit', `${num(r.ratio * 100, 1)} %`],
    ['peak RSS, largest validator (MiB)', num(r.peakRssMb, 1)],
    ['peak RSS per validator (MiB)', nodes.map((n) => num(r.peakRssByNodeMb[n] ?? Number.NaN)).join(' / ')],
    ['RSS at highest sample, anon + file (MiB)', rssSplit(r, nodes)],
    ['CPU per validator (cores)', nodes.map((n) => num(r.cpu.nodes[n]!, 2)).join(' / ')],
    ['CPU load generator (cores)', num(r.cpu.loadgen, 2)],
    [
      'validator CPU per tx (ms, all validators)',
      `${num(r.cpuMsPerTx, 2)} (at most ${num((r.machine.cores * 1000) / r.cpuMsPerTx)} tx/s on ${r.machine.cores} cores)`,
    ],
    ['machine busy', r.cpu.machineBusy === null ? '-' : `${num(r.cpu.machineBusy * 100, 0)} %`],
    [
      'blocks: count, txs p50 / mean / max',
      `${r.blocks.blocks}, ${num(r.blocks.txsP50)} / ${num(r.blocks.txsMean)} / ${num(r.blocks.txsMax)}`,
    ],
    ['block interval p50 / mean (ms)', `${num(r.blocks.intervalP50Ms)} / ${num(r.blocks.intervalMeanMs)}`],
    [
      'txs signed / submitted / acked',
      `${num(r.txs.signed)} / ${num(r.txs.submitted)} / ${num(r.txs.acked)}`,
    ],
    [
      'failed (rejected + lost + duplicated)',
      `${r.failed} (rejected ${Object.values(r.txs.rejected).reduce((a, b) => a + b, 0)}, lost ${r.txs.lost}, duplicated ${r.txs.duplicated})`,
    ],
    [
      'unresolved after drain: on some chains / pooled / in no pool',
      r.txs.unresolved === undefined
        ? 'n/a'
        : `${r.txs.unresolved.onSomeChains} / ${r.txs.unresolved.pooled} / ${r.txs.unresolved.inNoPool}`,
    ],
    ['mempool-full retries / request errors', `${r.txs.mempoolFullRetries} / ${r.txs.requestErrors}`],
    [
      'compact pre-prepares / fetches / txs',
      ['resolved', 'fetches', 'fetchedTxs'].map((k) => num(r.prePrepareTxs[k] ?? Number.NaN)).join(' / '),
    ],
    [
      'anchor txs / view changes / disagreements',
      `${r.txs.foreign} / ${r.viewChanges} / ${r.txs.disagreements.length}`,
    ],
    [
      'primary suspected: stalled / censoring (request timeouts)',
      r.suspicions === undefined ? 'n/a' : `${r.suspicions.stall ?? 0} / ${r.suspicions.censorship ?? 0}`,
    ],
    ...queryRows(r.queries),
  ];
  const head =
    `JRChain cluster bench: ${r.validators} validators, window ${num(r.durationS, 1)} s after ${r.warmupS} s ` +
    `warm-up, concurrency ${String(r.options.concurrency)}, ${String(r.options.batch)} tx(s) per request`;
  const verdict = r.meetsTarget
    ? `target met (>= ${TARGET.txPerSec} tx/s, p99 <= ${TARGET.p99Ms} ms, RSS <= ${TARGET.peakRssMb} MiB, 0 failed)`
    : `target NOT met (>= ${TARGET.txPerSec} tx/s, p99 <= ${TARGET.p99Ms} ms, RSS <= ${TARGET.peakRssMb} MiB, 0 failed)`;
  return [head, ...rows.map(([k, v]) => `  ${k.padEnd(42)} ${v}`), `  ${verdict}`].join('\n');
}

const errorText = (e: Record<string, number>) =>
  Object.keys(e).length === 0
    ? '0'
    : Object.entries(e)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ');

/** The query load's rows (first validator, during the window). */
function queryRows(q: QuerygenResult | undefined): [string, string][] {
  if (q === undefined) return [];
  return [
    [
      'queries/s offered / answered (not sent)',
      `${num(q.offeredPerSec)} / ${num(q.achievedPerSec)} (${num(q.notSent)})`,
    ],
    [
      'evidence by hash p50 / p99 / max (ms)',
      `${num(q.byHash.p50Ms, 1)} / ${num(q.byHash.p99Ms, 1)} / ${num(q.byHash.maxMs, 1)}`,
    ],
    [
      'signed case query p50 / p99 / max (ms)',
      `${num(q.cases.p50Ms, 1)} / ${num(q.cases.p99Ms, 1)} / ${num(q.cases.maxMs, 1)}`,
    ],
    ['query errors (by hash; case)', `${errorText(q.byHash.errors)}; ${errorText(q.cases.errors)}`],
    ['query generator CPU (cores)', num(q.cpuCores, 2)],
  ];
}
