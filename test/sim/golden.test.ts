/**
 * The simulation's traces for a fixed seed list match traces.golden.json (see golden.ts): the proof that a
 * change to the consensus core kept its behaviour. The throughput run is in golden-throughput.test.ts so the
 * two halves run on vitest's two workers.
 */
import { describe, expect, it } from 'vitest';
import { goldenCases, goldenMismatch, readGolden } from './golden.ts';

const golden = readGolden();
const cases = goldenCases().filter((c) => !c.scenario.startsWith('throughput-'));

describe('simulation trace goldens', () => {
  it.each(cases.map((c) => [c.key, c] as const))('%s replays its golden trace', (_, c) => {
    const mismatch = goldenMismatch(c, golden);
    expect(mismatch, mismatch).toBeUndefined();
  });
});
