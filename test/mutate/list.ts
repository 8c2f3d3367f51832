/**
 * Pure helpers over the mutant list: the stale check (every original occurs exactly once in its file), applying
 * a mutant to a file's text, and the markdown table docs/testing.md shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MUTANTS, type Mutant } from './mutants.ts';

export function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) count++;
  return count;
}

/** Problems with the list against the tree at `root`: stale originals, duplicate ids, no-op replacements. */
export function listProblems(root: string, mutants: readonly Mutant[] = MUTANTS): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const m of mutants) {
    if (ids.has(m.id)) problems.push(`${m.id}: duplicate id`);
    ids.add(m.id);
    if (m.original === m.replacement) problems.push(`${m.id}: the replacement equals the original`);
    if (m.tests.length === 0) problems.push(`${m.id}: no test is named to kill it`);
    let text: string;
    try {
      text = readFileSync(join(root, m.file), 'utf8');
    } catch {
      problems.push(`${m.id}: ${m.file} does not exist`);
      continue;
    }
    const n = occurrences(text, m.original);
    if (n !== 1) problems.push(`${m.id}: the original text occurs ${n} times in ${m.file} (stale list)`);
  }
  return problems;
}

export function applyMutant(text: string, m: Mutant): string {
  if (occurrences(text, m.original) !== 1) throw new Error(`${m.id}: stale mutant (original not found once)`);
  return text.replace(m.original, () => m.replacement);
}

function cell(s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** The table of docs/testing.md: one row per mutant, with the tests that kill it. */
export function markdownTable(mutants: readonly Mutant[] = MUTANTS): string {
  const rows = [
    '| id | file | what it breaks | killed by |',
    '| -- | ---- | -------------- | --------- |',
    ...mutants.map(
      (m) =>
        `| \`${m.id}\` | \`${m.file}\` | ${cell(m.breaks)} | ${m.tests.map((t) => `\`${t}\``).join(', ')} |`,
    ),
  ];
  return rows.join('\n');
}

export const TABLE_BEGIN = '<!-- mutants:begin (npm run mutate -- --markdown) -->';
export const TABLE_END = '<!-- mutants:end -->';
