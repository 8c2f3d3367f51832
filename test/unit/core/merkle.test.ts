import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import {
  inclusionProof,
  leafHash,
  merkleRoot,
  nodeHash,
  rootFromProof,
  verifyInclusion,
} from '../../../src/core/merkle.ts';

const leaves = (n: number) => Array.from({ length: n }, (_, i) => utf8.encode(`leaf-${i}`));

/** RFC 9162 section 2.1.1, written recursively as in the RFC, as an independent reference. */
function referenceRoot(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256();
  if (d.length === 1) return leafHash(d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return nodeHash(referenceRoot(d.slice(0, k)), referenceRoot(d.slice(k)));
}

describe('RFC 9162 Merkle tree', () => {
  it('matches the recursive definition for sizes 0..70', () => {
    for (let n = 0; n <= 70; n++) expect(toHex(merkleRoot(leaves(n)))).toBe(toHex(referenceRoot(leaves(n))));
  });

  it('uses 0x00/0x01 domain separation and the empty-tree hash', () => {
    expect(toHex(merkleRoot([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const [a, b] = leaves(2) as [Uint8Array, Uint8Array];
    expect(merkleRoot([a])).toEqual(sha256(new Uint8Array([0]), a));
    expect(merkleRoot([a, b])).toEqual(sha256(new Uint8Array([1]), leafHash(a), leafHash(b)));
  });

  it('proves every leaf of every size up to 40, from the root alone', () => {
    for (let n = 1; n <= 40; n++) {
      const d = leaves(n);
      const root = merkleRoot(d);
      for (let i = 0; i < n; i++) expect(verifyInclusion(d[i]!, inclusionProof(d, i), root)).toBe(true);
    }
  });

  it('a single-leaf tree has an empty path', () => {
    const d = leaves(1);
    const proof = inclusionProof(d, 0);
    expect(proof.path).toHaveLength(0);
    expect(verifyInclusion(d[0]!, proof, merkleRoot(d))).toBe(true);
  });

  it('rejects tampered proofs: wrong leaf, index, size, path element, extra or missing element', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 33 }), fc.nat(), (n, seed) => {
        const d = leaves(n);
        const i = seed % n;
        const root = merkleRoot(d);
        const proof = inclusionProof(d, i);
        expect(verifyInclusion(utf8.encode('forged'), proof, root)).toBe(false);
        expect(verifyInclusion(d[i]!, { ...proof, leafIndex: (i + 1) % n }, root)).toBe(false);
        // The proof does not authenticate the tree size by itself (callers check it against the header's
        // tx count), but a size that does not fit the path's shape must fail.
        expect(verifyInclusion(d[i]!, { ...proof, treeSize: 1, leafIndex: 0 }, root)).toBe(false);
        expect(verifyInclusion(d[i]!, { ...proof, path: [...proof.path, sha256()] }, root)).toBe(false);
        if (proof.path.length > 0) {
          expect(verifyInclusion(d[i]!, { ...proof, path: proof.path.slice(1) }, root)).toBe(false);
          const path = proof.path.map((p) => p.slice());
          path[seed % path.length]![0]! ^= 1;
          expect(verifyInclusion(d[i]!, { ...proof, path }, root)).toBe(false);
        }
      }),
    );
  });

  it('rejects out-of-range indexes', () => {
    expect(rootFromProof(utf8.encode('x'), { leafIndex: 3, treeSize: 3, path: [] })).toBeUndefined();
    expect(rootFromProof(utf8.encode('x'), { leafIndex: -1, treeSize: 3, path: [] })).toBeUndefined();
    expect(() => inclusionProof(leaves(3), 3)).toThrow(RangeError);
  });

  it('a leaf cannot pose as an interior node (second-preimage resistance)', () => {
    const d = leaves(2);
    const interior = new Uint8Array([...leafHash(d[0]!), ...leafHash(d[1]!)]);
    expect(toHex(merkleRoot([interior]))).not.toBe(toHex(merkleRoot(d)));
  });
});
