/**
 * Negative controls for the stronger adversaries (issue 14): each test removes, in this test process only, the
 * defence an adversary targets (a module of the core replaced through vi.mock, or a harness hook) and shows
 * the simulation then reports a violation. Production code has no switch that weakens it. Every test prints
 * the seeds that broke, so a run can be replayed with the same defence removed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Log } from '../../src/consensus/log.ts';
import type { PrePrepare } from '../../src/consensus/messages.ts';
import { dangerousState } from './adversaries.ts';
import { adversaryScenarioFor, tornCrashes } from './adversary-scenarios.ts';
import { DRIVER_ADVERSARY_SCENARIOS, runDriverAdversary } from './driver-adversary-scenarios.ts';
import { runScenario, type Scenario, Simulation } from './harness.ts';
import { byz } from './scenarios.ts';

/** Which defences are removed; all in force unless a test turns one off. */
const removed = vi.hoisted(() => ({
  /** VIEW-CHANGEs carry no prepared certificates, so a NEW-VIEW re-issues only null batches. */
  carryPrepared: false,
  /** VIEW-CHANGEs are taken as they come: no signature, checkpoint proof or certificate is checked. */
  verifyViewChange: false,
  /** A later PRE-PREPARE for the same (view, seq) replaces the first one instead of being dropped. */
  firstPrePrepareWins: false,
  /** A peer's sync status (head certificate, checkpoint proof) is used unchecked. */
  verifyPeerProgress: false,
  /** The double-sign guard approves everything. */
  signGuard: false,
}));

vi.mock('../../src/consensus/view-changes.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/consensus/view-changes.ts')>();
  class ViewChanges extends orig.ViewChanges {
    override begin(newView: number): void {
      if (!removed.carryPrepared) {
        super.begin(newView);
        return;
      }
      // The VIEW-CHANGE is built from the log's prepared certificates: hide them while it is.
      const log = (this as unknown as { state: { log: Log } }).state.log;
      const hidden = log.sorted().map((e) => [e, e.preparedCert] as const);
      for (const [e] of hidden) e.preparedCert = undefined;
      try {
        super.begin(newView);
      } finally {
        for (const [e, cert] of hidden) e.preparedCert = cert;
      }
    }
  }
  return { ...orig, ViewChanges };
});

vi.mock('../../src/consensus/certificates.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/consensus/certificates.ts')>();
  return {
    ...orig,
    verifyViewChange: (...args: Parameters<typeof orig.verifyViewChange>) => {
      if (!removed.verifyViewChange) orig.verifyViewChange(...args);
    },
    verifyCommitQuorum: (...args: Parameters<typeof orig.verifyCommitQuorum>) => {
      if (!removed.verifyPeerProgress) orig.verifyCommitQuorum(...args);
    },
    verifyCheckpointProof: (...args: Parameters<typeof orig.verifyCheckpointProof>) => {
      if (!removed.verifyPeerProgress) orig.verifyCheckpointProof(...args);
    },
  };
});

vi.mock('../../src/consensus/normal-case.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/consensus/normal-case.ts')>();
  class NormalCase extends orig.NormalCase {
    override onPrePrepare(m: PrePrepare): void {
      if (removed.firstPrePrepareWins) {
        const e = (this as unknown as { state: { log: Log } }).state.log.get(m.seq);
        if (e !== undefined && e.view === m.view) e.digestHex = undefined;
      }
      super.onPrePrepare(m);
    }
  }
  return { ...orig, NormalCase };
});

vi.mock('../../src/consensus/guard.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/consensus/guard.ts')>();
  class SignGuard extends orig.SignGuard {
    override authorizeVote(...args: Parameters<InstanceType<typeof orig.SignGuard>['authorizeVote']>) {
      try {
        return super.authorizeVote(...args);
      } catch (err) {
        if (removed.signGuard) return [];
        throw err;
      }
    }
  }
  return { ...orig, SignGuard };
});

afterEach(() => {
  for (const k of Object.keys(removed) as (keyof typeof removed)[]) removed[k] = false;
});

const SEEDS = [0, 1, 2, 3];

/** Runs the seeds; prints and returns those with a violation matching `pattern`. */
function broken(s: Scenario, pattern: RegExp, run = (seed: number) => runScenario(s, seed)): number[] {
  const out: number[] = [];
  for (const seed of SEEDS) {
    const r = run(seed);
    const hit = r.violations.find((v) => pattern.test(v));
    if (hit !== undefined) {
      out.push(seed);
      console.log(`negative control ${s.name} seed=${seed}: ${hit.slice(0, 200)}`);
    }
  }
  return out;
}

