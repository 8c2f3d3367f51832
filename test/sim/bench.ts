/**
 * node test/sim/bench.ts [runs] [name-filter]: the CPU time per run of every n = 4 scenario of the simulation on
 * the production modules (driver-*, ledger-*, the adversaries on them), as medians over `runs` seeds (0..runs−1)
 * after two warm-up runs (the first runs of a process pay for compiling); only the scenarios whose name contains
 * `name-filter`, if given. A benchmark, never a test: the figures go to docs/testing.md.
 */
import { DRIVER_ADVERSARY_SCENARIOS, runDriverAdversary } from './driver-adversary-scenarios.ts';
import { DRIVER_SCENARIOS, type DriverRunResult, LEDGER_SCENARIOS, runDriverScenario } from './driver-sim.ts';

const runs = Number(process.argv[2] ?? 9);
const filter = process.argv[3] ?? '';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const scenarios: { name: string; run: (seed: number) => Promise<DriverRunResult> }[] = [
  ...[...DRIVER_SCENARIOS, ...LEDGER_SCENARIOS].map((s) => ({
    name: s.name,
    run: (seed: number) => runDriverScenario(s, seed),
  })),
  ...DRIVER_ADVERSARY_SCENARIOS.map((a) => ({
    name: a.name,
    run: (seed: number) => runDriverAdversary(a, seed),
  })),
];

for (const s of scenarios.filter((x) => x.name.endsWith('-n4') && x.name.includes(filter))) {
  for (let seed = 1000; seed < 1002; seed++) await s.run(seed);
  const cpu: number[] = [];
  let events = 0;
  for (let seed = 0; seed < runs; seed++) {
    const start = process.cpuUsage();
    const r = await s.run(seed);
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
