/**
 * The simulation on the production ConsensusDriver (driver-sim.ts): every scenario holds its invariants, a seed
 * replays exactly, and a store that loses acknowledged writes in a crash (the durability the driver relies on
 * before it sends) makes the checks fail.
 */
import { describe, expect, it } from 'vitest';
import { MemoryConsensusStore } from '../../src/consensus/memory-store.ts';
import type { PersistOp } from '../../src/consensus/persist.ts';
import { DRIVER_ADVERSARY_SCENARIOS } from './driver-adversary-scenarios.ts';
import { DRIVER_SCENARIOS, type DriverScenario, LEDGER_SCENARIOS, runDriverScenario } from './driver-sim.ts';

const SEEDS = 2;

function replay(r: { scenario: string; seed: number; violations: string[] }): string {
  return `${r.scenario} seed=${r.seed}: ${r.violations.join(' | ')}`;
}

/** Acknowledges every write at once but makes it durable only three writes later: a crash loses the rest. */
class ForgetfulStore extends MemoryConsensusStore {
  private readonly unsynced: PersistOp[][] = [];

  override async write(ops: readonly PersistOp[]): Promise<void> {
    this.unsynced.push([...ops]);
    while (this.unsynced.length > 3) await super.write(this.unsynced.shift()!);
  }

  crashed(): void {
    this.unsynced.length = 0;
  }
}

describe('simulation on the production driver', () => {
  it.each(DRIVER_SCENARIOS.map((s) => [s.name, s] as const))(
    `%s holds every invariant for ${SEEDS} seeds`,
    async (_, s) => {
      for (let seed = 0; seed < SEEDS; seed++) {
        const r = await runDriverScenario(s, seed);
        expect(r.violations, replay(r)).toEqual([]);
        expect(r.committedTxs).toBeGreaterThan(0);
      }
    },
  );

  // The heaviest (crashes and loss with seven validators) only in `npm run sim` sweeps.
  const ledgerHere = LEDGER_SCENARIOS.filter((s) => !s.name.endsWith('crash-lossy-n7'));
  it.each(ledgerHere.map((s) => [s.name, s] as const))(
    '%s (LedgerChain, governance state, Ed25519 txs) holds every invariant for 1 seed',
    async (_, s) => {
      const r = await runDriverScenario(s, 0);
      expect(r.violations, replay(r)).toEqual([]);
      expect(r.committedTxs).toBeGreaterThan(0);
    },
  );

  // Regression seeds of the sweep 6000-6099: the joiner refused its first PRE-PREPARE as a member (approvals of
  // a proposal in a block it had not executed yet, judged against its older head) and never voted in its epoch.
  it.each([6088, 6054])(
    'ledger-reconfig-crash-lossy-n7 seed %i: the joiner commits through consensus',
    async (seed) => {
      const s = LEDGER_SCENARIOS.find((x) => x.name === 'ledger-reconfig-crash-lossy-n7')!;
      const r = await runDriverScenario(s, seed);
      expect(r.violations, replay(r)).toEqual([]);
    },
  );

  it.each(['driver-crash-lossy-n4', 'ledger-crash-lossy-n4'])(
    '%s: a seed replays exactly; another seed differs',
    async (name) => {
      const s = [...DRIVER_SCENARIOS, ...LEDGER_SCENARIOS].find((x) => x.name === name)!;
      const a = await runDriverScenario(s, 7);
      const b = await runDriverScenario(s, 7);
      const c = await runDriverScenario(s, 8);
      expect(a.violations).toEqual([]);
      expect(b.traceHash).toBe(a.traceHash);
      expect(c.traceHash).not.toBe(a.traceHash);
    },
  );

  it.each(['driver-equivocating-primary-n4', 'ledger-crash-lossy-n4'])(
    '%s: one shared decoding per send changes nothing: the same trace as each receiver decoding on its own',
    async (name) => {
      const a = DRIVER_ADVERSARY_SCENARIOS.find((x) => x.name === name);
      const s = [...DRIVER_SCENARIOS, ...LEDGER_SCENARIOS].find((x) => x.name === name);
      const run = (decodeApart: boolean) =>
        a === undefined
          ? runDriverScenario(s!, 3, { decodeApart })
          : runDriverScenario({ ...a.base, name }, 3, { ...a.prepare(3).hooks, decodeApart });
      const [shared, apart] = [await run(false), await run(true)];
      expect(shared.violations).toEqual([]);
      expect(shared.traceHash).toBe(apart.traceHash);
    },
  );

  it('negative control: a store that loses acknowledged writes in a crash makes a restarted validator double-sign', async () => {
    const s: DriverScenario = DRIVER_SCENARIOS.find((x) => x.name === 'driver-crash-lossy-n4')!;
    const broken: number[] = [];
    for (let seed = 0; seed < 4; seed++) {
      const stores = new Map<number, ForgetfulStore>();
      const r = await runDriverScenario(s, seed, {
        store: (i) => {
          const store = new ForgetfulStore();
          stores.set(i, store);
          return store;
        },
        onCrash: (i) => stores.get(i)!.crashed(),
      });
      if (r.violations.some((v) => /^(equivocation|agreement)/.test(v))) {
        broken.push(seed);
        console.log(`negative control ${replay(r).slice(0, 300)}`);
      }
    }
    expect(broken.length).toBeGreaterThan(0);
  });
});
