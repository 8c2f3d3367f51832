/**
 * The mutant list stays usable without running any mutant: every original text occurs exactly once in its
 * file (a refactor that moves the code fails here, not silently in `npm run mutate`), every named test file
 * exists, and docs/testing.md shows exactly the table rendered from the list.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyMutant, listProblems, markdownTable, occurrences, TABLE_BEGIN, TABLE_END } from './list.ts';
import { MUTANTS, type Mutant } from './mutants.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the mutant list', () => {
  it('has at least 25 mutants, none stale', () => {
    expect(MUTANTS.length).toBeGreaterThanOrEqual(25);
    expect(listProblems(ROOT)).toEqual([]);
  });

  it('names only test files that exist and that npm test runs', () => {
    for (const m of MUTANTS) {
      for (const t of m.tests) {
        expect(existsSync(join(ROOT, t)), `${m.id}: ${t}`).toBe(true);
        expect(t, `${m.id}: ${t}`).toMatch(/^test\/(?!cluster\/full\/).*\.test\.ts$/);
      }
    }
  });

  it('reports a stale or ambiguous original instead of skipping it', () => {
    const stale: Mutant = { ...MUTANTS[0]!, id: 'stale', original: 'no such text in the file' };
    expect(listProblems(ROOT, [stale])).toEqual([
      `stale: the original text occurs 0 times in ${stale.file} (stale list)`,
    ]);
    expect(() => applyMutant('a a', { ...stale, original: 'a' })).toThrow(/stale/);
    expect(occurrences('abab', 'ab')).toBe(2);
  });

  it('applies a mutant by replacing exactly its original', () => {
    const m: Mutant = { ...MUTANTS[0]!, original: 'x < q', replacement: 'x < q - 1' };
    expect(applyMutant('if (x < q) return;', m)).toBe('if (x < q - 1) return;');
  });

  it('is the table docs/testing.md shows', () => {
    const doc = readFileSync(join(ROOT, 'docs/testing.md'), 'utf8');
    const begin = doc.indexOf(TABLE_BEGIN);
    const end = doc.indexOf(TABLE_END);
    expect(begin, 'docs/testing.md lacks the mutant table markers').toBeGreaterThan(-1);
    expect(doc.slice(begin + TABLE_BEGIN.length, end).trim()).toBe(markdownTable());
  });
});
