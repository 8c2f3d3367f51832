/** Tests of the simulation itself: the checker can fail, and a seed replays exactly. */
import { describe, expect, it } from 'vitest';
import { runScenario, Simulation } from './harness.ts';
import { findScenario, NEGATIVE_CONTROL } from './scenarios.ts';

describe('simulation checker', () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7])(
    'negative control: f+1 twinned validators break agreement (seed %i)',
    (seed) => {
      const r = runScenario(NEGATIVE_CONTROL, seed);
      expect(r.violations.some((v) => v.startsWith('agreement:'))).toBe(true);
    },
  );

  it('the observer counts a Byzantine primary signing two batches for one (view, seq), and flags no honest key', () => {
    const sim = new Simulation(findScenario('equivocating-primary-n4')!, 3);
    const r = sim.run();
    expect(r.violations).toEqual([]);
    expect(sim.observer.byzantineEquivocations).toBeGreaterThan(0);
    expect(sim.observer.honestEquivocations).toBe(0);
  });

  it('a seed replays exactly: same trace hash twice, another seed differs', () => {
    const s = findScenario('crash-restart-n4')!;
    const a = runScenario(s, 42);
    const b = runScenario(s, 42);
    const c = runScenario(s, 43);
    expect(a.violations).toEqual([]);
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.committedTxs).toBe(a.committedTxs);
    expect(c.traceHash).not.toBe(a.traceHash);
  });

  it('replays exactly under Byzantine behaviour and network faults too', () => {
    for (const name of ['twins-n7', 'lossy-n4', 'forged-new-view-n4']) {
      const s = findScenario(name)!;
      expect(runScenario(s, 7).traceHash).toBe(runScenario(s, 7).traceHash);
    }
  });
});
