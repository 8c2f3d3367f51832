/**
 * Stronger Byzantine behaviours (issue 14), aimed at the view change, where PBFT's safety argument is most
 * delicate: VIEW-CHANGEs whose prepared certificates are omitted, stale or forged; COMMITs sent to some
 * replicas only; a primary that sends both of two conflicting batches to the same replica; and a primary that
 * builds the dangerous state on purpose (a batch committed at some honest replicas, prepared at others and
 * unseen at the rest) and then stops, so the next view must carry the batch over.
 */
import {
  type Commit,
  decodeMessage,
  type PrePrepare,
  type Prepare,
  type PreparedCertificate,
  type ViewChange,
  withSignature,
} from '../../src/consensus/messages.ts';
import { type Batch, batchDigest } from '../../src/core/batch.ts';
import { type Behaviour, send, sign } from './byzantine.ts';
import type { Simulation } from './harness.ts';
import type { SimNode } from './node.ts';

function others(node: SimNode, sim: Simulation): number[] {
  return [...Array(sim.n).keys()].filter((i) => i !== node.index);
}

export type CertLie = 'omit' | 'stale' | 'forge' | 'forge-digest';

/**
 * Rewrites its VIEW-CHANGEs: `omit` drops every prepared certificate; `stale` replaces each by the lowest-view
 * certificate it has seen for that seq (genuine, so it verifies) or drops it; `forge` breaks one certificate
 * (another digest under the old signatures, a view at or above the new view, or a seq beyond the window), which
 * must get the whole VIEW-CHANGE rejected; `forge-digest` always forges the digest (all zeros: it wins every
 * tie-break). `modes` are drawn from at random for each VIEW-CHANGE.
 */
export function viewChangeLiar(modes: readonly CertLie[] = ['omit', 'stale', 'forge']): Behaviour {
  /** Every genuine prepared certificate seen (its own and in others' VIEW-CHANGEs), lowest view per seq. */
  const oldest = new Map<number, PreparedCertificate>();
  const remember = (certs: readonly PreparedCertificate[]) => {
    for (const c of certs) {
      const cur = oldest.get(c.seq);
      if (cur === undefined || c.view < cur.view) oldest.set(c.seq, c);
    }
  };
  return {
    name: 'view-change-liar',
    observe(_node, _sim, bytes) {
      const m = decodeMessage(bytes);
      if (m.type === 'viewChange') remember(m.prepared);
    },
    outgoing(node, sim, m, to) {
      if (m.type !== 'viewChange') return send(node, sim, to, m);
      remember(m.prepared);
      send(node, sim, to, lie(node, sim, m, sim.rng.pick([...modes]), oldest));
    },
  };
}

function lie(
  node: SimNode,
  sim: Simulation,
  vc: ViewChange,
  mode: CertLie,
  oldest: ReadonlyMap<number, PreparedCertificate>,
): ViewChange {
  let prepared: PreparedCertificate[];
  if (mode === 'omit') prepared = [];
  else if (mode === 'stale') {
    prepared = vc.prepared.flatMap((c) => {
      const old = oldest.get(c.seq);
      return old !== undefined && old.view < c.view ? [old] : [];
    });
  } else {
    prepared = [...vc.prepared];
    const low = vc.checkpoint.seq;
    const victim = prepared.length > 0 ? sim.rng.int(0, prepared.length - 1) : -1;
    const c = victim >= 0 ? prepared[victim]! : undefined;
    const kind = c === undefined ? 2 : mode === 'forge-digest' ? 0 : sim.rng.int(0, 2);
    if (c !== undefined && kind === 0) {
      prepared[victim] = { ...c, digest: new Uint8Array(c.digest.length) };
    } else if (c !== undefined && kind === 1) {
      prepared[victim] = { ...c, view: vc.newView };
    } else {
      const base = c ?? {
        view: 0,
        seq: 0,
        digest: new Uint8Array(32),
        prePrepareSignature: new Uint8Array(64),
        prepares: [],
      };
      prepared = [...prepared.filter((p) => p !== c), { ...base, seq: low + sim.l + 1 }];
    }
  }
  return withSignature<ViewChange>({ ...vc, prepared }, sign(node));
}

/** Sends each COMMIT to a random subset of the other replicas (possibly none), never to everyone. */
export function selectiveCommitter(): Behaviour {
  return {
    name: 'selective-commits',
    outgoing(node, sim, m, to) {
      if (m.type !== 'commit' || to !== 'all') return send(node, sim, to, m);
      const targets = sim.rng.shuffle(others(node, sim));
      for (const i of targets.slice(0, sim.rng.int(0, targets.length - 1))) send(node, sim, i, m);
    },
  };
}

/** A second batch of the same txs at the same seq: another time, the txs reversed. */
function conflicting(node: SimNode, m: PrePrepare): PrePrepare {
  const txs = m.batch.txs.length > 1 ? [...m.batch.txs].reverse() : m.batch.txs;
  const batch: Batch = { ...m.batch, txs, time: m.batch.time + 1 };
  return withSignature<PrePrepare>({ ...m, batch, digest: batchDigest(batch) }, sign(node));
}

