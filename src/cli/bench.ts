/**
 * `jrchain bench` (also `npm run bench`): the cluster throughput benchmark of src/dev/bench/cluster.ts. It starts a
 * fresh local alliance, loads it, and reports throughput, latency and resources against this machine's
 * signature-verification limit (docs/benchmark.md).
 */
import type { Command } from 'commander';
import type { ClusterBenchOptions } from '../dev/bench/cluster.ts';
import { type CliIo, ExitCode, parsePositiveInt, UsageError } from './io.ts';

function parseShare(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !(x >= 0 && x <= 1)) throw new UsageError(`expected a number in 0..1, got ${v}`);
  return x;
}

interface CasesFlags {
  cases: number;
  evidencePerCase: number;
  seed: number;
  queries: number;
  dir?: string;
  keep?: boolean;
  json?: boolean;
}

async function casesWorkload(opts: CasesFlags, io: CliIo): Promise<void> {
  const { runCasesBench, formatCasesResult } = await import('../dev/bench/cases.ts');
  const r = await runCasesBench(
    {
      cases: opts.cases,
      evidencePerCase: opts.evidencePerCase,
      seed: opts.seed,
      queries: opts.queries,
      dir: opts.dir,
      keep: opts.keep === true,
    },
    (line) => io.err(`${line}\n`),
  );
  io.out(opts.json === true ? `${JSON.stringify(r, null, 2)}\n` : `${formatCasesResult(r)}\n`);
}

const REPORT_DIMENSION_LIST = 'throughput,queries,scale,sync,deploy';

interface ReportFlags {
  report?: boolean;
  reportOut: string;
  reportRuns: number;
  dimensions: string;
  scaleRecords: number;
  syncBlocks: number;
  syncTxsPerBlock: number;
  duration: number;
  validators: number;
}

async function report(opts: ReportFlags, io: CliIo): Promise<void> {
  const { runReport, DEFAULT_REPORT, REPORT_DIMENSIONS } = await import('../dev/bench/report.ts');
  const dims = opts.dimensions.split(',').map((d) => d.trim());
  const known = new Set<string>(REPORT_DIMENSIONS);
  const bad = dims.filter((d) => !known.has(d));
  if (bad.length > 0)
    throw new UsageError(`--dimensions: unknown ${bad.join(', ')} (known: ${REPORT_DIMENSION_LIST})`);
  const r = await runReport(
    {
      ...DEFAULT_REPORT,
      out: opts.reportOut,
      dimensions: new Set(dims as (typeof REPORT_DIMENSIONS)[number][]),
      runs: opts.reportRuns,
      duration: opts.duration,
      validators: opts.validators,
      scaleRecords: opts.scaleRecords,
      syncBlocks: opts.syncBlocks,
      syncTxsPerBlock: opts.syncTxsPerBlock,
    },
    (line) => io.err(`${line}\n`),
  );
  io.out(`performance report written to ${opts.reportOut} (${(r.seconds / 60).toFixed(1)} min)\n`);
  const failed = [...r.closed, ...(r.offered ? [r.offered] : [])].some((x) => x.failed > 0);
  if (failed) io.setExit(ExitCode.failed);
}

/** The options of the other workloads and of the report. */
function extraOptions(cmd: Command): Command {
  return cmd
    .option(
      '--workload <name>',
      'cluster (default): the cluster above; cases: the seed-scale dispute-case history executed by the\n' +
        'ledger in-process, with case and stats query latencies (docs/benchmark.md "Case workload")',
      'cluster',
    )
    .option('--cases <n>', '(cases) dispute cases to generate', parsePositiveInt, 60_000)
    .option('--evidence-per-case <n>', '(cases) evidence records per case', parsePositiveInt, 4)
    .option('--seed <n>', '(cases) workload seed', parsePositiveInt, 1)
    .option('--queries <n>', '(cases) queries timed per kind', parsePositiveInt, 2000)
    .option(
      '--report',
      'the performance report in the five JR/T 0193 dimensions: writes docs/performance-report.md (or\n' +
        '--report-out) and SVG plots next to it; about 10 minutes with the defaults (docs/benchmark.md)',
    )
    .option('--report-out <path>', '(report) markdown output', 'docs/performance-report.md')
    .option('--report-runs <n>', '(report) closed-loop throughput runs, median reported', parsePositiveInt, 3)
    .option(
      '--dimensions <list>',
      `(report) comma-separated subset of ${REPORT_DIMENSION_LIST}`,
      REPORT_DIMENSION_LIST,
    )
    .option('--sync-blocks <n>', '(report) blocks the sync dimension catches up with', parsePositiveInt, 200)
    .option('--sync-txs-per-block <n>', '(report) txs per block of the sync dimension', parsePositiveInt, 500)
    .option(
      '--scale-records <n>',
      '(report) evidence records the scale dimension loads',
      parsePositiveInt,
      100_000,
    );
}

