/**
 * Scenarios for the stronger adversaries (issue 14), each for n = 4 and n = 7 (`<kind>-n<N>`): at most f
 * Byzantine validators, as in scenarios.ts. They are in `npm run sim` and CI like the others, but not in the
 * trace goldens (those pin the behaviour of the scenarios the replica split was checked against).
 */
import {
  dangerousState,
  doublePrimary,
  lyingSyncPeer,
  selectiveCommitter,
  viewChangeLiar,
} from './adversaries.ts';
import type { NetFaults, Scenario, Simulation } from './harness.ts';
import { base, byz, flap, LOSSY } from './scenarios.ts';

/** Delays up to 1.5 s: longer than the view-change timeout (0.4 s) and the request timeout (1 s). */
const SLOWER_THAN_TIMEOUTS: NetFaults = { dropRate: 0.02, dupRate: 0.02, minDelayMs: 1, maxDelayMs: 1500 };

function isolatePrimary(sim: Simulation, fromMs: number, toMs: number): void {
  const all = sim.endpoints.map((e) => e.id);
  sim.at(fromMs, 'isolate primary', () => sim.setPartition([[0], all.filter((id) => id !== 0)]));
  sim.at(toMs, 'rejoin primary', () => sim.clearPartition());
}

/**
 * From 0.2 s to 3.3 s, every 100–400 ms, a torn crash (`Simulation.tornCrash`) of the current primary with
 * probability `primaryShare`, else of a random endpoint; each restarts 50–1200 ms later.
 */
export function tornCrashes(sim: Simulation, primaryShare: number): void {
  let t = 200;
  while (t < 3300) {
    sim.at(t, 'torn crash', () => {
      const primary = sim.endpoints.find((e) => e.up && e.replica?.status().primary === e.member);
      const victim =
        primary !== undefined && sim.rng.chance(primaryShare) ? primary : sim.rng.pick(sim.endpoints);
      sim.tornCrash(victim.id, sim.rng.int(50, 1200));
    });
    t += sim.rng.int(100, 400);
  }
}

const kinds: ((n: number) => Scenario)[] = [
  (n) => ({
    ...base(
      n,
      'view-change-liar',
      'f Byzantine validators omit, forge or replace by stale ones the prepared certificates of their VIEW-CHANGEs; lossy, flapping partitions until 3.5 s',
    ),
    byzantine: byz(n, 1, () => viewChangeLiar()),
    net: LOSSY,
    healAtMs: 3500,
    loadEndMs: 5000,
    schedule: (sim) => flap(sim, 300, 3500),
  }),
  (n) => ({
    ...base(
      n,
      'selective-commits',
      'f Byzantine validators, the view-0 primary first, send each COMMIT to a random subset; the primary is cut off 1.5–2.5 s',
    ),
    byzantine: byz(n, 0, selectiveCommitter),
    healAtMs: 2500,
    schedule: (sim) => isolatePrimary(sim, 1500, 2500),
  }),
  (n) => ({
    ...base(
      n,
      'double-pre-prepare',
      'f Byzantine validators, the view-0 primary first, send both of two conflicting PRE-PREPAREs (and votes) to every replica',
    ),
    byzantine: byz(n, 0, doublePrimary),
  }),
  (n) => ({
    ...base(
      n,
      'dangerous-state',
      'f Byzantine validators leave a batch committed at some honest replicas, prepared at others, unseen at the rest, then the primary stops; state sync blocked until 3 s',
    ),
    byzantine: byz(n, 0, dangerousState()),
    healAtMs: 3000,
    schedule: (sim) => {
      sim.at(0, 'block sync', () => sim.blockSync(true));
      sim.at(3000, 'unblock sync', () => sim.blockSync(false));
    },
  }),
  (n) => ({
    ...base(
      n,
      'long-delays',
      'delays up to 1.5 s (beyond the view-change and request timeouts): messages reorder across views until 4 s',
    ),
    net: SLOWER_THAN_TIMEOUTS,
    healAtMs: 4000,
    loadEndMs: 5000,
  }),
  (n) => ({
    ...base(
      n,
      'clock-skew',
      'clocks off by up to ±4 s and timers up to 20% slow or fast; the view-0 primary is cut off 0.5–2 s',
    ),
    clockSkew: { maxOffsetMs: 4000, maxRateError: 0.2 },
    healAtMs: 2000,
    schedule: (sim) => isolatePrimary(sim, 500, 2000),
  }),
  (n) => ({
    ...base(
      n,
      'torn-writes',
      'crashes in the middle of steps (after a random prefix of the outputs, between persist writes), the primary half the time, until 3.5 s',
    ),
    healAtMs: 3500,
    loadEndMs: 5000,
    schedule: (sim) => tornCrashes(sim, 0.5),
  }),
  (n) => ({
    ...base(
      n,
      'lying-sync-peer',
      'f Byzantine validators serve forged sync statuses (heads far ahead, in far views, of another hash, of a later epoch; checkpoints far ahead); one honest validator is cut off 0.5–1.5 s so it needs the statuses to catch up',
    ),
    byzantine: byz(n, 1, lyingSyncPeer),
    healAtMs: 1500,
    schedule: (sim) => {
      const all = sim.endpoints.map((e) => e.id);
      const victim = n - 1;
      sim.at(500, 'isolate one', () => sim.setPartition([[victim], all.filter((id) => id !== victim)]));
      sim.at(1500, 'rejoin', () => sim.clearPartition());
    },
  }),
];

export const ADVERSARY_SCENARIOS: readonly Scenario[] = [4, 7].flatMap((n) => kinds.map((k) => k(n)));

/** Adversary scenario `kind` for any n. */
export function adversaryScenarioFor(kind: string, n: number): Scenario | undefined {
  return kinds.find((k) => k(4).name === `${kind}-n4`)?.(n);
}