/**
 * As primary, sends both of two conflicting PRE-PREPAREs for each seq to every replica, in a random order per
 * replica; as a backup, PREPAREs and COMMITs for both values to everyone.
 */
export function doublePrimary(): Behaviour {
  return {
    name: 'double-pre-prepare',
    outgoing(node, sim, m, to) {
      if (m.type === 'prePrepare') {
        const alt = conflicting(node, m);
        const targets = to === 'all' ? others(node, sim) : [to];
        for (const i of targets) {
          const pair = sim.rng.chance(0.5) ? [m, alt] : [alt, m];
          for (const x of pair) send(node, sim, i, x);
        }
        return;
      }
      send(node, sim, to, m);
      if (m.type === 'prepare') {
        const digest = m.digest.slice();
        digest[0]! ^= 1;
        send(node, sim, to, withSignature<Prepare>({ ...m, digest }, sign(node)));
      } else if (m.type === 'commit') {
        const headerHash = m.headerHash.slice();
        headerHash[0]! ^= 1;
        send(node, sim, to, withSignature<Commit>({ ...m, headerHash }, sign(node)));
      }
    },
  };
}

/**
 * The dangerous state, made on purpose by f Byzantine validators, the view-0 primary first. The honest
 * validators are split at random into C (1 to f of them) and P (together 2f) and U (the rest). For the first
 * seq at or above `targetSeq`, the primary sends its PRE-PREPARE to C ∪ P only and all f send their COMMITs
 * to C only: C commits (q COMMITs), P only prepares (honest COMMITs alone are fewer than q), U never sees the
 * PRE-PREPARE. The f ignore every COMMIT for that seq, so their own cores stay prepared and ready to vote
 * for whatever the next view puts there: only the prepared certificates of C and P keep the batch alive. From then on the primary proposes nothing, so the replicas change view; every
 * Byzantine VIEW-CHANGE lies about its prepared certificates (`vcLie`). The new view must re-issue the batch
 * C committed.
 */
export function dangerousState(vcLie: CertLie = 'omit', targetSeq = 3): () => Behaviour {
  const plans = new WeakMap<Simulation, { inPP: Set<number>; committers: Set<number>; seq: number }>();
  const planFor = (sim: Simulation, byzantine: readonly number[]) => {
    let plan = plans.get(sim);
    if (plan === undefined) {
      const honest = sim.rng.shuffle([...Array(sim.n).keys()].filter((i) => !byzantine.includes(i)));
      const f = byzantine.length;
      const c = sim.rng.int(1, f);
      plan = { inPP: new Set(honest.slice(0, 2 * f)), committers: new Set(honest.slice(0, c)), seq: -1 };
      plans.set(sim, plan);
    }
    return plan;
  };
  return () => ({
    name: 'dangerous-state',
    admits(_node, sim, m) {
      const seq = plans.get(sim)?.seq ?? -1;
      return !(m.type === 'commit' && m.view === 0 && seq >= 0 && m.seq === seq);
    },
    outgoing(node, sim, m, to) {
      const byzantine = sim.endpoints.filter((e) => !e.honest).map((e) => e.index);
      const plan = planFor(sim, byzantine);
      if (m.type === 'viewChange') return send(node, sim, to, lie(node, sim, m, vcLie, new Map()));
      if (m.type === 'prePrepare' && m.view === 0) {
        if (plan.seq >= 0 || m.seq < targetSeq) {
          if (plan.seq < 0) send(node, sim, to, m);
          return;
        }
        plan.seq = m.seq;
        for (const i of [...plan.inPP, ...byzantine.filter((b) => b !== node.index)]) send(node, sim, i, m);
        return;
      }
      if (m.type === 'commit' && m.view === 0 && plan.seq >= 0 && m.seq >= plan.seq) {
        if (m.seq === plan.seq) for (const i of plan.committers) send(node, sim, i, m);
        return;
      }
      send(node, sim, to, m);
    },
  });
}

/**
 * Serves lying sync statuses: a head certificate moved to a far height or a far view, or naming another header
 * hash, and a checkpoint proof moved far ahead, all under the original signatures (it cannot sign for the
 * others); or the head of an epoch that does not exist. Honest replicas check every proof before using it.
 */
export function lyingSyncPeer(): Behaviour {
  return {
    name: 'lying-sync-peer',
    status(_node, sim, honest) {
      const head = honest.head;
      const lie = sim.rng.int(0, 4);
      if (lie === 4) return { ...honest, epoch: honest.epoch + 1 + sim.rng.int(0, 5) };
      if (lie === 3 || head === undefined) {
        const c = honest.checkpoint;
        return c === undefined
          ? honest
          : { ...honest, checkpoint: { ...c, seq: c.seq + sim.k * sim.rng.int(1, 50) } };
      }
      if (lie === 0) return { ...honest, head: { ...head, height: head.height + sim.rng.int(1, 1000) } };
      if (lie === 1) return { ...honest, head: { ...head, view: head.view + sim.rng.int(1, 1000) } };
      const headerHash = head.headerHash.slice();
      headerHash[0]! ^= 1;
      return { ...honest, head: { ...head, headerHash, height: head.height + 1 } };
    },
  };
}
