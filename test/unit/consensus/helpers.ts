/** Builders for core unit tests: a 4-validator set with simulated keys, and signed messages from anyone. */

import { makeQuorumContext } from '../../../src/consensus/certificates.ts';
import {
  type Checkpoint,
  type CheckpointProof,
  type Commit,
  type ConsensusMessage,
  checkpointBody,
  type NewView,
  type PrePrepare,
  type Prepare,
  type PreparedCertificate,
  prePrepareBody,
  prepareBody,
  type ViewChange,
  withSignature,
} from '../../../src/consensus/messages.ts';
import { Replica } from '../../../src/consensus/replica.ts';
import type { Input, Output, ReplicaOptions } from '../../../src/consensus/types.ts';
import { planNewView } from '../../../src/consensus/view-change.ts';
import { type Batch, batchDigest } from '../../../src/core/batch.ts';
import { type CommitCertificate, commitVoteBody } from '../../../src/core/block.ts';
import { Domain } from '../../../src/core/crypto.ts';
import { DEFAULT_CONSENSUS_PARAMS } from '../../../src/core/params.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { simValidators, simVerify } from '../../sim/crypto.ts';
import { SIM_GENESIS_HASH, SIM_GENESIS_TIME } from '../../sim/ledger.ts';
import { simTx } from '../../sim/txs.ts';

export const CHAIN = 'jrchain-sim';
export const T0 = SIM_GENESIS_TIME + 1000;
export const { set, signers } = simValidators(4, 'unit');
export const params = {
  ...DEFAULT_CONSENSUS_PARAMS,
  maxBatchTxs: 3,
  maxBatchWaitMs: 10,
  checkpointInterval: 2,
  watermarkWindow: 4,
  requestTimeoutMs: 1000,
  viewChangeTimeoutMs: 500,
  viewChangeTimeoutMaxMs: 2000,
  maxClockSkewMs: 1000,
};
export const ctx = makeQuorumContext(CHAIN, set, 2, 4, SIM_GENESIS_HASH, simVerify);
const sign = (i: number) => (d: Domain, b: Uint8Array) => signers[i]!.sign(d, b);

export function replica(self = 1, options: Partial<ReplicaOptions> = {}): Replica {
  const r = Replica.create(
    {
      chainId: CHAIN,
      validators: set,
      self,
      params,
      genesisHash: SIM_GENESIS_HASH,
      signer: signers[self]!,
      verify: simVerify,
      options,
    },
    { height: 0, hash: SIM_GENESIS_HASH, time: T0 - 1000 },
  );
  r.step({ now: T0, type: 'start' });
  return r;
}

export const tx = (k: number): TxEnvelope => simTx(1, k);

export function batch(txs: TxEnvelope[], view = 0, proposer = view % 4, time = T0): Batch {
  return { proposer, view, time, txs };
}

export function pp(seq: number, b: Batch, view = b.view, from = view % 4): PrePrepare {
  return withSignature<PrePrepare>(
    { type: 'prePrepare', chainId: CHAIN, from, view, seq, batch: b, digest: batchDigest(b) },
    sign(from),
  );
}

export function prepare(from: number, view: number, seq: number, digest: Uint8Array): Prepare {
  return withSignature<Prepare>({ type: 'prepare', chainId: CHAIN, from, view, seq, digest }, sign(from));
}

export function commit(from: number, view: number, seq: number, headerHash: Uint8Array): Commit {
  return withSignature<Commit>({ type: 'commit', chainId: CHAIN, from, view, seq, headerHash }, sign(from));
}

export function checkpoint(from: number, seq: number, headerHash: Uint8Array): Checkpoint {
  return withSignature<Checkpoint>({ type: 'checkpoint', chainId: CHAIN, from, seq, headerHash }, sign(from));
}

export function proof(seq: number, headerHash: Uint8Array, who = [0, 1, 2]): CheckpointProof {
  if (seq === 0) return { seq: 0, headerHash: SIM_GENESIS_HASH, signatures: [] };
  const body = checkpointBody(CHAIN, seq, headerHash);
  return {
    seq,
    headerHash,
    signatures: who.map((v) => ({ validator: v, signature: sign(v)(Domain.checkpoint, body) })),
  };
}

