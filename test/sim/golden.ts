/**
 * Trace goldens: the `traceHash` of a fixed list of (scenario, seed) runs, committed in traces.golden.json.
 * A refactor of the consensus core must leave every one of them unchanged (byte-identical traces: the same
 * messages, timers, inputs and commits at the same virtual times). A deliberate behaviour change rewrites the
 * file with `npm run sim -- --write-golden`, in its own commit that says which traces changed and why.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { runScenario } from './harness.ts';
import { ALL_SCENARIOS } from './scenarios.ts';

export const GOLDEN_FILE = new URL('./traces.golden.json', import.meta.url);

/** Seeds of the golden runs; disjoint from the CI seeds (0..11) so the two suites see different runs. */
const SEEDS = [1000, 1001, 1002];

/**
 * Scenarios that cost more than about 0.3 s of CPU a run get two seeds, the cheaper ones three: the whole list
 * takes about 60 s of CPU, half of it the throughput runs.
 */
function seedsFor(name: string): readonly number[] {
  const heavy = name.endsWith('-n7') || /^(backlog|window-race|censoring-primary|throughput)-/.test(name);
  return heavy ? SEEDS.slice(0, 2) : SEEDS;
}

export interface GoldenCase {
  scenario: string;
  seed: number;
  /** `<scenario>#<seed>`: the key in the golden file. */
  key: string;
}

/** Every scenario of scenarios.ts (the negative control and the throughput run included), with its seeds. */
export function goldenCases(): GoldenCase[] {
  return ALL_SCENARIOS.flatMap((s) =>
    seedsFor(s.name).map((seed) => ({ scenario: s.name, seed, key: `${s.name}#${seed}` })),
  );
}

export type Golden = Record<string, string>;

export function readGolden(): Golden {
  return JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Golden;
}

export function traceOf(c: GoldenCase): string {
  const scenario = ALL_SCENARIOS.find((s) => s.name === c.scenario);
  if (scenario === undefined) throw new Error(`unknown scenario ${c.scenario}`);
  return runScenario(scenario, c.seed).traceHash;
}

/** Runs every golden case and rewrites the golden file; returns the keys whose trace changed, came or went. */
export function writeGolden(onCase?: (c: GoldenCase) => void): {
  changed: string[];
  added: string[];
  removed: string[];
} {
  let old: Golden = {};
  try {
    old = readGolden();
  } catch {
    // No golden file yet (or an unreadable one): every case is new.
  }
  const next: Golden = {};
  for (const c of goldenCases()) {
    onCase?.(c);
    next[c.key] = traceOf(c);
  }
  writeFileSync(GOLDEN_FILE, `${JSON.stringify(next, null, 2)}\n`);
  const keys = Object.keys(next);
  return {
    changed: keys.filter((k) => old[k] !== undefined && old[k] !== next[k]),
    added: keys.filter((k) => old[k] === undefined),
    removed: Object.keys(old).filter((k) => next[k] === undefined),
  };
}

/** Why case `c` does not match the golden file, or undefined when it does. */
export function goldenMismatch(c: GoldenCase, golden: Golden): string | undefined {
  const want = golden[c.key];
  const got = traceOf(c);
  if (want === got) return undefined;
  const what = want === undefined ? 'has no golden trace' : `trace changed: ${got}, golden ${want}`;
  return (
    `${c.scenario} seed=${c.seed} ${what}\n` +
    `  replay: npm run sim -- --scenario ${c.scenario} --seed-base ${c.seed} --seeds 1\n` +
    '  A refactor must not change it. For a deliberate behaviour change: npm run sim -- --write-golden,\n' +
    '  committed on its own with a message saying which traces changed and why (docs/testing.md).'
  );
}

/** Keys of the golden file that no case produces any more (a scenario renamed or removed). */
export function staleGoldenKeys(golden: Golden): string[] {
  const keys = new Set(goldenCases().map((c) => c.key));
  return Object.keys(golden).filter((k) => !keys.has(k));
}

/** `npm run sim -- --write-golden`: rewrites the file and lists what changed; returns the exit code. */
export function writeGoldenCommand(): number {
  const { changed, added, removed } = writeGolden((c) => process.stderr.write(`${c.key}\n`));
  for (const [label, keys] of [
    ['changed', changed],
    ['added', added],
    ['removed', removed],
  ] as const) {
    for (const k of keys) process.stdout.write(`${label} ${k}\n`);
  }
  process.stdout.write(
    `golden: ${goldenCases().length} traces written to ${GOLDEN_FILE.pathname}; ` +
      `${changed.length} changed, ${added.length} added, ${removed.length} removed\n`,
  );
  return 0;
}
