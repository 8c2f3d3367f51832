/**
 * npm run sim -- --seeds N [--seed-base B] [--scenario S] [--stats]
 * npm run sim -- --write-golden   (rewrites test/sim/traces.golden.json: only for a deliberate behaviour change)
 *
 * Runs seeds B..B+N−1 of every default scenario: the core simulation's (scenarios.ts, adversary-scenarios.ts),
 * the production driver's (driver-sim.ts, also on the production ledger: ledger-world.ts, and reconfiguration by
 * governance txs: ledger-reconfig.ts) and the stronger adversaries on the production modules
 * (driver-adversary-scenarios.ts); or only S, which may also name the negative control
 * `twins-overquorum-n4` or `throughput-n4`. Prints each failing run with its scenario and seed and the
 * command that replays it, and ends with exactly one summary line:
 *   sim: <seeds> seeds, <scenarios> scenarios, <violations> violations
 * where <violations> counts the runs that broke an invariant (and, on stderr, the runs per CPU second of this
 * process: process.cpuUsage, which a shared machine's load does not skew as it does wall time; beyond 10 runs,
 * also the steady state: the same figure without the first 10, which pay for V8 compiling). Exits 1 if any did. An adversary run on the
 * production modules whose attack never happened (no view change while a VIEW-CHANGE liar was up, say) prints
 * a NO ATTACK line: it is no violation, and no evidence either.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ADVERSARY_SCENARIOS } from './adversary-scenarios.ts';
import {
  DRIVER_ADVERSARY_SCENARIOS,
  type DriverAdversaryScenario,
  runDriverAdversary,
} from './driver-adversary-scenarios.ts';
import { DRIVER_SCENARIOS, type DriverScenario, LEDGER_SCENARIOS, runDriverScenario } from './driver-sim.ts';
import { writeGoldenCommand } from './golden.ts';
import { runScenario, type Scenario } from './harness.ts';
import { SCENARIOS as BASIC_SCENARIOS, findScenario } from './scenarios.ts';

const SCENARIOS = [...BASIC_SCENARIOS, ...ADVERSARY_SCENARIOS];

function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

const program = new Command('sim')
  .description('deterministic PBFT simulation')
  .option('--seeds <n>', 'number of seeds per scenario', count, 10)
  .option('--seed-base <b>', 'first seed', count, 0)
  .option('--scenario <name>', 'run only this scenario')
  .option('--stats', 'print committed txs and simulated throughput per run')
  .option('--write-golden', 'rewrite the trace goldens (a deliberate behaviour change; see docs/testing.md)')
  .parse(process.argv);

const opts = program.opts<{
  seeds: number;
  seedBase: number;
  scenario?: string;
  stats?: boolean;
  writeGolden?: boolean;
}>();
if (opts.writeGolden) process.exit(writeGoldenCommand());
/** A scenario of the core simulation (harness.ts) or of the production-driver simulation (driver-sim.ts). */
type Runnable = {
  name: string;
  expectViolation?: boolean | undefined;
  run: (seed: number) => Promise<RunLine>;
};
interface RunLine {
  violations: string[];
  stats: string;
}

const core = (s: Scenario): Runnable => ({
  name: s.name,
  expectViolation: s.expectViolation,
  run: async (seed) => {
    const r = runScenario(s, seed);
    const tps = r.lastCommitMs > 0 ? (r.committedTxs / r.lastCommitMs) * 1000 : 0;
    return {
      violations: r.violations,
      stats:
        `${r.committedTxs} txs in ${r.heights} blocks, ` +
        `${tps.toFixed(0)} committed txs per simulated s (until the last commit at ${r.lastCommitMs} ms), ` +
        `max latency after heal ${r.maxLatencyMs} ms`,
    };
  },
});
const driver = (s: DriverScenario): Runnable => ({
  name: s.name,
  run: async (seed) => {
    const r = await runDriverScenario(s, seed);
    return { violations: r.violations, stats: `${r.committedTxs} txs in ${r.heights} blocks` };
  },
});

const adversary = (a: DriverAdversaryScenario): Runnable => ({
  name: a.name,
  run: async (seed) => {
    const r = await runDriverAdversary(a, seed);
    // Not a violation, but the run is no evidence for the defence: say so.
    if (r.vacuous !== undefined) process.stdout.write(`NO ATTACK ${a.name} seed=${seed}: ${r.vacuous}\n`);
    return { violations: r.violations, stats: `${r.committedTxs} txs in ${r.heights} blocks` };
  },
});

const ALL: Runnable[] = [
  ...SCENARIOS.map(core),
  ...DRIVER_SCENARIOS.map(driver),
  ...LEDGER_SCENARIOS.map(driver),
  ...DRIVER_ADVERSARY_SCENARIOS.map(adversary),
];
let scenarios: readonly Runnable[] = ALL;
if (opts.scenario !== undefined) {
  const s =
    ALL.find((x) => x.name === opts.scenario) ??
    [findScenario(opts.scenario)].flatMap((x) => (x === undefined ? [] : [core(x)]))[0];
  if (s === undefined) {
    process.stderr.write(`unknown scenario ${opts.scenario}; known: ${ALL.map((x) => x.name).join(', ')}\n`);
    process.exit(2);
  }
  scenarios = [s];
}

let violations = 0;
const cpuAtStart = process.cpuUsage();
let runs = 0;
/** The first runs of a process pay for V8 compiling the code: the steady-state figure starts after them. */
const WARM_UP_RUNS = 10;
let cpuAfterWarmUp: NodeJS.CpuUsage | undefined;
for (const scenario of scenarios) {
  for (let seed = opts.seedBase; seed < opts.seedBase + opts.seeds; seed++) {
    const started = performance.now();
    const r = await scenario.run(seed);
    runs++;
    if (runs === WARM_UP_RUNS) cpuAfterWarmUp = process.cpuUsage();
    const wallMs = performance.now() - started;
    if (opts.stats)
      process.stdout.write(`${scenario.name} seed=${seed}: ${r.stats}, wall ${wallMs.toFixed(0)} ms\n`);
    if (r.violations.length > 0) {
      violations++;
      const note = scenario.expectViolation ? ' (negative control: a violation is expected)' : '';
      process.stdout.write(`FAIL ${scenario.name} seed=${seed}${note}\n`);
      for (const v of r.violations) process.stdout.write(`  ${v}\n`);
      process.stdout.write(
        `  replay: npm run sim -- --scenario ${scenario.name} --seed-base ${seed} --seeds 1\n`,
      );
    }
  }
}
// CPU time, not wall time: the machine is shared, and a run is single-threaded.
const cpu = process.cpuUsage(cpuAtStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stderr.write(
  `sim: ${runs} runs in ${cpuSeconds.toFixed(1)} CPU s: ${(runs / cpuSeconds).toFixed(1)} runs per CPU second\n`,
);
if (cpuAfterWarmUp !== undefined && runs > WARM_UP_RUNS) {
  const later = process.cpuUsage(cpuAfterWarmUp);
  const laterRuns = runs - WARM_UP_RUNS;
  process.stderr.write(
    `sim: steady state, after the first ${WARM_UP_RUNS} runs: ${(laterRuns / ((later.user + later.system) / 1e6)).toFixed(1)} runs per CPU second\n`,
  );
}
process.stdout.write(`sim: ${opts.seeds} seeds, ${scenarios.length} scenarios, ${violations} violations\n`);
process.exitCode = violations > 0 ? 1 : 0;
