/** The ERS test vector of docs/long-term.md is what the code computes: the page and the code cannot drift. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { encodeEvidenceRecord } from '../../../src/timestamp/ers-asn1.ts';
import { buildLevels, reduce, rootOf } from '../../../src/timestamp/ers-tree.ts';
import { repoRoot } from '../../helpers/tsa.ts';

function vectorLines(): string[] {
  const page = readFileSync(join(repoRoot, 'docs/long-term.md'), 'utf8');
  const block = /<!-- ers-vector -->\n```\n([\s\S]*?)```/.exec(page);
  if (block === null) throw new Error('docs/long-term.md has no ers-vector block');
  return block[1]!.trim().split('\n');
}

const hexes = (line: string) => line.match(/\b[0-9a-f]{64}\b/g) ?? [];

describe('docs/long-term.md test vector', () => {
  it('lists the leaves, root, reduced tree and record the code computes', () => {
    const lines = vectorLines();
    const leaves = [0, 1, 2, 3, 4].map((i) => sha256(utf8.encode(`document ${i}`)));
    for (const [i, leaf] of leaves.entries()) {
      expect(hexes(lines.find((l) => l.startsWith(`leaf document ${i} `))!)).toEqual([toHex(leaf)]);
    }
    const levels = buildLevels('sha256', leaves);
    expect(hexes(lines.find((l) => l.startsWith('root '))!)).toEqual([toHex(rootOf(levels))]);
    const reduced = reduce(levels, leaves[0]!)!;
    const documented = lines.filter((l) => l.startsWith('reduced document 0')).map(hexes);
    expect(documented).toEqual(reduced.map((list) => list.map(toHex)));
    const der = encodeEvidenceRecord({
      digestAlgs: ['sha256'],
      certificates: [],
      revocationValues: undefined,
      chains: [[{ digestAlg: 'sha256', reducedHashtree: reduced, timeStamp: Uint8Array.of(0x30, 0) }]],
    });
    expect(lines.at(-1)).toBe(toHex(der));
  });
});
