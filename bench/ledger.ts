/**
 * Ledger benchmark (npm run bench:ledger -- --help). Measures, on the LevelDB store:
 * - committed tx/s for full blocks through LedgerChain.buildBlock + commitBlock, with signatures verified
 *   during execution ("verify in block") and already verified at admission ("signatures cached");
 * - bytes on disk per evidence record, after a full compaction and close;
 * - query latency p50/p99 for evidence by hash, evidence by case and tx by hash, cold (first touch of each
 *   record after opening the store: LevelDB block cache empty, OS page cache as it is) and warm (each query's
 *   fastest of 3 repeats, which leaves out time slices lost to other processes on a shared machine);
 * Txs are generated and signed outside the timed sections. Each run starts from an empty store; the table
 * reports the median over runs. `--records N` instead bulk-loads N records and measures size and queries;
 * `--ledger DIR` measures those of a ledger `npm run bench:gen-ledger` made (bench/gen-ledger.ts).
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Limits } from '../src/core/limits.ts';
import { median, percentile } from '../src/dev/bench/stats.ts';
import { LedgerChain } from '../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../src/ledger/level-store.ts';
import { certify } from '../test/helpers/fixtures.ts';
import {
  benchGenesis,
  blockTime,
  caseId,
  docHash,
  RECORDS_PER_CASE,
  readLedgerInfo,
  recordTx,
} from './ledger-records.ts';

interface Options {
  blocks: number;
  txsPerBlock: number;
  records?: number;
  runs: number;
  queries: number;
  dir: string;
  ledger?: string;
  json: boolean;
}

const genesis = benchGenesis;

interface BlockTiming {
  txs: number;
  buildMs: number;
  commitMs: number;
}

/** Generates (untimed), optionally admits (untimed), then times build and commit of one block. */
async function oneBlock(
  chain: LedgerChain,
  firstRecord: number,
  count: number,
  admit: boolean,
): Promise<BlockTiming> {
  const height = chain.head().height + 1;
  const time = blockTime(height);
  const txs = Array.from({ length: count }, (_, i) => recordTx(firstRecord + i, time));
  if (admit) {
    for (const env of txs) {
      const r = await chain.checkTx(env, time);
      if (r !== undefined) throw new Error(`bench tx refused at admission: ${r.code}`);
    }
  }
  const t0 = performance.now();
  const built = await chain.buildBlock({ proposer: height % 4, view: 0, time, txs });
  const t1 = performance.now();
  if (built.rejected.length > 0) throw new Error(`bench block rejected ${built.rejected[0]!.code}`);
  const cert = certify(built.header);
  const t2 = performance.now();
  await chain.commitBlock(built, cert);
  const t3 = performance.now();
  return { txs: count, buildMs: t1 - t0, commitMs: t3 - t2 };
}

function throughput(timings: BlockTiming[]): number {
  const txs = timings.reduce((s, t) => s + t.txs, 0);
  const ms = timings.reduce((s, t) => s + t.buildMs + t.commitMs, 0);
  return (txs / ms) * 1000;
}

function diskBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const st = statSync(join(dir, name));
    total += st.isDirectory() ? diskBytes(join(dir, name)) : st.size;
  }
  return total;
}

interface QueryLatency {
  p50: number;
  p99: number;
}

/** Each query's latency in ms, one query at a time. */
async function timed(n: number, query: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await query(i);
    samples.push(performance.now() - t0);
  }
  return samples;
}

