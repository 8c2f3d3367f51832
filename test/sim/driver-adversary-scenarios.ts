/**
 * The stronger adversaries (issue 14) on the production modules, as named scenarios for n = 4 and n = 7 that
 * both vitest and `npm run sim` run: Byzantine validators on the ConsensusDriver (driver-byzantine.ts adapts
 * the core simulation's behaviours) and a lying state-sync peer against the production StateSyncClient on
 * LedgerChain (sync-liar.ts). f validators are Byzantine (the view-0 primary first) unless a case says which.
 * Each run also checks that the attack happened (the adversary had messages of the kind it rewrites, a
 * primary's conflicting PRE-PREPAREs were seen, the liar was caught), so a quiet run cannot pass as a defence.
 */
import { decodeMessage } from '../../src/consensus/messages.ts';
import { faultTolerance } from '../../src/core/validators.ts';
import {
  type CertLie,
  dangerousState,
  doublePrimary,
  selectiveCommitter,
  viewChangeLiar,
} from './adversaries.ts';
import { type Behaviour, equivocator } from './byzantine.ts';
import { type AdversaryContext, type DriverAdversary, driverAdversary } from './driver-byzantine.ts';
import {
  DRIVER_SCENARIOS,
  type DriverRunResult,
  type DriverScenario,
  type DriverSimHooks,
  LEDGER_SCENARIOS,
  runDriverScenario,
} from './driver-sim.ts';
import { Prng } from './prng.ts';
import { lieAbout, SYNC_LIES } from './sync-liar.ts';

export interface DriverAdversaryScenario {
  readonly name: string;
  readonly base: DriverScenario;
  /** The hooks of one run, and the check that its attack happened (a message, or undefined when it did). */
  prepare(seed: number): { hooks: DriverSimHooks; attacked(r: DriverRunResult): string | undefined };
}

/** The run's violations, or one saying the attack never happened. */
export async function runDriverAdversary(a: DriverAdversaryScenario, seed: number): Promise<DriverRunResult> {
  const { hooks, attacked } = a.prepare(seed);
  const r = await runDriverScenario({ ...a.base, name: a.name }, seed, hooks);
  const missing = r.violations.length === 0 ? attacked(r) : undefined;
  return missing === undefined ? r : { ...r, violations: [`vacuous: ${missing}`] };
}

/** `count` validators from `first` run `behaviour`; `sent` counts the message types their drivers tried to send. */
function byzantine(
  n: number,
  first: number,
  count: number,
  behaviour: () => Behaviour,
  sent: Map<string, number>,
) {
  const wrap = (ctx: AdversaryContext): DriverAdversary => {
    const adversary = driverAdversary(behaviour(), ctx);
    return {
      outgoing: (to, bytes, send) => {
        const type = decodeMessage(bytes).type;
        sent.set(type, (sent.get(type) ?? 0) + 1);
        adversary.outgoing(to, bytes, send);
      },
      observe: (bytes) => adversary.observe(bytes),
      admits: (bytes) => adversary.admits?.(bytes) ?? true,
    };
  };
  return new Map([...Array(count).keys()].map((k) => [(first + k) % n, wrap] as const));
}

interface Case {
  kind: string;
  base: string;
  /** The first Byzantine validator, and how many (default: f). */
  first: number;
  count?: (n: number) => number;
  behaviour: () => Behaviour;
  /** The message type the behaviour rewrites: the run must have had some. */
  attacks: string;
  /** Extra scenario fields. */
  tweak?: Partial<DriverScenario>;
}

const CASES: Case[] = [
  {
    kind: 'equivocating-primary',
    base: 'driver-baseline',
    first: 0,
    behaviour: equivocator,
    attacks: 'prePrepare',
  },
  {
    kind: 'double-pre-prepare',
    base: 'driver-baseline',
    first: 0,
    behaviour: doublePrimary,
    attacks: 'prePrepare',
  },
  {
    kind: 'equivocator-lossy',
    base: 'driver-crash-lossy',
    first: 0,
    behaviour: equivocator,
    attacks: 'prePrepare',
  },
  {
    kind: 'selective-commits',
    base: 'driver-crash-lossy',
    first: 0,
    behaviour: selectiveCommitter,
    attacks: 'commit',
  },
  {
    kind: 'view-change-liar',
    base: 'driver-crash-lossy',
    first: 1,
    behaviour: () => viewChangeLiar(),
    attacks: 'viewChange',
  },
  {
    kind: 'view-change-forged-digest',
    base: 'driver-crash-lossy',
    first: 2,
    behaviour: () => viewChangeLiar(['forge-digest' as CertLie]),
    attacks: 'viewChange',
  },
  {
    kind: 'dangerous-state',
    base: 'driver-baseline',
    first: 0,
    behaviour: dangerousState(),
    attacks: 'viewChange',
    // Nobody learns the committed batch by state transfer before 3 s: the new view must carry it.
    tweak: { healAtMs: 3000, syncBlockedUntilMs: 3000 },
  },
];

function byzantineCase(c: Case, n: number): DriverAdversaryScenario {
  const base = { ...DRIVER_SCENARIOS.find((s) => s.name === `${c.base}-n${n}`)!, ...c.tweak };
  return {
    name: `driver-${c.kind}-n${n}`,
    base,
    prepare: () => {
      const sent = new Map<string, number>();
      const count = c.count?.(n) ?? faultTolerance(n);
      return {
        hooks: { byzantine: byzantine(n, c.first, count, c.behaviour, sent) },
        attacked: (r) => {
          if ((sent.get(c.attacks) ?? 0) === 0) return `the Byzantine validators sent no ${c.attacks}`;
          if (c.attacks === 'prePrepare' && r.byzantineEquivocations === 0)
            return 'the observer saw no conflicting PRE-PREPARE';
          return undefined;
        },
      };
    },
  };
}

/** Validator 3 of the ledger world serves lies from its SyncServer (sync-liar.ts). */
function syncLiarCase(base: DriverScenario): DriverAdversaryScenario {
  const liar = 3;
  return {
    name: base.name.replace('ledger-crash-lossy', 'ledger-sync-liar'),
    base,
    prepare: (seed) => {
      const rng = new Prng(`sync-liar#${seed}`);
      const lie = (req: Uint8Array, res: Uint8Array) => lieAbout(req, res, SYNC_LIES, rng);
      return {
        hooks: { syncLiar: (p) => (p === liar ? lie : undefined) },
        attacked: (r) => (r.syncFaults === 0 ? 'the liar was never caught' : undefined),
      };
    },
  };
}

export const DRIVER_ADVERSARY_SCENARIOS: readonly DriverAdversaryScenario[] = [
  ...[4, 7].flatMap((n) => CASES.map((c) => byzantineCase(c, n))),
  ...LEDGER_SCENARIOS.filter((s) => s.name.startsWith('ledger-crash-lossy')).map(syncLiarCase),
];