export function preparedCert(
  view: number,
  seq: number,
  digest: Uint8Array,
  who = [1, 2, 3],
): PreparedCertificate {
  const primary = view % 4;
  return {
    view,
    seq,
    digest,
    prePrepareSignature: sign(primary)(Domain.prePrepare, prePrepareBody(CHAIN, view, seq, digest)),
    prepares: who
      .filter((v) => v !== primary)
      .slice(0, 2)
      .map((v) => ({
        validator: v,
        signature: sign(v)(Domain.prepare, prepareBody(CHAIN, view, seq, digest)),
      })),
  };
}

export function viewChange(
  from: number,
  newView: number,
  cp: CheckpointProof = proof(0, SIM_GENESIS_HASH),
  prepared: PreparedCertificate[] = [],
): ViewChange {
  return withSignature<ViewChange>(
    { type: 'viewChange', chainId: CHAIN, from, newView, checkpoint: cp, prepared },
    sign(from),
  );
}

/** A correct NEW-VIEW for `view` from its primary over `vcs`. */
export function newView(view: number, vcs: ViewChange[]): NewView {
  const primary = view % 4;
  const plan = planNewView(ctx, view, vcs);
  return withSignature<NewView>(
    {
      type: 'newView',
      chainId: CHAIN,
      from: primary,
      view,
      viewChanges: [...vcs].sort((a, b) => a.from - b.from),
      prePrepares: plan.entries.map((e) => ({
        seq: e.seq,
        digest: e.digest,
        signature: sign(primary)(Domain.prePrepare, prePrepareBody(CHAIN, view, e.seq, e.digest)),
      })),
    },
    sign(primary),
  );
}

export function commitSignature(from: number, view: number, seq: number, hash: Uint8Array): Uint8Array {
  return sign(from)(Domain.commit, commitVoteBody(CHAIN, view, seq, hash));
}

/** A commit certificate for (view, seq, hash) from `who`, as a peer's sync status carries it. */
export function commitCert(seq: number, hash: Uint8Array, view = 0, who = [0, 2, 3]): CommitCertificate {
  return {
    height: seq,
    view,
    headerHash: hash,
    signatures: who.map((v) => ({ validator: v, signature: commitSignature(v, view, seq, hash) })),
  };
}

export const msg = (message: ConsensusMessage, now = T0): Input => ({ now, type: 'message', message });

export function drops(outputs: Output[]): string[] {
  return outputs.flatMap((o) => (o.type === 'dropped' ? [o.reason] : []));
}

export function sent(outputs: Output[]): Output[] {
  return outputs.filter((o) => o.type === 'broadcast' || o.type === 'send');
}

export function find<T extends Output['type']>(
  outputs: Output[],
  type: T,
): Extract<Output, { type: T }> | undefined {
  return outputs.find((o) => o.type === type) as Extract<Output, { type: T }> | undefined;
}

/** A fake header hash for the block built at `seq`. */
export function hashFor(seq: number, tag = 'a'): Uint8Array {
  const h = new Uint8Array(32);
  h[0] = seq;
  h[1] = tag.charCodeAt(0);
  return h;
}

/**
 * Drives backup `r` (validator 1 by default) through committing seq `seq` in `view` with batch `b`: the
 * PRE-PREPARE, PREPAREs from two others, the built block, and COMMITs from two others. Returns all outputs.
 */
export function commitThrough(
  r: Replica,
  seq: number,
  b: Batch,
  view = 0,
  hash = hashFor(seq),
  now = T0,
): Output[] {
  const out: Output[] = [];
  const primary = view % 4;
  const others = [0, 1, 2, 3].filter((v) => v !== primary && v !== r.status().primary && v !== selfOf(r));
  const d = batchDigest(b);
  if (selfOf(r) !== primary) out.push(...r.step(msg(pp(seq, b, view), now)));
  for (const v of others.slice(0, 2)) out.push(...r.step(msg(prepare(v, view, seq, d), now)));
  out.push(...r.step({ now, type: 'blockBuilt', seq, digest: d, headerHash: hash }));
  const voters = [0, 1, 2, 3].filter((v) => v !== selfOf(r)).slice(0, 2);
  for (const v of voters) out.push(...r.step(msg(commit(v, view, seq, hash), now)));
  return out;
}

function selfOf(r: Replica): number {
  return (r as unknown as { state: { self: number } }).state.self;
}
