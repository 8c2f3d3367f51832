/**
 * RFC 4998 hash trees (section 4.2). A node's hash is the hash of its children's hashes concatenated in
 * ascending binary order, so a proof needs no left/right flags; unlike RFC 9162, there are no leaf or node
 * prefixes. Trees are binary over the sorted, distinct leaves; an odd node is carried up unhashed. This is the
 * shape BouncyCastle's ERS code builds and reads (a reduced tree whose lists after the first hold one sibling
 * each), so either side can check the other's records.
 */
import { compareBytes, concatBytes, equalBytes, toHex } from '../core/bytes.ts';
import { digest } from '../core/crypto.ts';
import type { HashAlg } from './oids.ts';

/** The reduced hash tree: the first list holds the leaf and its sibling, each later list one sibling. */
export type ReducedHashtree = Uint8Array[][];

/** Browser-safe (core/crypto.ts): receipts carry evidence records too (ADR 013). */
export function ersDigest(alg: HashAlg, ...parts: Uint8Array[]): Uint8Array {
  return digest(alg, ...parts);
}

/** A list's hash: one value stands for itself; more are sorted, concatenated and hashed. */
export function listHash(alg: HashAlg, values: readonly Uint8Array[]): Uint8Array {
  if (values.length === 1) return values[0]!;
  return ersDigest(alg, concatBytes(...[...values].sort(compareBytes)));
}

/** Every level of the tree over `leaves`, bottom first; the last level holds the root alone. */
export function buildLevels(alg: HashAlg, leaves: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0) throw new RangeError('an ERS hash tree needs at least one leaf');
  const sorted = [...leaves].sort(compareBytes).filter((v, i, a) => i === 0 || !equalBytes(v, a[i - 1]!));
  const levels = [sorted];
  for (let level = sorted; level.length > 1; ) {
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) up.push(listHash(alg, [level[i]!, level[i + 1]!]));
    if (level.length % 2 === 1) up.push(level[level.length - 1]!);
    levels.push(up);
    level = up;
  }
  return levels;
}

export function rootOf(levels: readonly Uint8Array[][]): Uint8Array {
  return levels[levels.length - 1]![0]!;
}

/** A built tree with its leaves' positions, for many reductions (a renewal tree, reused across exports). */
export interface IndexedTree {
  levels: Uint8Array[][];
  /** Position in `levels[0]` by the leaf's hex. */
  position: Map<string, number>;
}

export function indexedTree(alg: HashAlg, leaves: readonly Uint8Array[]): IndexedTree {
  const levels = buildLevels(alg, leaves);
  return { levels, position: new Map(levels[0]!.map((v, i) => [toHex(v), i])) };
}

/**
 * The reduced hash tree from `leaf` to the root, or undefined when `leaf` is not in the tree. With `position`
 * (an IndexedTree's), finding the leaf costs a lookup instead of a scan.
 */
export function reduce(
  levels: readonly Uint8Array[][],
  leaf: Uint8Array,
  position?: ReadonlyMap<string, number>,
): ReducedHashtree | undefined {
  let index = position ? (position.get(toHex(leaf)) ?? -1) : levels[0]!.findIndex((v) => equalBytes(v, leaf));
  if (index < 0) return undefined;
  const first = [leaf];
  const out: ReducedHashtree = [first];
  for (let l = 0; l < levels.length - 1; l++) {
    const sibling = levels[l]![index ^ 1];
    // The odd node of a level has no sibling: it is carried up as it is.
    if (sibling !== undefined) {
      if (l === 0) first.push(sibling);
      else out.push([sibling]);
    }
    index >>= 1;
  }
  return out;
}

/**
 * The root a reduced tree leads to from `leaf` (RFC 4998 4.3): the leaf must be in the first list; each later
 * list is hashed together with the value so far. Undefined when the leaf is not in the first list.
 */
export function recoverRoot(alg: HashAlg, tree: ReducedHashtree, leaf: Uint8Array): Uint8Array | undefined {
  const [first, ...rest] = tree;
  if (first === undefined || !first.some((v) => equalBytes(v, leaf))) return undefined;
  let h = listHash(alg, first);
  for (const list of rest) h = listHash(alg, [h, ...list]);
  return h;
}
