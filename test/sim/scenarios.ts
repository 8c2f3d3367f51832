/**
 * Named scenarios, each for n = 4 and n = 7 (f = 1 and 2): `<kind>-n<N>`. At most f validators are ever
 * Byzantine; crashes are not Byzantine (a crashed replica restarts from its persisted state), so a scenario may
 * crash any number of them at once. Times are virtual ms from the start. The negative control
 * `twins-overquorum-n4` (f+1 twinned validators) is not in the default set: it must make the checker fail.
 */
import { faultTolerance } from '../../src/core/validators.ts';
import {
  type Behaviour,
  censor,
  equivocator,
  farViewChange,
  futureViewSpammer,
  newViewForger,
  replayer,
  signatureForger,
} from './byzantine.ts';
import { type NetFaults, type Scenario, SIM_PARAMS, type Simulation, ZERO_LATENCY_NET } from './harness.ts';

export const MILD: NetFaults = { dropRate: 0, dupRate: 0, minDelayMs: 1, maxDelayMs: 20 };
export const LOSSY: NetFaults = { dropRate: 0.1, dupRate: 0.05, minDelayMs: 1, maxDelayMs: 60 };
/** A slow but faultless network (long message delays, no reordering to speak of). */
const SLOW: NetFaults = { dropRate: 0, dupRate: 0, minDelayMs: 40, maxDelayMs: 60 };

/**
 * The stated liveness bound: after the heal, a request timeout to suspect the primary, then up to f+1 views
 * whose primaries fail (f Byzantine, one more that was mid-change when the heal came), each costing at most a
 * capped view-change timeout, plus one more for the view that succeeds.
 */
export function livenessBoundMs(n: number): number {
  return SIM_PARAMS.requestTimeoutMs + (faultTolerance(n) + 2) * SIM_PARAMS.viewChangeTimeoutMaxMs;
}

export function base(n: number, name: string, description: string): Scenario {
  return {
    name: `${name}-n${n}`,
    description,
    n,
    net: MILD,
    healAtMs: 0,
    loadEndMs: 4000,
    txsPerSecond: 60,
    livenessBoundMs: livenessBoundMs(n),
  };
}

/** f consecutive validator indexes from `first`, for Byzantine roles. */
export function byz(n: number, first: number, make: () => Behaviour): Record<number, () => Behaviour> {
  const f = faultTolerance(n);
  const out: Record<number, () => Behaviour> = {};
  for (let i = 0; i < f; i++) out[(first + i) % n] = make;
  return out;
}

function halves(ids: number[]): number[][] {
  const cut = Math.floor(ids.length / 2);
  return [ids.slice(0, cut), ids.slice(cut)];
}

/** Random partitions re-drawn every 300–900 ms between `from` and `to`, sometimes healed for a moment. */
export function flap(sim: Simulation, from: number, to: number): void {
  let t = from;
  while (t < to) {
    sim.at(t, 'flap', () => {
      if (sim.rng.chance(0.2)) return sim.clearPartition();
      const ids = sim.rng.shuffle(sim.endpoints.map((e) => e.id));
      const groups = sim.rng.int(2, 3);
      const cuts = ids.map((_, i) => i % groups);
      sim.setPartition([...Array(groups).keys()].map((g) => ids.filter((_, i) => cuts[i] === g)));
    });
    t += sim.rng.int(300, 900);
  }
}

