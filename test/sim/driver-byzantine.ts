/**
 * Byzantine validators on the production-driver simulation (driver-sim.ts): the core simulation's behaviours
 * (byzantine.ts, adversaries.ts) rewrite what a validator's ConsensusDriver sends and filter what it receives.
 * A behaviour sees only the validator's index, signer, the validator count, the log window, which validators
 * are Byzantine and a seeded rng, and sends through `sim.sendConsensus`; this adapter gives it exactly those,
 * so the same code attacks both simulations. The Byzantine validators of one run share one such view of the
 * simulation (and its rng), so behaviours that coordinate (the dangerous state) agree on one plan.
 */
import { decodeMessage } from '../../src/consensus/messages.ts';
import type { Signer } from '../../src/core/crypto.ts';
import type { Behaviour } from './byzantine.ts';
import type { Simulation } from './harness.ts';
import type { SimNode } from './node.ts';
import type { Prng } from './prng.ts';

export type Send = (to: number | 'all', bytes: Uint8Array) => void;

/** What a Byzantine validator does to its driver's traffic. */
export interface DriverAdversary {
  /** Replaces the honest send of `bytes` (to a validator or to all others) through `send`. */
  outgoing(to: number | 'all', bytes: Uint8Array, send: Send): void;
  /** Sees every message the validator receives. */
  observe(bytes: Uint8Array): void;
  /** Whether the validator's own driver gets a received message at all (default: yes). */
  admits?(bytes: Uint8Array): boolean;
}

export interface AdversaryContext {
  index: number;
  n: number;
  /** The log window (watermark window) of the run's consensus params. */
  l: number;
  signer: Signer;
  /** This validator's own rng. */
  rng: Prng;
  /** Every Byzantine validator of the run. */
  byzantine: readonly number[];
  /** The same object, with the same rng, for every Byzantine validator of one run. */
  run: { readonly rng: Prng };
}

/** One simulation view per run; sends go through the sending validator's own `send`. */
const views = new WeakMap<object, { sim: Simulation; outs: Map<number, Send> }>();

function viewOf(ctx: AdversaryContext): { sim: Simulation; outs: Map<number, Send> } {
  let view = views.get(ctx.run);
  if (view === undefined) {
    const outs = new Map<number, Send>();
    // The behaviours touch only these members of a core simulation (see the module comment).
    const sim = {
      n: ctx.n,
      l: ctx.l,
      rng: ctx.run.rng,
      endpoints: [...Array(ctx.n).keys()].map((index) => ({ index, honest: !ctx.byzantine.includes(index) })),
      sendConsensus: (from: SimNode, to: number | 'all', bytes: Uint8Array) =>
        outs.get(from.index)?.(to, bytes),
    } as unknown as Simulation;
    view = { sim, outs };
    views.set(ctx.run, view);
  }
  return view;
}

export function driverAdversary(b: Behaviour, ctx: AdversaryContext): DriverAdversary {
  const { sim, outs } = viewOf(ctx);
  const node = { index: ctx.index, signer: ctx.signer } as unknown as SimNode;
  return {
    outgoing(to, bytes, send) {
      if (b.outgoing === undefined) return send(to, bytes);
      outs.set(ctx.index, send);
      b.outgoing(node, sim, decodeMessage(bytes), to);
    },
    observe(bytes) {
      b.observe?.(node, sim, bytes);
    },
    admits(bytes) {
      if (b.admits === undefined) return true;
      try {
        return b.admits(node, sim, decodeMessage(bytes));
      } catch {
        return true;
      }
    },
  };
}
