/**
 * The CI portion of the simulation, shared by the sim-*.test.ts files (split so vitest's two workers share
 * the load). Each scenario runs CI_SEEDS seeds, one test per seed: a run costs 0.05–1 s of CPU, so a test stays
 * far inside vitest's 60 s timeout however loaded the machine is (one test of 12 seeds of an n = 7 scenario did
 * not always). A failure names the scenario and seed and how to replay it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ADVERSARY_SCENARIOS } from './adversary-scenarios.ts';
import { type RunResult, runScenario } from './harness.ts';
import { SCENARIOS } from './scenarios.ts';

export const CI_SEEDS = Number(process.env.JRCHAIN_SIM_SEEDS ?? 12);

function report(r: RunResult): string {
  return (
    `${r.scenario} seed=${r.seed}: ${r.violations.join(' | ')}\n` +
    `  replay: npm run sim -- --scenario ${r.scenario} --seed-base ${r.seed} --seeds 1`
  );
}

export function simSuite(title: string, names: readonly string[], seeds = CI_SEEDS): void {
  const scenarios = [...SCENARIOS, ...ADVERSARY_SCENARIOS].filter((s) => names.includes(s.name));
  if (scenarios.length !== names.length) throw new Error(`unknown scenario in ${names.join(', ')}`);
  const seedList = Array.from({ length: seeds }, (_, seed) => seed);
  describe(title, () => {
    for (const s of scenarios) {
      describe(s.name, () => {
        let committed = 0;
        let ran = 0;
        it.each(seedList)('seed %i holds every invariant', (seed) => {
          const r = runScenario(s, seed);
          committed += r.committedTxs;
          ran++;
          expect(r.violations, report(r)).toEqual([]);
        });
        // Guard against a vacuous pass: over its seeds, the scenario did commit its load.
        afterAll(() => {
          if (ran === seeds) expect(committed, `${s.name}: nothing committed`).toBeGreaterThan(0);
        });
      });
    }
  });
}