const kinds: ((n: number) => Scenario)[] = [
  (n) => ({ ...base(n, 'baseline', 'no faults; random 1–20 ms delays (reordering)') }),
  (n) => ({
    ...base(n, 'lossy', '10% drop, 5% duplication, 1–60 ms delays until 3 s'),
    net: LOSSY,
    healAtMs: 3000,
    loadEndMs: 5000,
  }),
  (n) => ({
    ...base(n, 'isolated-primary', 'the view-0 primary is cut off from 0.5 s to 2.5 s'),
    healAtMs: 2500,
    schedule: (sim) =>
      sim.at(500, 'isolate primary', () =>
        sim.setPartition([[0], sim.endpoints.map((e) => e.id).filter((id) => id !== 0)]),
      ),
  }),
  (n) => ({
    ...base(
      n,
      'one-way-primary',
      "from 0.5 s to 6 s nothing the view-0 primary sends arrives, nor the view-1 primary's NEW-VIEW to it: it moves on alone; all must end in one view",
    ),
    healAtMs: 6000,
    loadEndMs: 7000,
    expectViewsConverge: true,
    schedule: (sim) =>
      sim.at(500, 'one-way cuts', () => {
        const others = sim.endpoints.map((e) => e.id).filter((id) => id !== 0);
        sim.cutOneWay(0, others);
        sim.cutOneWay(1, [0]);
      }),
  }),
  (n) => ({
    ...base(n, 'split', 'the network splits in two halves, neither a quorum, from 0.5 s to 3 s'),
    healAtMs: 3000,
    schedule: (sim) => sim.at(500, 'split', () => sim.setPartition(halves(sim.endpoints.map((e) => e.id)))),
  }),
  (n) => ({
    ...base(n, 'flapping', 'random 2–3-way partitions re-drawn every 0.3–0.9 s until 3.5 s'),
    healAtMs: 3500,
    loadEndMs: 5000,
    schedule: (sim) => flap(sim, 300, 3500),
  }),
  (n) => ({
    ...base(
      n,
      'crash-restart',
      'random crashes and restarts from persisted state (once all at once) until 3.5 s',
    ),
    healAtMs: 3500,
    loadEndMs: 5000,
    schedule: (sim) => {
      let t = 300;
      while (t < 3300) {
        sim.at(t, 'crash', () => {
          const victim = sim.rng.pick(sim.endpoints);
          if (!victim.up) return;
          sim.crash(victim.id);
          sim.at(sim.now - sim.t0 + sim.rng.int(100, 1500), 'restart', () => sim.restart(victim.id));
        });
        t += sim.rng.int(150, 500);
      }
      sim.at(1500, 'crash all', () => {
        for (const e of sim.endpoints) sim.crash(e.id);
        sim.at(1800, 'restart all', () => {
          for (const e of sim.endpoints) sim.restart(e.id);
        });
      });
    },
  }),
  (n) => ({
    ...base(
      n,
      'equivocating-primary',
      'f Byzantine validators, starting with the view-0 primary, equivocate',
    ),
    byzantine: byz(n, 0, equivocator),
  }),
  (n) => ({
    ...base(n, 'twins', 'f validators run twice with one key; random partitions until 3 s'),
    twins: Object.keys(byz(n, 0, equivocator)).map(Number),
    healAtMs: 3000,
    loadEndMs: 4500,
    schedule: (sim) => flap(sim, 0, 3000),
  }),
  (n) => ({
    ...base(n, 'replay', 'f Byzantine validators replay old messages; lossy network until 2.5 s'),
    byzantine: byz(n, 1, replayer),
    net: LOSSY,
    healAtMs: 2500,
  }),
  (n) => ({
    ...base(
      n,
      'future-view',
      'f Byzantine validators send signed messages for views and checkpoints far ahead',
    ),
    byzantine: byz(n, 2, futureViewSpammer),
  }),
  (n) => ({
    ...base(
      n,
      'forged-new-view',
      'f Byzantine next primaries forge or equivocate NEW-VIEWs; view-0 primary cut off 0.3–2 s; lossy until 2 s',
    ),
    byzantine: byz(n, 1, newViewForger),
    net: LOSSY,
    healAtMs: 2000,
    schedule: (sim) =>
      sim.at(300, 'isolate primary', () =>
        sim.setPartition([[0], sim.endpoints.map((e) => e.id).filter((id) => id !== 0)]),
      ),
  }),
  (n) => ({
    ...base(
      n,
      'invalid-signatures',
      'f Byzantine validators send bad signatures, impersonations, garbage, invalid txs',
    ),
    byzantine: byz(n, 0, signatureForger),
  }),
  (n) => ({
    ...base(
      n,
      'backlog',
      'a burst of 600 txs at once on 40-60 ms links, which small batches take several request timeouts to commit: no view change',
    ),
    net: SLOW,
    healedNet: SLOW,
    burst: { atMs: 300, txs: 600 },
    expectNoViewChange: true,
    params: { maxBatchTxs: 4, watermarkWindow: 8 },
  }),
  (n) => ({
    ...base(
      n,
      'window-race',
      'heavy load in small batches on 1-20 ms links: PRE-PREPAREs often overtake the CHECKPOINTs that move the window; no view change',
    ),
    txsPerSecond: 1500,
    loadEndMs: 1000,
    expectNoViewChange: true,
    params: { maxBatchTxs: 4 },
  }),
  (n) => ({
    ...base(
      n,
      'censoring-primary',
      'f Byzantine validators, starting with the view-0 primary, never propose every fourth tx but commit the rest',
    ),
    byzantine: byz(n, 0, censor),
    // Load long enough that only the censorship rule, not the end of the load, gets the censored txs in: each
    // censoring primary in turn is replaced within a few request timeouts.
    loadEndMs: 16_000,
    livenessBoundMs: (faultTolerance(n) + 1) * 4 * SIM_PARAMS.requestTimeoutMs,
  }),
  (n) => ({
    ...base(
      n,
      'far-view-change',
      'f Byzantine validators each send one VIEW-CHANGE for a view far ahead, once, at 0.5 s: no view change',
    ),
    byzantine: byz(n, 1, farViewChange),
    loadEndMs: 8000,
    expectNoViewChange: true,
  }),
];

