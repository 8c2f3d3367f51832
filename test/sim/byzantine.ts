/**
 * Byzantine behaviours. A Byzantine endpoint runs an honest core underneath (so it keeps taking part and its
 * attacks land in live protocol states) and a behaviour that rewrites what it sends, observes what it
 * receives, or injects messages on a tick. Behaviours sign only with their own key (the simulated signature
 * scheme makes anything else fail verification); twins need no behaviour: two endpoints share one key.
 */

import { makeQuorumContext } from '../../src/consensus/certificates.ts';
import {
  type Checkpoint,
  type Commit,
  type ConsensusMessage,
  decodeMessage,
  encodeMessage,
  type NewView,
  type PrePrepare,
  type Prepare,
  prePrepareBody,
  type ViewChange,
  withSignature,
} from '../../src/consensus/messages.ts';
import { nullDigest, planNewView } from '../../src/consensus/view-change.ts';
import { type Batch, batchDigest } from '../../src/core/batch.ts';
import { Domain, sha256 } from '../../src/core/crypto.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { simVerify } from './crypto.ts';
import type { Simulation, StatusPacket } from './harness.ts';
import { SIM_GENESIS_HASH } from './ledger.ts';
import type { SimNode } from './node.ts';
import { simTx } from './txs.ts';

export interface Behaviour {
  readonly name: string;
  /** Replaces the honest send of `message` to validator `to` (or everyone). */
  outgoing?(node: SimNode, sim: Simulation, message: ConsensusMessage, to: number | 'all'): void;
  /** Rewrites the sync status the endpoint serves its peers. */
  status?(node: SimNode, sim: Simulation, honest: StatusPacket): StatusPacket;
  /** Whether the endpoint's own core gets a received message at all (default: yes). */
  admits?(node: SimNode, sim: Simulation, message: ConsensusMessage): boolean;
  /** Sees every consensus message the endpoint receives (raw bytes, before decoding). */
  observe?(node: SimNode, sim: Simulation, bytes: Uint8Array): void;
  /** Called every `tickMs` of virtual time while the endpoint is up. */
  tick?(node: SimNode, sim: Simulation): void;
  readonly tickMs?: number;
  /** Whether the endpoint lets a tx into its mempool at all (a censor drops some, and never relays them). */
  admitsTx?(tx: TxEnvelope): boolean;
}

export const sign = (node: SimNode) => (domain: Domain, body: Uint8Array) => node.signer.sign(domain, body);

export function send(node: SimNode, sim: Simulation, to: number | 'all', m: ConsensusMessage): void {
  sim.sendConsensus(node, to, encodeMessage(m));
}

/** The other validator indexes split in two random halves. */
function halves(node: SimNode, sim: Simulation): [number[], number[]] {
  const others = sim.rng.shuffle([...Array(sim.n).keys()].filter((i) => i !== node.index));
  const cut = Math.max(1, Math.floor(others.length / 2));
  return [others.slice(0, cut), others.slice(cut)];
}

function randomHash(sim: Simulation): Uint8Array {
  return sha256(new Uint8Array([sim.rng.int(0, 255), sim.rng.int(0, 255), sim.rng.int(0, 255), 7]));
}

/** As primary, sends one batch to half the replicas and a conflicting one to the other half; as backup, conflicting votes. */
export function equivocator(): Behaviour {
  return {
    name: 'equivocator',
    outgoing(node, sim, m, to) {
      if (to !== 'all' || (m.type !== 'prePrepare' && m.type !== 'prepare' && m.type !== 'commit')) {
        return send(node, sim, to, m);
      }
      const [a, b] = halves(node, sim);
      for (const i of a) send(node, sim, i, m);
      let alt: ConsensusMessage;
      if (m.type === 'prePrepare') {
        const txs = m.batch.txs.length > 1 ? [...m.batch.txs].reverse() : m.batch.txs;
        const batch: Batch = { ...m.batch, txs, time: m.batch.time + 1 };
        alt = withSignature<PrePrepare>({ ...m, batch, digest: batchDigest(batch) }, sign(node));
      } else if (m.type === 'prepare') {
        alt = withSignature<Prepare>({ ...m, digest: randomHash(sim) }, sign(node));
      } else {
        alt = withSignature<Commit>({ ...m, headerHash: randomHash(sim) }, sign(node));
      }
      for (const i of b) send(node, sim, i, alt);
    },
  };
}

/** Records what it receives and re-sends old messages (validly signed by their senders) at random. */
export function replayer(): Behaviour {
  const seen: Uint8Array[] = [];
  return {
    name: 'replayer',
    tickMs: 150,
    observe(_node, sim, bytes) {
      if (seen.length < 400) seen.push(bytes);
      else seen[sim.rng.int(0, seen.length - 1)] = bytes;
    },
    tick(node, sim) {
      for (let k = 0; k < 4 && seen.length > 0; k++) {
        const bytes = sim.rng.pick(seen);
        sim.sendConsensus(node, sim.rng.chance(0.5) ? 'all' : sim.rng.int(0, sim.n - 1), bytes);
      }
    },
  };
}

