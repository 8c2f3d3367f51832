/**
 * The hash-tree renewal stamps of a ledger and their timestamp renewals (ADR 018), from its anchor records. A
 * stamp under H' starts one new chain that every document it covers shares; a stamp renewal under H' with
 * `upTo` U renews every stamp under H' anchored at or below U, with one leaf per stamp covering its token and
 * the earlier stamp renewals that covered it (as archives and their renewals, archives.ts, but per hash).
 * The renewal job and exports both derive from this one module, so what the node stamps is what it exports.
 */
import type { AnchorRecord, StampRenewal } from '../core/anchor.ts';
import { equalBytes } from '../core/bytes.ts';
import type { RenewalHashAlg } from '../core/hash-renewal.ts';
import { ersDigest, indexedTree, listHash, rootOf } from '../timestamp/ers-tree.ts';

export interface StampHistory {
  /** Every stamp, by its anchor's anchored height, in chain order. */
  stamps: { height: number; hashAlg: RenewalHashAlg; token: Uint8Array }[];
  /** Every stamp renewal, in chain order. */
  renewals: StampRenewal[];
}

export function stampHistory(anchors: readonly AnchorRecord[]): StampHistory {
  const out: StampHistory = { stamps: [], renewals: [] };
  for (const a of anchors) {
    if (a.hashRenewal !== undefined) {
      out.stamps.push({ height: a.height, hashAlg: a.hashRenewal.hashAlg, token: a.hashRenewal.token });
    }
    out.renewals.push(...(a.stampRenewals ?? []));
  }
  return out;
}

/**
 * The leaves of a stamp renewal under `alg` covering the stamps anchored up to `upTo`, made after the first
 * `count` stamp renewals (all kinds, in chain order).
 */
export function stampRenewalLeaves(
  h: StampHistory,
  alg: RenewalHashAlg,
  upTo: number,
  count = h.renewals.length,
): Uint8Array[] {
  const earlier = h.renewals.slice(0, count).filter((r) => r.hashAlg === alg);
  return h.stamps
    .filter((s) => s.hashAlg === alg && s.height <= upTo)
    .map((s) => {
      const tokens = [s.token, ...earlier.filter((r) => r.upTo >= s.height).map((r) => r.token)];
      return listHash(
        alg,
        tokens.map((t) => ersDigest(alg, t)),
      );
    });
}

/** The H' root a stamp renewal covering the stamps under `alg` anchored up to `upTo` takes now; undefined: none. */
export function stampRenewalRoot(h: StampHistory, alg: RenewalHashAlg, upTo: number): Uint8Array | undefined {
  const leaves = stampRenewalLeaves(h, alg, upTo);
  return leaves.length === 0 ? undefined : rootOf(indexedTree(alg, leaves).levels);
}

/**
 * The stamp renewals covering the stamp under `alg` anchored at `height`, with their leaves, in order, up to
 * the first whose recorded root is not the root of its leaves (a faulty primary's): the chain cannot pass it.
 */
export function stampRenewalsOf(h: StampHistory, alg: RenewalHashAlg, height: number) {
  const out: { leaves: Uint8Array[]; token: Uint8Array }[] = [];
  for (const [i, r] of h.renewals.entries()) {
    if (r.hashAlg !== alg || r.upTo < height) continue;
    const leaves = stampRenewalLeaves(h, alg, r.upTo, i);
    if (leaves.length === 0 || !equalBytes(rootOf(indexedTree(alg, leaves).levels), r.root)) break;
    out.push({ leaves, token: r.token });
  }
  return out;
}

/** The newest token of each stamp's chain: what the renewal policy judges. */
export function newestStampTokens(h: StampHistory): Uint8Array[] {
  return h.stamps.map((s) => {
    const covering = h.renewals.filter((r) => r.hashAlg === s.hashAlg && r.upTo >= s.height);
    return covering.at(-1)?.token ?? s.token;
  });
}
