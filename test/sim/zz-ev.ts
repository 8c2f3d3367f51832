import { DRIVER_SCENARIOS, runDriverScenario } from './driver-sim.ts';
const s = DRIVER_SCENARIOS.find((x) => x.name === process.argv[2])!;
const tot: Record<string, number> = {};
for (let seed = 0; seed < 5; seed++) {
  (globalThis as any).evt = {};
  const r = await runDriverScenario(s, seed, {});
  for (const [k, v] of Object.entries((globalThis as any).evt as Record<string, number>)) { const t = k.split(':')[1]!; tot[t] = (tot[t] ?? 0) + v / 5; }
  console.log(seed, r.events, r.committedTxs, r.heights);
}
console.log(tot);