/**
 * Reconfiguration (ADR 006), on 4 genesis validators (key ids 0-3) and extra keys 4 and 5. Each reconfiguration
 * names the next set by key ids; the simulation commits it like any tx and every endpoint switches instances
 * after the block that holds it. A key that joins syncs from its peers first (its endpoint starts at genesis,
 * outside the set); one that leaves keeps following the chain without a replica. "Rotation" is a new key (a
 * fresh endpoint) taking the old key's position.
 */
const JOIN = [0, 1, 2, 3, 4];
const REMOVE_1 = [0, 2, 3, 4];
const ROTATE_2 = [0, 5, 3, 4];

export const RECONFIG_SCENARIOS: readonly Scenario[] = [
  {
    ...base(
      4,
      'reconfig',
      'a fifth validator joins (n=5, q=4), one is removed, a key is rotated; mild delays',
    ),
    name: 'reconfig-join-remove-rotate',
    extraKeys: 2,
    loadEndMs: 6000,
    reconfigs: [
      { atMs: 800, members: JOIN },
      { atMs: 2500, members: REMOVE_1 },
      { atMs: 4000, members: ROTATE_2 },
    ],
  },
  {
    ...base(
      4,
      'reconfig',
      'set changes while the view-0 primary is cut off (view changes across the switch), and the primary removed',
    ),
    name: 'reconfig-view-change',
    extraKeys: 1,
    healAtMs: 3000,
    loadEndMs: 5000,
    reconfigs: [
      { atMs: 300, members: JOIN },
      { atMs: 1200, members: [1, 2, 3, 4] },
    ],
    schedule: (sim) =>
      sim.at(200, 'isolate primary', () =>
        sim.setPartition([[0], sim.endpoints.map((e) => e.id).filter((id) => id !== 0)]),
      ),
  },
  {
    ...base(4, 'reconfig', 'joins and removals on a lossy, flapping network with crashes and restarts'),
    name: 'reconfig-faults',
    extraKeys: 2,
    net: LOSSY,
    healAtMs: 4000,
    loadEndMs: 6000,
    reconfigs: [
      { atMs: 500, members: JOIN },
      { atMs: 1500, members: [0, 1, 2, 3, 4, 5] },
      { atMs: 2800, members: [1, 2, 4, 5] },
    ],
    schedule: (sim) => {
      flap(sim, 300, 2500);
      let t = 400;
      while (t < 3800) {
        sim.at(t, 'crash', () => {
          const victim = sim.rng.pick(sim.endpoints);
          if (!victim.up) return;
          sim.crash(victim.id);
          sim.at(sim.now - sim.t0 + sim.rng.int(100, 1200), 'restart', () => sim.restart(victim.id));
        });
        t += sim.rng.int(300, 700);
      }
    },
  },
  {
    ...base(4, 'reconfig', 'a Byzantine equivocating validator (key 0) through two set changes'),
    name: 'reconfig-equivocator',
    extraKeys: 1,
    byzantine: { 0: equivocator },
    reconfigs: [
      { atMs: 600, members: JOIN },
      { atMs: 2000, members: [0, 1, 2, 4] },
    ],
  },
  {
    ...base(
      4,
      'reconfig',
      "a Byzantine replayer (key 1) re-sends old epochs' messages into the new ones; lossy until 2.5 s",
    ),
    name: 'reconfig-replayer',
    extraKeys: 1,
    byzantine: { 1: replayer },
    net: LOSSY,
    healAtMs: 2500,
    reconfigs: [
      { atMs: 500, members: JOIN },
      { atMs: 1800, members: [4, 1, 2, 3] },
    ],
  },
  {
    ...base(
      4,
      'reconfig',
      'validator 0 runs twice with one key (Byzantine) while a fifth joins; random partitions until 3 s',
    ),
    name: 'reconfig-twins',
    extraKeys: 1,
    twins: [0],
    healAtMs: 3000,
    loadEndMs: 4500,
    reconfigs: [{ atMs: 700, members: JOIN }],
    schedule: (sim) => flap(sim, 0, 3000),
  },
];

