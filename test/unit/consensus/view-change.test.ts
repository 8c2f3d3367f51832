import { describe, expect, it } from 'vitest';
import { DropReason } from '../../../src/consensus/errors.ts';
import { type NewView, prePrepareBody, withSignature } from '../../../src/consensus/messages.ts';
import { nullDigest, planNewView, verifyNewView } from '../../../src/consensus/view-change.ts';
import { batchDigest } from '../../../src/core/batch.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { Domain } from '../../../src/core/crypto.ts';
import {
  batch,
  CHAIN,
  ctx,
  hashFor,
  newView,
  preparedCert,
  proof,
  signers,
  tx,
  viewChange,
} from './helpers.ts';

const d = (k: number) => batchDigest(batch([tx(k)]));
const hexes = (entries: { seq: number; digest: Uint8Array }[]) =>
  entries.map((e) => [e.seq, toHex(e.digest)]);

describe('planNewView', () => {
  it('re-issues the prepared certificate of the highest view for each seq and fills gaps with null', () => {
    const vcs = [
      viewChange(0, 5, proof(2, hashFor(2)), [preparedCert(1, 3, d(1)), preparedCert(1, 5, d(5))]),
      viewChange(1, 5, proof(2, hashFor(2)), [preparedCert(3, 3, d(3))]),
      viewChange(2, 5, proof(0, new Uint8Array(32))),
    ];
    const plan = planNewView(ctx, 5, vcs);
    expect(plan.checkpoint.seq).toBe(2);
    expect(hexes(plan.entries)).toEqual([
      [3, toHex(d(3))],
      [4, toHex(nullDigest(ctx, 5))],
      [5, toHex(d(5))],
    ]);
    expect(plan.entries.map((e) => e.isNull)).toEqual([false, true, false]);
  });

  it('starts after the highest stable checkpoint and ignores certificates below it', () => {
    const vcs = [
      viewChange(0, 2, proof(4, hashFor(4)), [preparedCert(1, 5, d(5))]),
      viewChange(1, 2, proof(2, hashFor(2)), [preparedCert(1, 3, d(3))]),
      viewChange(3, 2, proof(2, hashFor(2))),
    ];
    const plan = planNewView(ctx, 2, vcs);
    expect(plan.checkpoint.seq).toBe(4);
    expect(hexes(plan.entries)).toEqual([[5, toHex(d(5))]]);
  });

  it('depends on the set of VIEW-CHANGEs only, not on their order', () => {
    const vcs = [
      viewChange(0, 3, undefined, [preparedCert(1, 1, d(1))]),
      viewChange(1, 3, undefined, [preparedCert(1, 1, d(2))]),
      viewChange(2, 3, undefined, [preparedCert(0, 2, d(3))]),
    ];
    const a = planNewView(ctx, 3, vcs);
    const b = planNewView(ctx, 3, [...vcs].reverse());
    expect(hexes(b.entries)).toEqual(hexes(a.entries));
  });
});

/** `nv` with fields replaced and signed again by `from` (its primary unless said otherwise). */
function resigned(nv: NewView, fields: Partial<NewView>, from = nv.from): NewView {
  return withSignature<NewView>({ ...nv, ...fields, from }, (dm, b) => signers[from]!.sign(dm, b));
}

describe('verifyNewView', () => {
  const d1 = d(1);
  const vcs = [viewChange(0, 1, undefined, [preparedCert(0, 1, d1)]), viewChange(2, 1), viewChange(3, 1)];
  const honest = newView(1, vcs);
  const rejects = (nv: NewView, code: DropReason, message: RegExp) =>
    expect(() => verifyNewView(ctx, nv)).toThrow(
      expect.objectContaining({ code, message: expect.stringMatching(message) }),
    );

  it('accepts the NEW-VIEW recomputed from its VIEW-CHANGEs', () => {
    expect(hexes(verifyNewView(ctx, honest).entries)).toEqual([[1, toHex(d1)]]);
  });

  it('rejects a re-issued seq whose digest differs from the recomputed one, even when signed by the primary', () => {
    const other = nullDigest(ctx, 1);
    const signature = signers[1]!.sign(Domain.prePrepare, prePrepareBody(CHAIN, 1, 1, other));
    const swapped = resigned(honest, { prePrepares: [{ seq: 1, digest: other, signature }] });
    rejects(swapped, DropReason.newViewMismatch, /re-issues seq 1 digest/);
  });

  it('needs a quorum of VIEW-CHANGEs, all for its view', () => {
    rejects(resigned(honest, { viewChanges: vcs.slice(0, 2) }), DropReason.badNewView, /quorum 3/);
    // Valid VIEW-CHANGEs, but one asks for view 1: it is no vote for view 2.
    const mixed = newView(2, [viewChange(0, 2), viewChange(1, 2), viewChange(3, 1)]);
    rejects(mixed, DropReason.badNewView, /holds a view change for 1/);
  });

  it('comes from the primary of its view', () => {
    rejects(resigned(honest, {}, 2), DropReason.notPrimary, /NEW-VIEW for 1 from 2/);
  });
});
