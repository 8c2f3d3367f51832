/**
 * Byzantine validators on the production driver (driver-byzantine.ts), n = 4 with f = 1: an equivocating
 * primary (conflicting PRE-PREPAREs to different halves, or both to everyone) and a VIEW-CHANGE that lies about
 * its prepared certificates. The honest ledgers must agree, hold only submitted txs, and commit every tx in time.
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/consensus/messages.ts';
import { type CertLie, doublePrimary, viewChangeLiar } from './adversaries.ts';
import { type Behaviour, equivocator } from './byzantine.ts';
import { type AdversaryContext, driverAdversary } from './driver-byzantine.ts';
import { DRIVER_SCENARIOS, type DriverScenario, runDriverScenario } from './driver-sim.ts';

const SEEDS = 2;

function scenario(name: string): DriverScenario {
  return DRIVER_SCENARIOS.find((s) => s.name === name)!;
}

/** Validator `i` runs `behaviour`; `sent` counts the message types its driver tried to send. */
function byzantine(i: number, behaviour: () => Behaviour, sent: Map<string, number>) {
  return new Map([
    [
      i,
      (ctx: AdversaryContext) => {
        const adversary = driverAdversary(behaviour(), ctx);
        return {
          outgoing: (
            to: number | 'all',
            bytes: Uint8Array,
            send: (to: number | 'all', b: Uint8Array) => void,
          ) => {
            const type = decodeMessage(bytes).type;
            sent.set(type, (sent.get(type) ?? 0) + 1);
            adversary.outgoing(to, bytes, send);
          },
          observe: (bytes: Uint8Array) => adversary.observe(bytes),
        };
      },
    ],
  ]);
}

const CASES: [string, string, number, () => Behaviour, string][] = [
  ['equivocating primary (halves)', 'driver-baseline-n4', 0, equivocator, 'prePrepare'],
  ['equivocating primary (both to all)', 'driver-baseline-n4', 0, doublePrimary, 'prePrepare'],
  ['equivocator under crashes and loss', 'driver-crash-lossy-n4', 0, equivocator, 'prePrepare'],
  ['lying VIEW-CHANGE', 'driver-crash-lossy-n4', 1, () => viewChangeLiar(), 'viewChange'],
  [
    'VIEW-CHANGE forging digests',
    'driver-crash-lossy-n4',
    2,
    () => viewChangeLiar(['forge-digest' as CertLie]),
    'viewChange',
  ],
];

describe('Byzantine validators on the production driver (n = 4, f = 1)', () => {
  it.each(CASES)(
    '%s on %s: honest validators hold every invariant',
    async (_, name, i, behaviour, attacked) => {
      for (let seed = 0; seed < SEEDS; seed++) {
        const sent = new Map<string, number>();
        const r = await runDriverScenario(scenario(name), seed, { byzantine: byzantine(i, behaviour, sent) });
        expect(
          r.violations,
          `${r.scenario} seed=${r.seed} byzantine=${i}: ${r.violations.join(' | ')}`,
        ).toEqual([]);
        expect(r.committedTxs).toBeGreaterThan(0);
        // The attack happened: the adversary had messages of the kind it rewrites.
        expect(sent.get(attacked) ?? 0, `${name} seed=${seed}`).toBeGreaterThan(0);
        if (attacked === 'prePrepare') expect(r.byzantineEquivocations).toBeGreaterThan(0);
      }
    },
  );
});