function summary(samples: number[]): QueryLatency {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

interface RunResult {
  txPerSecVerify?: number;
  txPerSecCached?: number;
  buildMsVerify?: number;
  buildMsCached?: number;
  commitMs?: number;
  loadTxPerSec?: number;
  records: number;
  bytesOnDisk: number;
  bytesPerRecord: number;
  byHash: ColdWarm;
  byCase: ColdWarm;
  txByHash: ColdWarm;
  /** Opening the compacted ledger as a node does at start (store and chain state), ms. */
  openMs: number;
}

async function run(opts: Options, index: number): Promise<RunResult> {
  const dir = join(opts.dir, `jrchain-bench-${process.pid}-${index}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const store = await LevelLedgerStore.open(dir);
    const chain = await LedgerChain.open(store, genesis);
    const result: Partial<RunResult> = {};
    let records = 0;
    const blocksOf = async (total: number, admit: boolean) => {
      const out: BlockTiming[] = [];
      for (let left = total; left > 0; left -= opts.txsPerBlock) {
        const n = Math.min(left, opts.txsPerBlock);
        out.push(await oneBlock(chain, records, n, admit));
        records += n;
      }
      return out;
    };
    if (opts.records === undefined) {
      const verify = await blocksOf(opts.blocks * opts.txsPerBlock, false);
      const cached = await blocksOf(opts.blocks * opts.txsPerBlock, true);
      result.txPerSecVerify = throughput(verify);
      result.txPerSecCached = throughput(cached);
      result.buildMsVerify = median(verify.map((t) => t.buildMs));
      result.buildMsCached = median(cached.map((t) => t.buildMs));
      result.commitMs = median([...verify, ...cached].map((t) => t.commitMs));
    } else {
      result.loadTxPerSec = throughput(await blocksOf(opts.records, true));
    }
    await store.close();
    return { ...result, ...(await measure(dir, records, opts.txsPerBlock, opts.queries)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A query kind's latency on a freshly opened store (first touch of each record) and repeated (warm). */
interface ColdWarm {
  cold: QueryLatency;
  warm: QueryLatency;
}

/** Warm passes; each query's warm latency is its fastest, so a time slice lost to another process is not. */
const WARM_PASSES = 3;

/**
 * Opens the ledger, runs `queries` queries of one kind once (cold: LevelDB's block cache empty, each record
 * touched for the first time; the OS page cache is as it is) and WARM_PASSES times more in the same order
 * (warm), then closes it, so each kind starts cold.
 */
async function coldWarm(
  dir: string,
  queries: number,
  query: (store: LevelLedgerStore, i: number) => Promise<unknown>,
): Promise<ColdWarm> {
  const store = await LevelLedgerStore.open(dir);
  try {
    const cold = await timed(queries, (i) => query(store, i));
    let warm = await timed(queries, (i) => query(store, i));
    for (let pass = 1; pass < WARM_PASSES; pass++) {
      const again = await timed(queries, (i) => query(store, i));
      warm = warm.map((ms, i) => Math.min(ms, again[i]!));
    }
    return { cold: summary(cold), warm: summary(warm) };
  } finally {
    await store.close();
  }
}

/** Compacts the ledger in `dir` (records in blocks of `txsPerBlock`), then its size, open time and queries. */
async function measure(
  dir: string,
  records: number,
  txsPerBlock: number,
  queries: number,
): Promise<Omit<RunResult, 'txPerSecVerify' | 'txPerSecCached' | 'buildMsVerify' | 'buildMsCached'>> {
  let store = await LevelLedgerStore.open(dir);
  await store.compact();
  await store.close();
  const bytesOnDisk = diskBytes(dir);

  const opening = performance.now();
  store = await LevelLedgerStore.open(dir);
  await LedgerChain.open(store, genesis);
  const openMs = performance.now() - opening;
  await store.close();
  // Spread queries over the whole ledger with a fixed stride (distinct records while queries < records), so
  // runs query the same records.
  const pick = (i: number) => (i * 7919) % records;
  const byHash = await coldWarm(dir, queries, (st, i) => st.evidenceByHash('sha256', docHash(pick(i))));
  const byCase = await coldWarm(dir, queries, (st, i) => st.evidenceByCase(caseId(pick(i))));
  // Record n is in block floor(n / txsPerBlock) + 1, whose time its createdAt (so its hash) depends on.
  const txHashOf = (n: number) => recordTx(n, blockTime(Math.floor(n / txsPerBlock) + 1)).hash;
  const txHashes = Array.from({ length: queries }, (_, i) => txHashOf(pick(i)));
  const txByHash = await coldWarm(dir, queries, async (st, i) => {
    if ((await st.tx(txHashes[i]!)) === undefined) throw new Error('bench tx not found');
  });
  return {
    records,
    bytesOnDisk,
    bytesPerRecord: bytesOnDisk / records,
    byHash,
    byCase,
    txByHash,
    openMs,
  };
}

function positiveInt(max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`an integer in 1..${max}`);
    return n;
  };
}

const fmt = (v: number | undefined, digits = 0) =>
  v === undefined
    ? '-'
    : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(opts: Options, runs: RunResult[]): string {
  const m = (f: (r: RunResult) => number | undefined) => {
    const vs = runs.map(f).filter((v): v is number => v !== undefined);
    return vs.length === 0 ? undefined : median(vs);
  };
  // "p50 / p99 ms" rows, cold (first touch after opening) then warm (fastest of WARM_PASSES repeats).
  const queryRows = (
    name: string,
    kind: (r: RunResult) => ColdWarm,
  ): [string, number | undefined, number][] => [
    [`${name} p50 / p99 ms, cold`, m((r) => kind(r).cold.p50), 3],
    ['', m((r) => kind(r).cold.p99), 3],
    [`${name} p50 / p99 ms, warm`, m((r) => kind(r).warm.p50), 3],
    ['', m((r) => kind(r).warm.p99), 3],
  ];
  const rows: [string, number | undefined, number][] = [
    ['committed tx/s, signatures verified in block', m((r) => r.txPerSecVerify), 0],
    ['committed tx/s, signatures cached at admission', m((r) => r.txPerSecCached), 0],
    ['  buildBlock ms per block (verify / cached)', m((r) => r.buildMsVerify), 1],
    ['', m((r) => r.buildMsCached), 1],
    ['  commitBlock ms per block', m((r) => r.commitMs), 1],
    ['bulk load tx/s (signatures cached)', m((r) => r.loadTxPerSec), 0],
    ['records', m((r) => r.records), 0],
    ['bytes on disk per record (compacted)', m((r) => r.bytesPerRecord), 1],
    ...queryRows('evidence by hash', (r) => r.byHash),
    ...queryRows(`evidence by case (${RECORDS_PER_CASE} records)`, (r) => r.byCase),
    ...queryRows('tx by hash', (r) => r.txByHash),
    ['open (store and chain state) ms', m((r) => r.openMs), 1],
  ];
  const lines = [
    `JRChain ledger bench: LevelDB, ${runs.length} run(s), median shown; ` +
      (opts.records === undefined
        ? `${opts.blocks} block(s) x ${opts.txsPerBlock} txs per mode`
        : `bulk load of ${opts.records} records in blocks of ${opts.txsPerBlock}`),
  ];
  let label = '';
  for (const [name, value, digits] of rows) {
    if (value === undefined) continue;
    if (name === '') {
      lines[lines.length - 1] += ` / ${fmt(value, digits)}`;
      continue;
    }
    label = name;
    lines.push(`  ${label.padEnd(48)} ${fmt(value, digits)}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const program = new Command('bench:ledger')
    .description('Ledger throughput, size on disk and query latency on LevelDB')
    .option('--blocks <n>', 'full blocks per mode and run', positiveInt(1000), 2)
    .option('--txs-per-block <n>', 'txs per block', positiveInt(Limits.blockTxs), 10_000)
    .option(
      '--records <n>',
      'bulk-load mode: load this many records, then measure size and queries',
      positiveInt(1e9),
    )
    .option(
      '--runs <n>',
      'independent runs (each from an empty store); the median is reported',
      positiveInt(100),
      3,
    )
    .option('--queries <n>', 'queries of each kind per run', positiveInt(1e7), 1000)
    .option(
      '--dir <path>',
      'directory for the LevelDB stores (each run uses and removes a subdirectory)',
      tmpdir(),
    )
    .option(
      '--ledger <dir>',
      'measure size, open time and queries of a ledger made by `npm run bench:gen-ledger` (kept; compacted)',
    )
    .option('--json', 'print the results as JSON instead of a table', false);
  program.parse();
  const opts = program.opts<Options>();
  const runs: RunResult[] = [];
  if (opts.ledger !== undefined) {
    const info = readLedgerInfo(opts.ledger);
    opts.records = info.records;
    opts.txsPerBlock = info.txsPerBlock;
    runs.push(await measure(opts.ledger, info.records, info.txsPerBlock, opts.queries));
  } else {
    for (let i = 0; i < opts.runs; i++) {
      runs.push(await run(opts, i));
      if (!opts.json) process.stderr.write(`run ${i + 1}/${opts.runs} done\n`);
    }
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ options: opts, runs }, null, 2)}\n`);
  } else {
    process.stdout.write(`${table(opts, runs)}\n`);
  }
}

await main();
