/**
 * node test/sim/bench.ts [runs]: the CPU time per run of the production-module simulation for n = 4
 * (driver-crash-lossy-n4 on the sim ledger, ledger-crash-lossy-n4 on LedgerChain), as medians over `runs` seeds
 * after two warm-up runs (the first runs of a process pay for compiling). A benchmark, never a test: the figures
 * go to docs/testing.md.
 */
import { DRIVER_SCENARIOS, LEDGER_SCENARIOS, runDriverScenario } from './driver-sim.ts';

const runs = Number(process.argv[2] ?? 9);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const s of [...DRIVER_SCENARIOS, ...LEDGER_SCENARIOS].filter((x) => x.name.endsWith('crash-lossy-n4'))) {
  for (let seed = 1000; seed < 1002; seed++) await runDriverScenario(s, seed);
  const cpu: number[] = [];
  let events = 0;
  for (let seed = 0; seed < runs; seed++) {
    const start = process.cpuUsage();
    const r = await runDriverScenario(s, seed);
    const used = process.cpuUsage(start);
    cpu.push((used.user + used.system) / 1000);
    events += r.events;
    if (r.violations.length > 0) console.log(`${s.name} seed=${seed}: ${r.violations[0]}`);
  }
  const ms = median(cpu);
  console.log(
    `${s.name}: median ${ms.toFixed(0)} ms CPU/run (${(1000 / ms).toFixed(1)} runs/s per core), ${Math.round(events / runs)} events/run`,
  );
}
