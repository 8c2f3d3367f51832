/** The protocol must not break for validator counts other than 3f+1, down to a single validator. */
import { describe, expect, it } from 'vitest';
import { runScenario } from './harness.ts';
import { scenarioFor } from './scenarios.ts';

const cases: [number, string][] = [
  [1, 'baseline'],
  [1, 'crash-restart'],
  [2, 'split'],
  [3, 'lossy'],
  [5, 'split'],
  [5, 'equivocating-primary'],
  [6, 'crash-restart'],
  [6, 'forged-new-view'],
];

describe('other validator counts', () => {
  it.each(cases)('n=%i %s holds every invariant for 3 seeds', (n, kind) => {
    const s = scenarioFor(kind, n)!;
    for (let seed = 0; seed < 3; seed++) {
      const r = runScenario(s, seed);
      expect(r.violations, `${s.name} seed=${seed}`).toEqual([]);
      expect(r.committedTxs).toBeGreaterThan(0);
    }
  });
});
