/**
 * A lying state-sync peer (sync-liar.ts) against the production StateSyncClient on LedgerChain: forged status
 * heads, heads of another validator set, truncated, reordered and certificate-swapped blocks. No honest
 * validator may store a bad block (agreement and validity on every ledger), each must still catch up through the
 * honest peers (liveness after the crashes heal), and the client must have caught the liar.
 */
import { describe, expect, it } from 'vitest';
import { LEDGER_SCENARIOS, runDriverScenario } from './driver-sim.ts';
import { Prng } from './prng.ts';
import { lieAbout, SYNC_LIES } from './sync-liar.ts';

const LIAR = 3;

describe('a lying state-sync peer on the production ledger (n = 4)', () => {
  it.each([0, 1])(
    'ledger-crash-lossy-n4 seed %i: honest validators never adopt a lie and still sync',
    async (seed) => {
      const s = LEDGER_SCENARIOS.find((x) => x.name === 'ledger-crash-lossy-n4')!;
      const rng = new Prng(`sync-liar#${seed}`);
      const liar = (req: Uint8Array, res: Uint8Array) => lieAbout(req, res, SYNC_LIES, rng);
      const r = await runDriverScenario(s, seed, { syncLiar: (p) => (p === LIAR ? liar : undefined) });
      expect(r.violations, `${r.scenario} seed=${r.seed} liar=${LIAR}: ${r.violations.join(' | ')}`).toEqual(
        [],
      );
      expect(r.committedTxs).toBeGreaterThan(0);
      expect(r.syncFaults, `${r.scenario} seed=${r.seed}: the liar was never caught`).toBeGreaterThan(0);
    },
  );
});
