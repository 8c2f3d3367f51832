import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareBytes, concatBytes, toHex } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { evidenceRecord } from '../../../src/timestamp/ers.ts';
import { decodeEvidenceRecord, encodeEvidenceRecord } from '../../../src/timestamp/ers-asn1.ts';
import { buildLevels, recoverRoot, reduce, rootOf } from '../../../src/timestamp/ers-tree.ts';
import { verifyEvidenceRecord } from '../../../src/timestamp/ers-verify.ts';
import {
  type ArchiveFixture,
  archiveFixture,
  docs,
  FIRST_EXPIRY,
  hashTreeRenewed,
  RENEWED_AT,
  sha256Of,
  unrenewed,
} from '../../helpers/ers.ts';
import { DAY, T0 } from '../../helpers/tsa.ts';

/** RFC 4998 4.2 written out directly: sorted distinct leaves, pairs hashed in ascending order, odd carried up. */
function referenceRoot(leaves: Uint8Array[]): Uint8Array {
  let level = [...new Map(leaves.map((l) => [toHex(l), l])).values()].sort(compareBytes);
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const pair = level.slice(i, i + 2).sort(compareBytes);
      up.push(pair.length === 1 ? pair[0]! : sha256(concatBytes(...pair)));
    }
    level = up;
  }
  return level[0]!;
}

describe('ERS hash trees', () => {
  it('every leaf reduces to a tree that recovers the root; the root matches RFC 4998 written out', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 40 }),
        (leaves) => {
          const levels = buildLevels('sha256', leaves);
          expect(rootOf(levels)).toEqual(referenceRoot(leaves));
          for (const leaf of leaves) {
            const tree = reduce(levels, leaf)!;
            expect(tree[0]).toContainEqual(leaf);
            expect(tree.slice(1).every((list) => list.length === 1)).toBe(true);
            expect(recoverRoot('sha256', tree, leaf)).toEqual(rootOf(levels));
          }
        },
      ),
    );
  });

  it("a hash that is not a leaf has no reduced tree, and recovers nothing from another leaf's", () => {
    const leaves = docs.map(sha256Of);
    const levels = buildLevels('sha256', leaves);
    const stranger = sha256(new Uint8Array([1]));
    expect(reduce(levels, stranger)).toBeUndefined();
    expect(recoverRoot('sha256', reduce(levels, leaves[0]!)!, stranger)).toBeUndefined();
  });
});

