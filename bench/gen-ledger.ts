/**
 * Generates a LevelDB ledger of N evidence records for the scale and sync benchmarks (docs/benchmark.md,
 * "Scale"): real signed txs in blocks with real commit certificates of the test genesis's validators
 * (bench/ledger-records.ts), written straight to the store. Then:
 *   npm run bench:ledger -- --ledger DIR   size per record, open time, evidence-by-hash and case queries
 *   npm run bench:sync -- --ledger DIR     an empty node catches up with it over libp2p
 * Run: `npm run bench:gen-ledger -- --records 1000000 --dir /tmp/ledger-1m`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { toHex } from '../src/core/bytes.ts';
import { Limits } from '../src/core/limits.ts';
import { LevelLedgerStore } from '../src/ledger/level-store.ts';
import { writeLedger, writeLedgerInfo } from './ledger-records.ts';

function positiveInt(max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`an integer in 1..${max}`);
    return n;
  };
}

function nonNegativeInt(max: number) {
  return (v: string): number => (v === '0' ? 0 : positiveInt(max)(v));
}

const opts = new Command('bench:gen-ledger')
  .description(
    'Generate a certified evidence ledger of N records (LevelDB) for the scale and sync benchmarks',
  )
  .requiredOption('--records <n>', 'evidence records', positiveInt(1e9))
  .requiredOption('--dir <path>', 'the ledger directory to create (must not exist or be empty)')
  .option('--txs-per-block <n>', 'records per block', positiveInt(Limits.blockTxs), 2000)
  .option(
    '--workers <n>',
    'worker threads signing txs (0: sign on the main thread)',
    nonNegativeInt(64),
    availableParallelism(),
  )
  .option('--json', 'print the result as JSON')
  .parse()
  .opts<{ records: number; dir: string; txsPerBlock: number; workers: number; json?: boolean }>();

if (existsSync(opts.dir) && readdirSync(opts.dir).length > 0) {
  console.error(`${opts.dir} is not empty`);
  process.exit(2);
}
const store = await LevelLedgerStore.open(opts.dir);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let lastReport = t0;
const written = await writeLedger(
  store,
  opts.records,
  opts.txsPerBlock,
  (n) => {
    const now = performance.now();
    if (!opts.json && now - lastReport > 10_000) {
      lastReport = now;
      const rate = n / ((now - t0) / 1000);
      process.stderr.write(`${n.toLocaleString('en-US')} records, ${rate.toFixed(0)} records/s\n`);
    }
  },
  opts.workers,
);
const seconds = (performance.now() - t0) / 1000;
// CPU of every thread of the process (getrusage), the figure that holds on a shared machine.
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
await store.close();
writeLedgerInfo(opts.dir, {
  records: written.records,
  txsPerBlock: opts.txsPerBlock,
  blocks: written.blocks,
  headHash: toHex(written.headHash),
});
const result = {
  ...written,
  headHash: toHex(written.headHash),
  seconds,
  recordsPerSec: written.records / seconds,
  workers: opts.workers,
  cpuSeconds,
  cpuSecondsPer100k: (cpuSeconds / written.records) * 100_000,
};
if (opts.json) console.log(JSON.stringify(result, null, 2));
else
  console.log(
    `${written.records.toLocaleString('en-US')} records in ${written.blocks} blocks, ${seconds.toFixed(1)} s ` +
      `(${result.recordsPerSec.toFixed(0)} records/s, ${opts.workers} workers), ` +
      `CPU ${cpuSeconds.toFixed(1)} s (${result.cpuSecondsPer100k.toFixed(1)} s per 100k records), head ${result.headHash}`,
  );
