/** The throughput run's trace goldens (the longest runs), and the golden file's completeness (golden.ts). */
import { describe, expect, it } from 'vitest';
import { goldenCases, goldenMismatch, readGolden, staleGoldenKeys } from './golden.ts';

const golden = readGolden();
const cases = goldenCases().filter((c) => c.scenario.startsWith('throughput-'));
/** A throughput run takes about 15 s of CPU alone, several times that on a busy machine. */
const TIMEOUT_MS = 300_000;

describe('simulation trace goldens (throughput)', () => {
  it('runs the throughput scenario with two seeds', () => {
    expect(cases.length).toBeGreaterThanOrEqual(2);
  });

  it.each(cases.map((c) => [c.key, c] as const))(
    '%s replays its golden trace',
    (_, c) => {
      const mismatch = goldenMismatch(c, golden);
      expect(mismatch, mismatch).toBeUndefined();
    },
    TIMEOUT_MS,
  );

  it('the golden file holds no trace of a case that no longer exists', () => {
    const stale = staleGoldenKeys(golden);
    expect(stale, `stale golden entries (rewrite with npm run sim -- --write-golden): ${stale}`).toEqual([]);
  });
});
