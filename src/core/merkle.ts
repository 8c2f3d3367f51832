/**
 * RFC 9162 (Certificate Transparency v2) Merkle trees over the chain's hash (SHA-256, or SM3 on an `sm2-sm3`
 * chain: every function takes the genesis' crypto suite, default Ed25519/SHA-256, ADR 014):
 *   leaf = H(0x00 || data), node = H(0x01 || left || right), empty tree = H().
 * The tree splits at the largest power of two below n, which is the same as building it bottom-up and
 * promoting a lone last node unchanged; we build it that way. Inclusion proofs verify from the root alone.
 */
import { equalBytes } from './bytes.ts';
import { type CryptoSuite, ED25519_SHA256 } from './crypto-suite.ts';

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

export function leafHash(data: Uint8Array, suite: CryptoSuite = ED25519_SHA256): Uint8Array {
  return suite.hash(LEAF, data);
}

export function nodeHash(
  left: Uint8Array,
  right: Uint8Array,
  suite: CryptoSuite = ED25519_SHA256,
): Uint8Array {
  return suite.hash(NODE, left, right);
}

/** All levels, from the leaf hashes (levels[0]) up to the root (the single entry of the last level). */
function buildLevels(leaves: readonly Uint8Array[], suite: CryptoSuite): Uint8Array[][] {
  const levels: Uint8Array[][] = [leaves.map((l) => leafHash(l, suite))];
  while (levels[levels.length - 1]!.length > 1) {
    const prev = levels[levels.length - 1]!;
    const next: Uint8Array[] = [];
    for (let i = 0; i < prev.length; i += 2) {
      next.push(i + 1 < prev.length ? nodeHash(prev[i]!, prev[i + 1]!, suite) : prev[i]!);
    }
    levels.push(next);
  }
  return levels;
}

export function merkleRoot(leaves: readonly Uint8Array[], suite: CryptoSuite = ED25519_SHA256): Uint8Array {
  if (leaves.length === 0) return suite.hash();
  const levels = buildLevels(leaves, suite);
  return levels[levels.length - 1]![0]!;
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  /** Sibling hashes from the leaf level upwards (RFC 9162 inclusion path). */
  path: Uint8Array[];
}

export function inclusionProof(
  leaves: readonly Uint8Array[],
  leafIndex: number,
  suite: CryptoSuite = ED25519_SHA256,
): InclusionProof {
  if (!Number.isInteger(leafIndex) || leafIndex < 0 || leafIndex >= leaves.length) {
    throw new RangeError(`leaf index ${leafIndex} outside tree of size ${leaves.length}`);
  }
  const levels = buildLevels(leaves, suite);
  const path: Uint8Array[] = [];
  let i = leafIndex;
  for (let l = 0; l < levels.length - 1; l++) {
    const level = levels[l]!;
    const sibling = i ^ 1;
    if (sibling < level.length) path.push(level[sibling]!);
    i >>= 1;
  }
  return { leafIndex, treeSize: leaves.length, path };
}

/** RFC 9162 section 2.1.3.2: recomputes the root from the leaf and its path. */
export function rootFromProof(
  data: Uint8Array,
  proof: InclusionProof,
  suite: CryptoSuite = ED25519_SHA256,
): Uint8Array | undefined {
  const { leafIndex, treeSize, path } = proof;
  if (
    !Number.isSafeInteger(leafIndex) ||
    !Number.isSafeInteger(treeSize) ||
    leafIndex < 0 ||
    leafIndex >= treeSize
  ) {
    return undefined;
  }
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash(data, suite);
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r, suite);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p, suite);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

export function verifyInclusion(
  data: Uint8Array,
  proof: InclusionProof,
  root: Uint8Array,
  suite: CryptoSuite = ED25519_SHA256,
): boolean {
  const r = rootFromProof(data, proof, suite);
  return r !== undefined && equalBytes(r, root);
}
