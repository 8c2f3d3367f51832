/**
 * The CI portion of the simulation, shared by the sim-*.test.ts files (split so vitest's two workers share
 * the load). Each scenario runs CI_SEEDS seeds; a failure names the scenario and seed and how to replay it.
 */
import { describe, expect, it } from 'vitest';
import { ADVERSARY_SCENARIOS } from './adversary-scenarios.ts';
import { type RunResult, runScenario } from './harness.ts';
import { SCENARIOS } from './scenarios.ts';

export const CI_SEEDS = Number(process.env.JRCHAIN_SIM_SEEDS ?? 12);

function report(failures: RunResult[]): string {
  return failures
    .map(
      (r) =>
        `${r.scenario} seed=${r.seed}: ${r.violations.join(' | ')}\n` +
        `  replay: npm run sim -- --scenario ${r.scenario} --seed-base ${r.seed} --seeds 1`,
    )
    .join('\n');
}

export function simSuite(title: string, names: readonly string[], seeds = CI_SEEDS): void {
  const scenarios = [...SCENARIOS, ...ADVERSARY_SCENARIOS].filter((s) => names.includes(s.name));
  if (scenarios.length !== names.length) throw new Error(`unknown scenario in ${names.join(', ')}`);
  describe(title, () => {
    it.each(scenarios.map((s) => [s.name, s] as const))(
      `%s holds every invariant for ${seeds} seeds`,
      (_, s) => {
        const failures: RunResult[] = [];
        let committed = 0;
        for (let seed = 0; seed < seeds; seed++) {
          const r = runScenario(s, seed);
          committed += r.committedTxs;
          if (r.violations.length > 0) failures.push(r);
        }
        expect(failures, report(failures)).toEqual([]);
        // Guard against a vacuous pass: the scenario did commit its load.
        expect(committed).toBeGreaterThan(0);
      },
    );
  });
}