/** Sends validly signed messages for views (and a checkpoint) far ahead. */
export function futureViewSpammer(): Behaviour {
  return {
    name: 'future-view',
    tickMs: 200,
    tick(node, sim) {
      const r = node.replica!;
      const st = r.status();
      const far = st.view + 1000 + sim.rng.int(0, 1000);
      const chainId = sim.consensusId;
      const seq = st.lastExecuted + 1;
      const primaryView = far - (far % sim.n) + node.index;
      const batch: Batch = {
        proposer: node.index,
        view: primaryView,
        time: sim.now,
        txs: [simTx(9999, sim.rng.int(0, 1e9))],
      };
      const msgs: ConsensusMessage[] = [
        withSignature<PrePrepare>(
          {
            type: 'prePrepare',
            chainId,
            from: node.index,
            view: primaryView,
            seq,
            batch,
            digest: batchDigest(batch),
          },
          sign(node),
        ),
        withSignature<Prepare>(
          { type: 'prepare', chainId, from: node.index, view: far, seq, digest: randomHash(sim) },
          sign(node),
        ),
        withSignature<Commit>(
          { type: 'commit', chainId, from: node.index, view: far, seq, headerHash: randomHash(sim) },
          sign(node),
        ),
        withSignature<ViewChange>(
          {
            type: 'viewChange',
            chainId,
            from: node.index,
            newView: far,
            checkpoint: r.stableCheckpoint(),
            prepared: [],
          },
          sign(node),
        ),
        withSignature<Checkpoint>(
          {
            type: 'checkpoint',
            chainId,
            from: node.index,
            seq: (Math.floor(st.highWatermark / sim.k) + 50) * sim.k,
            headerHash: sha256(new Uint8Array([42])),
          },
          sign(node),
        ),
      ];
      for (const m of msgs) send(node, sim, 'all', m);
    },
  };
}

/**
 * When it is the new primary, either equivocates (two valid NEW-VIEWs over different quorums, one per half) or
 * sends a NEW-VIEW that breaks the rule; on a tick, NEW-VIEWs for views it does not lead.
 */
export function newViewForger(): Behaviour {
  /** VIEW-CHANGEs it received, by new view and sender, to build a second valid NEW-VIEW from. */
  const seen = new Map<number, Map<number, ViewChange>>();
  return {
    name: 'forged-new-view',
    tickMs: 500,
    observe(_node, _sim, bytes) {
      const m = decodeMessage(bytes);
      if (m.type !== 'viewChange') return;
      let byFrom = seen.get(m.newView);
      if (byFrom === undefined) {
        byFrom = new Map();
        seen.set(m.newView, byFrom);
      }
      byFrom.set(m.from, m);
    },
    outgoing(node, sim, m, to) {
      if (m.type !== 'newView') return send(node, sim, to, m);
      const alt = sim.rng.chance(0.5) ? equivocate(node, sim, m, seen.get(m.view)) : undefined;
      if (alt === undefined) return send(node, sim, to, forge(node, sim, m));
      // Two valid NEW-VIEWs from different quorums of VIEW-CHANGEs, one to each half: both pass every check.
      const [a, b] = halves(node, sim);
      for (const i of a) send(node, sim, i, m);
      for (const i of b) send(node, sim, i, alt);
    },
    tick(node, sim) {
      const st = node.replica!.status();
      const view = st.view + 1 + sim.rng.int(0, 3);
      const vc = withSignature<ViewChange>(
        {
          type: 'viewChange',
          chainId: sim.consensusId,
          from: node.index,
          newView: view,
          checkpoint: node.replica!.stableCheckpoint(),
          prepared: [],
        },
        sign(node),
      );
      const nv = withSignature<NewView>(
        {
          type: 'newView',
          chainId: sim.consensusId,
          from: node.index,
          view,
          viewChanges: [vc],
          prePrepares: [],
        },
        sign(node),
      );
      send(node, sim, 'all', nv);
    },
  };
}

/** A second, valid NEW-VIEW for nv.view over another quorum of VIEW-CHANGEs, if it has enough of them. */
function equivocate(
  node: SimNode,
  sim: Simulation,
  nv: NewView,
  received: Map<number, ViewChange> | undefined,
): NewView | undefined {
  const ctx = makeQuorumContext(sim.consensusId, sim.set, sim.k, sim.l, SIM_GENESIS_HASH, simVerify);
  const pool = new Map<number, ViewChange>(received);
  for (const vc of nv.viewChanges) pool.set(vc.from, vc);
  if (pool.size <= ctx.q) return undefined;
  // Prefer another quorum whose plan re-issues different digests (possible when prepared sets diverged).
  const key = (vcs: ViewChange[]) =>
    planNewView(ctx, nv.view, vcs)
      .entries.map((e) => `${e.seq}:${Buffer.from(e.digest).toString('hex')}`)
      .join();
  const original = key(nv.viewChanges);
  const all = [...pool.values()].sort((x, y) => x.from - y.from);
  let vcs = all.filter((vc) => vc.from !== nv.viewChanges[0]!.from).slice(0, ctx.q);
  for (const left of all) {
    const candidate = all.filter((vc) => vc !== left).slice(0, ctx.q);
    if (key(candidate) !== original) {
      vcs = candidate;
      break;
    }
  }
  const plan = planNewView(ctx, nv.view, vcs);
  const prePrepares = plan.entries.map((e) => ({
    seq: e.seq,
    digest: e.digest,
    signature: node.signer.sign(Domain.prePrepare, prePrepareBody(sim.consensusId, nv.view, e.seq, e.digest)),
  }));
  return withSignature<NewView>({ ...nv, viewChanges: vcs, prePrepares }, sign(node));
}

