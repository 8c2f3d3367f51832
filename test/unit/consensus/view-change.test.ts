import { describe, expect, it } from 'vitest';
import { nullDigest, planNewView } from '../../../src/consensus/view-change.ts';
import { batchDigest } from '../../../src/core/batch.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { batch, ctx, hashFor, preparedCert, proof, tx, viewChange } from './helpers.ts';

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