describe('evidence records', () => {
  let fx: ArchiveFixture;
  beforeAll(async () => {
    fx = await archiveFixture();
  });
  const trust = () => ({ trustAnchors: [fx.pki.root] });
  const first = () => unrenewed(fx);

  it('encode and decode round-trip: version 1, SHA-256, one chain, the reduced tree and the token', () => {
    const der = evidenceRecord(sha256Of(docs[2]!), first(), [fx.pki.root.der]);
    const r = decodeEvidenceRecord(der);
    expect(r.digestAlgs).toEqual(['sha256']);
    // The trust anchor given, then the TSA certificate the token embeds.
    expect(r.certificates).toEqual([fx.pki.root.der, fx.pki.tsa.der]);
    expect(r.chains).toHaveLength(1);
    expect(r.chains[0]![0]!.timeStamp).toEqual(fx.token);
    expect(r.chains[0]![0]!.reducedHashtree![0]).toContainEqual(sha256Of(docs[2]!));
    expect(encodeEvidenceRecord(r)).toEqual(der);
  });

  it('prove each document at the archive time; a document not archived, or a time past expiry, fails', () => {
    for (const doc of docs) {
      const der = evidenceRecord(sha256Of(doc), first());
      const v = verifyEvidenceRecord(der, { document: { data: doc }, ...trust(), at: new Date(T0 + DAY) });
      expect(v.ok, v.ok ? '' : v.reason).toBe(true);
      if (v.ok) expect(v.provenAt.getTime()).toBe(T0);
    }
    const der = evidenceRecord(sha256Of(docs[0]!), first());
    // A sibling leaf shares the first list, and the record protects it too (RFC 4998 4.3): use a stranger.
    const stranger = new TextEncoder().encode('a document no archive covers\n');
    const other = verifyEvidenceRecord(der, { document: { data: stranger }, ...trust(), at: new Date(T0) });
    expect(other.ok).toBe(false);
    if (!other.ok) expect(other.reason).toMatch(/not in the first list/);
    const late = verifyEvidenceRecord(der, {
      document: { data: docs[0]! },
      ...trust(),
      at: new Date(FIRST_EXPIRY + DAY),
    });
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.reason).toMatch(/not renewed in time/);
    const early = verifyEvidenceRecord(der, {
      document: { data: docs[0]! },
      ...trust(),
      at: new Date(T0 - 1),
    });
    expect(early.ok).toBe(false);
    if (!early.ok) expect(early.reason).toMatch(/made after/);
  });

  it('a renewed record proves the document after the first certificate expired', () => {
    const der = evidenceRecord(sha256Of(docs[3]!), fx);
    const at = new Date(FIRST_EXPIRY + 100 * DAY);
    const v = verifyEvidenceRecord(der, { document: { sha256: sha256Of(docs[3]!) }, ...trust(), at });
    expect(v.ok, v.ok ? '' : v.reason).toBe(true);
    if (!v.ok) return;
    expect(v.provenAt.getTime()).toBe(T0);
    expect(v.steps.map((s) => s.genTime.getTime())).toEqual([T0, RENEWED_AT]);
    expect(v.renewBefore.getTime()).toBeGreaterThan(at.getTime());
  });

  it('refuses a renewal token over another root, and a record whose bytes are edited', () => {
    // The renewal's tree is right, but its token is the archive's own, over another root.
    const swapped = evidenceRecord(sha256Of(docs[3]!), {
      ...unrenewed(fx),
      renewals: [{ ...fx.renewals[0]!, token: fx.token }],
    });
    const v = verifyEvidenceRecord(swapped, { document: { data: docs[3]! }, ...trust(), at: new Date(T0) });
    expect(v.ok).toBe(false);
    const der = evidenceRecord(sha256Of(docs[3]!), fx);
    const passing: number[] = [];
    // Every fifth byte keeps the test quick; all framing, tree and token regions are hit.
    for (let i = 0; i < der.length; i += 5) {
      const edited = der.slice();
      edited[i]! ^= 0x01;
      const r = verifyEvidenceRecord(edited, { document: { data: docs[3]! }, ...trust(), at: new Date(T0) });
      if (r.ok) passing.push(i);
    }
    expect(passing).toEqual([]);
  });

  it('a hash-tree renewal (a SHA-512 chain over the document and the earlier chains) verifies with the document', async () => {
    const der = await hashTreeRenewed(fx, docs[1]!, RENEWED_AT + 10 * DAY);
    const at = new Date(FIRST_EXPIRY + 200 * DAY);
    const v = verifyEvidenceRecord(der, { document: { data: docs[1]! }, ...trust(), at });
    expect(v.ok, v.ok ? '' : v.reason).toBe(true);
    if (v.ok)
      expect(v.steps.map((s) => [s.chain, s.hashAlg])).toEqual([
        [0, 'sha256'],
        [0, 'sha256'],
        [1, 'sha512'],
      ]);
    // The SHA-512 chain needs the document itself, and covers only it.
    const hashOnly = verifyEvidenceRecord(der, { document: { sha256: sha256Of(docs[1]!) }, ...trust(), at });
    expect(hashOnly.ok).toBe(false);
    if (!hashOnly.ok) expect(hashOnly.reason).toMatch(/needs the document itself/);
    expect(verifyEvidenceRecord(der, { document: { data: docs[2]! }, ...trust(), at }).ok).toBe(false);
  });
});