export const SCENARIOS: readonly Scenario[] = [
  ...[4, 7].flatMap((n) => kinds.map((k) => k(n))),
  ...RECONFIG_SCENARIOS,
];

/** Scenario `kind` (a name without its `-n<N>` suffix) for any n; Byzantine roles and twins shrink to f. */
export function scenarioFor(kind: string, n: number): Scenario | undefined {
  const make = kinds.find((k) => k(4).name === `${kind}-n4`);
  return make?.(n);
}

/** Negative control: f+1 = 2 twinned validators of 4, split so each side sees a quorum of "validators". */
export const NEGATIVE_CONTROL: Scenario = {
  name: 'twins-overquorum-n4',
  description: 'f+1 twinned validators with the twins on opposite sides of a partition: safety must break',
  n: 4,
  twins: [0, 1],
  net: MILD,
  healAtMs: 5000,
  loadEndMs: 3000,
  txsPerSecond: 100,
  livenessBoundMs: 1000,
  expectViolation: true,
  // Endpoints 0–3 are validators 0–3; 4 and 5 are the second instances of validators 0 and 1.
  schedule: (sim) =>
    sim.at(0, 'split twins', () =>
      sim.setPartition([
        [0, 1, 2],
        [4, 5, 3],
      ]),
    ),
};

/** Zero-latency links and heavy load, for the throughput sanity figure. */
export const THROUGHPUT: Scenario = {
  name: 'throughput-n4',
  description: 'zero-latency links, no faults, 20 000 txs/s offered',
  n: 4,
  net: ZERO_LATENCY_NET,
  healedNet: ZERO_LATENCY_NET,
  healAtMs: 0,
  loadEndMs: 5000,
  txsPerSecond: 20_000,
  livenessBoundMs: 2000,
  params: { maxBatchTxs: 500 },
};

export const ALL_SCENARIOS: readonly Scenario[] = [...SCENARIOS, NEGATIVE_CONTROL, THROUGHPUT];

export function findScenario(name: string): Scenario | undefined {
  return ALL_SCENARIOS.find((s) => s.name === name);
}
