/**
 * Byzantine validators on the production-driver simulation (driver-sim.ts): the core simulation's behaviours
 * (byzantine.ts, adversaries.ts) rewrite what a validator's ConsensusDriver sends. A behaviour sees only the
 * validator's index, signer, the validator count, the log window and a seeded rng, and sends through
 * `sim.sendConsensus`; this adapter gives it exactly those, so the same code attacks both simulations.
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
}

export interface AdversaryContext {
  index: number;
  n: number;
  /** The log window (watermark window) of the run's consensus params. */
  l: number;
  signer: Signer;
  rng: Prng;
}

export function driverAdversary(b: Behaviour, ctx: AdversaryContext): DriverAdversary {
  let out: Send = () => undefined;
  // The behaviours touch only these members of a core-simulation node and simulation (see the module comment).
  const node = { index: ctx.index, signer: ctx.signer } as unknown as SimNode;
  const sim = {
    n: ctx.n,
    l: ctx.l,
    rng: ctx.rng,
    sendConsensus: (_from: SimNode, to: number | 'all', bytes: Uint8Array) => out(to, bytes),
  } as unknown as Simulation;
  return {
    outgoing(to, bytes, send) {
      if (b.outgoing === undefined) return send(to, bytes);
      out = send;
      b.outgoing(node, sim, decodeMessage(bytes), to);
    },
    observe(bytes) {
      b.observe?.(node, sim, bytes);
    },
  };
}
