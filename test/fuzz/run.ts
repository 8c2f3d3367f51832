/**
 * Runs fuzz targets with fast-check and counts unexpected outcomes per target, keeping the first few with
 * the seed and path that replay them (`fc.check` with the same seed and path reproduces the input).
 */
import fc from 'fast-check';
import type { Target } from './targets.ts';

export interface TargetReport {
  name: string;
  inputs: number;
  unexpected: number;
  /** The first unexpected outcomes, with the fast-check seed that replays the run. */
  examples: string[];
  ms: number;
}

const KEEP = 3;

export async function fuzzTarget(t: Target, inputs: number, seed: number): Promise<TargetReport> {
  const report: TargetReport = { name: t.name, inputs, unexpected: 0, examples: [], ms: 0 };
  const start = performance.now();
  // The property always holds so the run covers every input; unexpected outcomes are counted, not shrunk.
  await fc.check(
    fc.asyncProperty(t.input, async (x) => {
      const bad = await t.run(x);
      if (bad !== undefined) {
        report.unexpected++;
        if (report.examples.length < KEEP) report.examples.push(`seed ${seed}: ${bad}`);
      }
      return true;
    }),
    { numRuns: inputs, seed },
  );
  report.ms = Math.round(performance.now() - start);
  return report;
}