/** As `broken`, for an adversary scenario on the production driver. */
async function brokenDriver(name: string, pattern: RegExp, seeds = SEEDS): Promise<number[]> {
  const a = DRIVER_ADVERSARY_SCENARIOS.find((x) => x.name === name)!;
  const out: number[] = [];
  for (const seed of seeds) {
    const hit = (await runDriverAdversary(a, seed)).violations.find((v) => pattern.test(v));
    if (hit === undefined) continue;
    out.push(seed);
    console.log(`negative control ${name} seed=${seed}: ${hit.slice(0, 200)}`);
  }
  return out;
}

function scenario(kind: string, n: number): Scenario {
  const s = adversaryScenarioFor(kind, n);
  if (s === undefined) throw new Error(`no scenario ${kind}`);
  return s;
}

describe('negative controls: each adversary breaks the protocol once its target defence is removed', () => {
  it.each([4, 7])('dangerous state, n=%i: VIEW-CHANGEs without prepared certificates fork the chain', (n) => {
    const s = scenario('dangerous-state', n);
    expect(broken(s, /^agreement:/)).toEqual([]);
    removed.carryPrepared = true;
    expect(broken(s, /^agreement:/)).toEqual(SEEDS);
  });

  it.each([4, 7])(
    'dangerous state on the production driver, n=%i: VIEW-CHANGEs without prepared certificates fork the chain',
    async (n) => {
      const seeds = SEEDS.slice(0, 2);
      const forks = () => brokenDriver(`driver-dangerous-state-n${n}`, /^agreement:/, seeds);
      expect(await forks()).toEqual([]);
      removed.carryPrepared = true;
      expect(await forks()).toEqual(seeds);
    },
  );

  it.each([4, 7])(
    'double PRE-PREPARE on the production driver, n=%i: without first-wins the guard stops a driver; without the guard too, the observer flags an honest validator',
    async (n) => {
      const name = `driver-double-pre-prepare-n${n}`;
      removed.firstPrePrepareWins = true;
      expect((await brokenDriver(name, /refusing to sign two different values/)).length).toBeGreaterThan(0);
      removed.signGuard = true;
      expect((await brokenDriver(name, /^equivocation: honest validator/)).length).toBeGreaterThan(0);
    },
  );

  it.each([4, 7])(
    'forged certificates, n=%i: VIEW-CHANGEs accepted unchecked let a forged certificate stall the chain',
    (n) => {
      const s: Scenario = {
        ...scenario('dangerous-state', n),
        name: `forged-certificates-n${n}`,
        byzantine: byz(n, 0, dangerousState('forge-digest')),
      };
      removed.verifyViewChange = true;
      expect(broken(s, /^(liveness|agreement|participation|exception)/).length).toBeGreaterThan(0);
    },
  );

  it.each([4, 7])(
    'double PRE-PREPARE, n=%i: without first-wins the core asks its guard to sign twice; without the guard too, the observer flags an honest validator',
    (n) => {
      const s = scenario('double-pre-prepare', n);
      removed.firstPrePrepareWins = true;
      expect(broken(s, /refusing to sign two different values/).length).toBeGreaterThan(0);
      removed.signGuard = true;
      expect(broken(s, /^equivocation: honest validator/).length).toBeGreaterThan(0);
    },
  );

  it.each([4, 7])(
    'lying sync peer, n=%i: statuses used without checking their certificates stop the chain',
    (n) => {
      const s = scenario('lying-sync-peer', n);
      removed.verifyPeerProgress = true;
      expect(broken(s, /^(liveness|participation|agreement|exception)/).length).toBeGreaterThan(0);
    },
  );

  it.each([4, 7])(
    'torn writes, n=%i: a driver that sends before it persists makes a restarted honest validator equivocate',
    (n) => {
      // Torn crashes of the primary only: its PRE-PREPAREs are what a lost vote record lets it sign again.
      const s: Scenario = { ...scenario('torn-writes', n), schedule: (sim) => tornCrashes(sim, 1) };
      const run = (seed: number) => {
        const sim = new Simulation(s, seed);
        for (const e of sim.endpoints) e.persistLast = true;
        return sim.run();
      };
      expect(broken(s, /^(equivocation: honest|agreement)/, run).length).toBeGreaterThan(0);
    },
  );
});
