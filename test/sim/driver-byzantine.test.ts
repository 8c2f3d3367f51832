/**
 * The stronger adversaries on the production modules (driver-adversary-scenarios.ts), n = 4 and n = 7:
 * Byzantine validators on the ConsensusDriver (equivocating primaries, selective COMMITs, lying VIEW-CHANGEs,
 * the dangerous state) and a lying state-sync peer against the production StateSyncClient. The honest ledgers
 * must agree, hold only submitted txs, commit every tx in time, and each attack must have happened. One seed
 * each here; `npm run sim` sweeps any number.
 */
import { describe, expect, it } from 'vitest';
import { DRIVER_ADVERSARY_SCENARIOS, runDriverAdversary } from './driver-adversary-scenarios.ts';

describe('stronger adversaries on the production driver and state sync', () => {
  it.each(DRIVER_ADVERSARY_SCENARIOS.map((a) => [a.name, a] as const))(
    '%s: honest validators hold every invariant',
    async (_, a) => {
      const r = await runDriverAdversary(a, 0);
      expect(r.violations, `${r.scenario} seed=${r.seed}: ${r.violations.join(' | ')}`).toEqual([]);
      expect(r.committedTxs).toBeGreaterThan(0);
    },
  );
});
