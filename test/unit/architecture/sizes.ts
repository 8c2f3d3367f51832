/**
 * Size limits for src/: no file over 600 lines (counted here, as `wc -l` counts), no function over 80 lines
 * (counted by Biome's noExcessiveLinesPerFunction, configured for src/** in biome.json: the lines of a
 * function's body between its braces; it measures functions, methods, constructors and arrow functions, not
 * get/set accessors or static blocks). Files other engineers are splitting right now are allowlisted, each with
 * its reason; an entry that is no longer needed fails the check, so the list only shrinks.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './imports.ts';

export const MAX_FILE_LINES = 600;
export const MAX_FUNCTION_LINES = 80;

export type SizeRule = 'file-lines' | 'function-lines';

export interface SizeViolation {
  readonly file: string;
  readonly line: number;
  readonly rule: SizeRule;
  readonly message: string;
}

export interface AllowEntry {
  readonly file: string;
  readonly rule: SizeRule;
  readonly reason: string;
}

export const SIZE_ALLOWLIST: readonly AllowEntry[] = [];

/** Lines in a text, as `wc -l` counts them for a file that ends with a newline. */
export function countLines(text: string): number {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

export function fileLengthViolations(files: readonly { file: string; text: string }[]): SizeViolation[] {
  return files
    .map(({ file, text }) => ({ file, lines: countLines(text) }))
    .filter((f) => f.lines > MAX_FILE_LINES)
    .map((f) => ({
      file: f.file,
      line: 1,
      rule: 'file-lines' as const,
      message: `${f.lines} lines (at most ${MAX_FILE_LINES})`,
    }));
}

interface BiomeReport {
  summary: { diagnosticsNotPrinted: number };
  diagnostics: {
    category?: string;
    message: string;
    location: { path?: string; start?: { line: number } };
  }[];
}

const FUNCTION_RULE = 'complexity/noExcessiveLinesPerFunction';

/**
 * Runs Biome's function-length rule over `paths` (relative to `root`, which holds the biome.json to use: the
 * repo's unless a test makes its own) and returns every function it reports.
 */
export function functionLengthViolations(paths: readonly string[], root = REPO): SizeViolation[] {
  const args = ['lint', `--only=${FUNCTION_RULE}`, '--reporter=json', '--max-diagnostics=none', ...paths];
  const run = spawnSync(join(REPO, 'node_modules/.bin/biome'), args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const json = run.stdout.split('\n').find((l) => l.startsWith('{"summary"'));
  if (json === undefined)
    throw new Error(`biome printed no JSON report (exit ${run.status}):\n${run.stderr}`);
  const report = JSON.parse(json) as BiomeReport;
  if (report.summary.diagnosticsNotPrinted > 0) throw new Error('biome left diagnostics out of its report');
  return report.diagnostics
    .filter((d) => d.category === `lint/${FUNCTION_RULE}`)
    .map((d) => ({
      file: d.location.path ?? '?',
      line: d.location.start?.line ?? 0,
      rule: 'function-lines' as const,
      message: d.message,
    }));
}

/** Splits violations into those the allowlist excuses and the rest, and names allowlist entries now unused. */
export function applyAllowlist(
  violations: readonly SizeViolation[],
  allowlist: readonly AllowEntry[],
): { remaining: SizeViolation[]; unused: AllowEntry[] } {
  const excused = (v: SizeViolation) => allowlist.some((a) => a.file === v.file && a.rule === v.rule);
  return {
    remaining: violations.filter((v) => !excused(v)),
    unused: allowlist.filter((a) => !violations.some((v) => v.file === a.file && v.rule === a.rule)),
  };
}

/** The configured maximum of the function rule for src/ in biome.json. */
export function configuredFunctionLimit(): number | undefined {
  const config = JSON.parse(readFileSync(join(REPO, 'biome.json'), 'utf8')) as {
    overrides?: { includes?: string[]; linter?: { rules?: Record<string, Record<string, unknown>> } }[];
  };
  const src = config.overrides?.find((o) => o.includes?.includes('src/**'));
  const rule = src?.linter?.rules?.complexity?.noExcessiveLinesPerFunction as
    | { options?: { maxLines?: number } }
    | undefined;
  return rule?.options?.maxLines;
}
