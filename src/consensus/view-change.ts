/**
 * The NEW-VIEW rule, shared by the new primary (to build it) and the backups (to recompute and check it).
 *
 * From a quorum of VIEW-CHANGEs for view v:
 * - min-s is the highest stable checkpoint among them (ties: the smallest header hash, so the choice is a
 *   function of the set alone);
 * - max-s is the highest seq of any prepared certificate in them;
 * - every seq in (min-s, max-s] is re-issued in view v: with the digest of its prepared certificate of the
 *   highest view (ties: the smallest digest), or, if none, with the null batch of view v.
 * A backup accepts a NEW-VIEW only if its re-issued PRE-PREPAREs equal this recomputation exactly.
 */
import { batchDigest, nullBatch } from '../core/batch.ts';
import { compareBytes, equalBytes, toHex } from '../core/bytes.ts';
import { Domain } from '../core/crypto.ts';
import { primaryOf, type QuorumContext, verifyFrom, verifyViewChange } from './certificates.ts';
import { DropReason, drop } from './errors.ts';
import {
  type CheckpointProof,
  type NewView,
  prePrepareBody,
  signedPart,
  type ViewChange,
} from './messages.ts';

export interface PlannedEntry {
  seq: number;
  digest: Uint8Array;
  /** True when the seq is filled with the null batch of the new view. */
  isNull: boolean;
}

export interface NewViewPlan {
  view: number;
  checkpoint: CheckpointProof;
  entries: PlannedEntry[];
}

export function nullDigest(ctx: QuorumContext, view: number): Uint8Array {
  return batchDigest(nullBatch(primaryOf(ctx, view), view), ctx.suite);
}

/** Computes the re-issued PRE-PREPAREs from already-verified VIEW-CHANGEs for `view`. */
export function planNewView(ctx: QuorumContext, view: number, vcs: readonly ViewChange[]): NewViewPlan {
  let checkpoint: CheckpointProof | undefined;
  for (const vc of vcs) {
    const c = vc.checkpoint;
    if (
      checkpoint === undefined ||
      c.seq > checkpoint.seq ||
      (c.seq === checkpoint.seq && compareBytes(c.headerHash, checkpoint.headerHash) < 0)
    ) {
      checkpoint = c;
    }
  }
  if (checkpoint === undefined) throw new RangeError('planNewView needs at least one view change');
  const minS = checkpoint.seq;
  const best = new Map<number, { view: number; digest: Uint8Array }>();
  let maxS = minS;
  for (const vc of vcs) {
    for (const c of vc.prepared) {
      if (c.seq <= minS) continue;
      const cur = best.get(c.seq);
      if (
        cur === undefined ||
        c.view > cur.view ||
        (c.view === cur.view && compareBytes(c.digest, cur.digest) < 0)
      ) {
        best.set(c.seq, { view: c.view, digest: c.digest });
      }
      if (c.seq > maxS) maxS = c.seq;
    }
  }
  const nd = nullDigest(ctx, view);
  const entries: PlannedEntry[] = [];
  for (let seq = minS + 1; seq <= maxS; seq++) {
    const b = best.get(seq);
    entries.push(b ? { seq, digest: b.digest, isNull: false } : { seq, digest: nd, isNull: true });
  }
  return { view, checkpoint, entries };
}

/**
 * Checks a NEW-VIEW completely: sender is the view's primary, its signature, a quorum of valid VIEW-CHANGEs
 * for this view from distinct validators, and re-issued PRE-PREPAREs that equal the recomputed plan and are
 * signed by the primary. Returns the plan. Throws a drop otherwise.
 */
export function verifyNewView(ctx: QuorumContext, nv: NewView): NewViewPlan {
  const primary = primaryOf(ctx, nv.view);
  if (nv.from !== primary) throw drop(DropReason.notPrimary, `NEW-VIEW for ${nv.view} from ${nv.from}`);
  const { domain, body } = signedPart(nv);
  if (!verifyFrom(ctx, nv.from, domain, body, nv.signature)) {
    throw drop(DropReason.badSignature, `NEW-VIEW for ${nv.view}: bad signature`);
  }
  if (nv.viewChanges.length < ctx.q) {
    throw drop(DropReason.badNewView, `NEW-VIEW has ${nv.viewChanges.length} view changes, quorum ${ctx.q}`);
  }
  for (const vc of nv.viewChanges) {
    if (vc.newView !== nv.view) {
      throw drop(DropReason.badNewView, `NEW-VIEW for ${nv.view} holds a view change for ${vc.newView}`);
    }
    try {
      verifyViewChange(ctx, vc);
    } catch (err) {
      throw drop(DropReason.badNewView, `NEW-VIEW holds an invalid view change: ${(err as Error).message}`);
    }
  }
  const plan = planNewView(ctx, nv.view, nv.viewChanges);
  if (plan.entries.length !== nv.prePrepares.length) {
    throw drop(
      DropReason.newViewMismatch,
      `NEW-VIEW re-issues ${nv.prePrepares.length} seqs, recomputed ${plan.entries.length}`,
    );
  }
  for (let i = 0; i < plan.entries.length; i++) {
    const want = plan.entries[i]!;
    const got = nv.prePrepares[i]!;
    if (got.seq !== want.seq || !equalBytes(got.digest, want.digest)) {
      throw drop(
        DropReason.newViewMismatch,
        `NEW-VIEW re-issues seq ${got.seq} digest ${toHex(got.digest).slice(0, 12)}, recomputed seq ${want.seq} ` +
          `digest ${toHex(want.digest).slice(0, 12)}`,
      );
    }
    const ppBody = prePrepareBody(ctx.chainId, nv.view, got.seq, got.digest);
    if (!verifyFrom(ctx, primary, Domain.prePrepare, ppBody, got.signature)) {
      throw drop(DropReason.badSignature, `NEW-VIEW re-issued seq ${got.seq}: bad signature`);
    }
  }
  return plan;
}