function forge(node: SimNode, sim: Simulation, nv: NewView): NewView {
  const ctx = makeQuorumContext(sim.consensusId, sim.set, sim.k, sim.l, SIM_GENESIS_HASH, simVerify);
  const ppSig = (seq: number, digest: Uint8Array) =>
    node.signer.sign(Domain.prePrepare, prePrepareBody(sim.consensusId, nv.view, seq, digest));
  const variant = sim.rng.int(0, 3);
  const pps = [...nv.prePrepares];
  const nd = nullDigest(ctx, nv.view);
  if (variant === 0 && pps.length > 0) {
    // Drop a prepared request: replace a re-issued digest by the null batch.
    const i = sim.rng.int(0, pps.length - 1);
    const digest = pps[i]!.digest.every((b, k) => b === nd[k]) ? randomHash(sim) : nd;
    pps[i] = { seq: pps[i]!.seq, digest, signature: ppSig(pps[i]!.seq, digest) };
  } else if (variant === 1 && pps.length > 0) {
    pps.pop();
  } else if (variant === 2) {
    // Fewer VIEW-CHANGEs than a quorum.
    return withSignature<NewView>({ ...nv, viewChanges: nv.viewChanges.slice(1) }, sign(node));
  } else {
    // An extra PRE-PREPARE beyond what any certificate supports.
    const seq = (pps[pps.length - 1]?.seq ?? nv.viewChanges[0]!.checkpoint.seq) + 1;
    const digest = randomHash(sim);
    pps.push({ seq, digest, signature: ppSig(seq, digest) });
  }
  return withSignature<NewView>({ ...nv, prePrepares: pps }, sign(node));
}

/** Corrupted signatures, impersonation, undecodable bytes, and (as primary) batches holding an invalid tx. */
export function signatureForger(): Behaviour {
  return {
    name: 'invalid-signatures',
    outgoing(node, sim, m, to) {
      if (m.type === 'prePrepare' && sim.rng.chance(0.3)) {
        // A tx no client signed: the drivers' admission checks refuse the whole PRE-PREPARE.
        const batch: Batch = {
          ...m.batch,
          txs: [...m.batch.txs, simTx(7777, sim.rng.int(0, 1e9), '-forged')],
        };
        send(
          node,
          sim,
          to,
          withSignature<PrePrepare>({ ...m, batch, digest: batchDigest(batch) }, sign(node)),
        );
      } else {
        send(node, sim, to, m);
      }
      if (sim.rng.chance(0.5)) {
        const sig = m.signature.slice();
        sig[sim.rng.int(0, 63)]! ^= 1 << sim.rng.int(0, 7);
        send(node, sim, to, { ...m, signature: sig } as ConsensusMessage);
      }
      if (sim.rng.chance(0.3)) {
        const other = (node.index + 1 + sim.rng.int(0, sim.n - 2)) % sim.n;
        send(node, sim, to, { ...m, from: other } as ConsensusMessage);
      }
      if (sim.rng.chance(0.1)) {
        const bytes = encodeMessage(m).slice();
        const at = sim.rng.int(0, bytes.length - 1);
        bytes[at] = bytes[at]! ^ 0xff;
        sim.sendConsensus(node, to, bytes);
      }
    },
  };
}

/**
 * Censors every fourth client tx (by nonce): never admits, relays or proposes them, and otherwise behaves
 * honestly, so as primary it keeps committing everything else. Only the request timer's censorship rule can
 * replace it; a correct new primary then proposes the censored txs (they reach it from clients and relays).
 */
export function censor(): Behaviour {
  return { name: 'censor', admitsTx: (tx) => tx.tx.nonce % 4 !== 0 };
}

/**
 * Sends one validly signed VIEW-CHANGE for a view far ahead, once, and otherwise behaves honestly: alone it
 * must not move anybody to another view (a lone request counts only for the next view, pacemaker.ts).
 */
export function farViewChange(): Behaviour {
  let sent = false;
  return {
    name: 'far-view-change',
    tickMs: 500,
    tick(node, sim) {
      if (sent) return;
      sent = true;
      const r = node.replica!;
      const vc = withSignature<ViewChange>(
        {
          type: 'viewChange',
          chainId: sim.consensusId,
          from: node.index,
          newView: r.status().view + 1000,
          checkpoint: r.stableCheckpoint(),
          prepared: [],
        },
        sign(node),
      );
      send(node, sim, 'all', vc);
    },
  };
}
