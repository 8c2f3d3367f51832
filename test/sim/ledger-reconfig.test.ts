/**
 * Reconfiguration by governance txs on the production ledger (ledger-reconfig.ts). The scenarios themselves
 * (n = 4 -> 5 -> 4 and 7 -> 8 -> 7) run in driver-sim.test.ts with every LEDGER_SCENARIO; here the script's own
 * end checks are shown to bite.
 */
import { describe, expect, it } from 'vitest';
import { type DriverScenario, LEDGER_SCENARIOS, runDriverScenario } from './driver-sim.ts';
import { reconfiguration } from './ledger-reconfig.ts';

const scenario = (name: string) => LEDGER_SCENARIOS.find((s) => s.name === name)!;

describe('reconfiguration by governance txs on LedgerChain + GovernanceState (production driver and state sync)', () => {
  it('the end checks fail when the expected change did not happen (a joiner that never joins)', async () => {
    // Governance adds validator 4, but only endpoints 0-3 run: the new member never starts, so it commits nothing
    // (the four others still make a quorum of five).
    const base = scenario('ledger-reconfig-n4');
    const s: DriverScenario = {
      ...base,
      name: 'ledger-reconfig-absent-joiner',
      n: 4,
      script: reconfiguration(4, [{ add: 4 }]),
    };
    const r = await runDriverScenario(s, 0);
    expect(r.violations.some((v) => v.startsWith('reconfiguration: joiner 4 committed nothing'))).toBe(true);
  });
});
