/**
 * The import graph of the repository's own code, read with a real parser (oxc, through vite's parseSync) rather
 * than by pattern: static imports, re-exports and dynamic imports, each with the file and line it is on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { parseSync } from 'vite';

export const REPO = resolve(import.meta.dirname, '../../..');

export type ImportKind = 'import' | 'type' | 'export' | 'dynamic';

export interface ImportRef {
  /** Repo-relative path of the importing file, e.g. `src/node/node.ts`. */
  readonly from: string;
  readonly line: number;
  readonly kind: ImportKind;
  /** The specifier as written (for a dynamic import of a computed value: its source text). */
  readonly spec: string;
  /**
   * A relative specifier resolved to a repo-relative path (`src/core/clock.ts`); a Node built-in as
   * `node:NAME`; any other package as written; undefined for a dynamic import whose argument is not a string.
   */
  readonly target: string | undefined;
}

/** Every .ts file under `dirs` (repo-relative), sorted. */
export function listSources(dirs: readonly string[], root = REPO): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) return walk(path);
      return e.name.endsWith('.ts') ? [path] : [];
    });
  return dirs.flatMap(walk).sort();
}

function resolveTarget(from: string, spec: string): string {
  if (spec.startsWith('.'))
    return relative(REPO, resolve(REPO, dirname(from), spec))
      .split('\\')
      .join('/');
  if (isBuiltin(spec)) return spec.startsWith('node:') ? spec : `node:${spec}`;
  return spec;
}

const STRING_LITERAL = /^(['"`])([^'"`$\\]*)\1$/;

/** The imports of one file, given its repo-relative path and its source text. */
export function readImports(from: string, source: string): ImportRef[] {
  const parsed = parseSync(from, source);
  if (parsed.errors.length > 0) {
    throw new Error(`${from}: cannot parse: ${parsed.errors.map((e) => e.message).join('; ')}`);
  }
  const lineAt = (offset: number): number => source.slice(0, offset).split('\n').length;
  const refs: ImportRef[] = [];
  const add = (offset: number, kind: ImportKind, spec: string, target = resolveTarget(from, spec)): void => {
    refs.push({ from, line: lineAt(offset), kind, spec, target });
  };
  const m = parsed.module;
  for (const i of m.staticImports) {
    const typeOnly = i.entries.length > 0 && i.entries.every((e) => e.isType);
    add(i.start, typeOnly ? 'type' : 'import', i.moduleRequest.value);
  }
  for (const e of m.staticExports) {
    const spec = e.entries.find((x) => x.moduleRequest !== null)?.moduleRequest?.value;
    if (spec !== undefined) add(e.start, 'export', spec);
  }
  for (const d of m.dynamicImports) {
    const text = source.slice(d.moduleRequest.start, d.moduleRequest.end);
    const literal = STRING_LITERAL.exec(text);
    if (literal) add(d.start, 'dynamic', literal[2]!);
    else refs.push({ from, line: lineAt(d.start), kind: 'dynamic', spec: text, target: undefined });
  }
  return refs;
}

/** The imports of every file under `dirs`. */
export function readRepoImports(dirs: readonly string[]): ImportRef[] {
  return listSources(dirs).flatMap((f) => readImports(f, readFileSync(join(REPO, f), 'utf8')));
}