export function registerBenchCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('bench')
    .description(
      'benchmark a fresh local cluster: committed tx/s, submit-to-commit latency, CPU and peak RSS per\n' +
        "validator, against this machine's Ed25519 verification limit (cores x verifies/s / validators).\n" +
        'Writes a JSON result (bench/results/ or --out) and prints a table. See docs/benchmark.md.',
    )
    .option('--validators <n>', 'validators, each its own process', parsePositiveInt, 4)
    .option('--duration <s>', 'measurement window, seconds', parsePositiveInt, 60)
    .option('--warmup <s>', 'warm-up before the window, seconds', parsePositiveInt, 10)
    .option('--txs <n>', 'evidence txs pre-signed before the clock starts', parsePositiveInt, 200_000)
    .option('--concurrency <n>', 'most txs outstanding (submitted, not yet committed)', parsePositiveInt, 800)
    .option(
      '--batch <n>',
      'txs per submit request (POST /v1/txs/batch; 1: one tx per POST /v1/txs)',
      parsePositiveInt,
      50,
    )
    .option('--connections <n>', 'submit requests in flight per validator', parsePositiveInt, 8)
    .option(
      '--rate <tx/s>',
      'offered load: pace submissions to this rate (default: as fast as taken)',
      parsePositiveInt,
    )
    .option('--block-txs <n>', 'most txs per block (the genesis maxBatchTxs)', parsePositiveInt)
    .option(
      '--batch-wait-ms <ms>',
      'how long a primary waits to fill a block (maxBatchWaitMs)',
      parsePositiveInt,
    )
    .option('--drain <s>', 'longest wait after the window for every tx to commit', parsePositiveInt, 60)
    .option(
      '--query-rate <req/s>',
      'also query the first validator at this rate during the window (evidence by hash, signed case queries)',
      parsePositiveInt,
    )
    .option(
      '--query-case-share <x>',
      'share of the queries that are signed case queries (0..1)',
      parseShare,
      0.5,
    )
    .option('--dir <dir>', 'data directory (must be new or empty; kept after the run)')
    .option('--keep', 'keep the temporary data directory (logs, ledgers)')
    .option('--profile', 'run validators with --cpu-prof (profiles in DIR/profiles; implies --keep)')
    .option('--out <path>', 'JSON result file (default bench/results/cluster-<time>.json)')
    .option('--json', 'print the JSON result instead of the table');
  extraOptions(cmd).action(
    async (
      opts: Omit<ClusterBenchOptions, 'keep' | 'profile'> & {
        keep?: boolean;
        profile?: boolean;
        json?: boolean;
        workload: string;
      } & CasesFlags &
        ReportFlags,
    ) => {
      if (opts.report === true) return report(opts, io);
      if (opts.workload === 'cases') return casesWorkload(opts, io);
      if (opts.workload !== 'cluster') throw new UsageError('--workload must be cluster or cases');
      const { runClusterBench } = await import('../dev/bench/cluster.ts');
      const { formatResult } = await import('../dev/bench/cluster-report.ts');
      const { json, workload: _w, cases: _c, evidencePerCase: _e, seed: _s, queries: _q, ...all } = opts;
      const { report: _r, reportOut: _o, reportRuns: _n, dimensions: _d, scaleRecords: _k, ...more } = all;
      const { syncBlocks: _b, syncTxsPerBlock: _t, ...rest } = more;
      const r = await runClusterBench(
        { ...rest, keep: opts.keep === true, profile: opts.profile === true },
        (line) => io.err(`${line}\n`),
      );
      io.out(json === true ? `${JSON.stringify(r, null, 2)}\n` : `${formatResult(r)}\n`);
      // A benchmark that lost, duplicated or refused txs, or whose validators disagree, is a failure.
      if (r.failed > 0 || r.txs.disagreements.length > 0) io.setExit(ExitCode.failed);
    },
  );
}
