/**
 * The layering check: every import of src/, bin/ and bench/ against the rules (rules.ts), and import cycles in
 * src/. Pure functions over ImportRefs, so tests can feed them synthetic violations.
 */
import type { ImportRef } from './imports.ts';
import { MODULE_DEPS, PACKAGE_OWNERS, PURE_MODULES } from './rules.ts';

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly spec: string;
  readonly rule: string;
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line} imports '${v.spec}': ${v.rule}`;
}

/** The src/ module a repo path belongs to (`src/node/net/x.ts` → `node`), or undefined outside src/. */
export function moduleOf(path: string): string | undefined {
  const m = /^src\/([^/]+)\//.exec(path);
  return m?.[1];
}

const isRepoPath = (target: string): boolean => /^(src|bin|bench|test|scripts)\//.test(target);

type Rule = (ref: ImportRef, target: string) => string | undefined;

const cliAndBench: Rule = (ref, target) => {
  if (target.startsWith('src/cli/') && !ref.from.startsWith('src/cli/') && !ref.from.startsWith('bin/')) {
    return 'nothing imports the CLI (src/cli) but bin/';
  }
  if (target.startsWith('bench/') && !ref.from.startsWith('bench/')) return 'nothing imports bench/';
  return undefined;
};

const srcStaysInSrc: Rule = (ref, target) =>
  ref.from.startsWith('src/') && isRepoPath(target) && !target.startsWith('src/')
    ? 'src/ imports only src/ and packages'
    : undefined;

const binRunsTheCli: Rule = (ref, target) =>
  ref.from.startsWith('bin/') && isRepoPath(target) && !target.startsWith('src/cli/')
    ? 'bin/ only runs the CLI (src/cli)'
    : undefined;

const moduleDirection: Rule = (ref, target) => {
  const from = moduleOf(ref.from);
  const to = moduleOf(target);
  if (from === undefined || to === undefined || from === to) return undefined;
  const allowed = MODULE_DEPS[from];
  if (allowed === undefined)
    return `src/${from} is not in the layering table (rules.ts, docs/architecture.md)`;
  if (MODULE_DEPS[to] === undefined)
    return `src/${to} is not in the layering table (rules.ts, docs/architecture.md)`;
  if (allowed.includes(to)) return undefined;
  const may = allowed.length === 0 ? 'nothing else in src/' : allowed.join(', ');
  return `${from} may not import ${to} (${from} may import: ${may})`;
};

const pureModules: Rule = (ref, target) => {
  const from = moduleOf(ref.from);
  if (from === undefined || !PURE_MODULES.includes(from) || isRepoPath(target)) return undefined;
  return `${from} is pure: it imports no package or Node built-in (no I/O, timers or libp2p)`;
};

const packageOwners: Rule = (ref, target) => {
  if (!ref.from.startsWith('src/') || isRepoPath(target)) return undefined;
  const rule = PACKAGE_OWNERS.find((o) => o.packages.test(target));
  if (rule === undefined || rule.owners.some((o) => ref.from.startsWith(o))) return undefined;
  return rule.why;
};

const RULES: readonly Rule[] = [
  cliAndBench,
  srcStaysInSrc,
  binRunsTheCli,
  moduleDirection,
  pureModules,
  packageOwners,
];

/** Every import that breaks a rule, with the first rule it breaks. */
export function checkImports(refs: readonly ImportRef[]): Violation[] {
  const out: Violation[] = [];
  for (const ref of refs) {
    const rule =
      ref.target === undefined
        ? 'a dynamic import must name its module with a string literal, so this check can follow it'
        : RULES.map((r) => r(ref, ref.target!)).find((v) => v !== undefined);
    if (rule !== undefined) out.push({ file: ref.from, line: ref.line, spec: ref.spec, rule });
  }
  return out;
}

/**
 * Import cycles among the files under `scope` (type-only imports count: a cycle of types is still two modules
 * that each need the other). One cycle per strongly connected component, as the path `a → b → … → a`.
 */
export function findCycles(refs: readonly ImportRef[], scope = 'src/'): string[][] {
  const graph = new Map<string, Set<string>>();
  for (const r of refs) {
    if (!r.from.startsWith(scope) || r.target === undefined || !r.target.startsWith(scope)) continue;
    if (r.target === r.from) continue;
    if (!graph.has(r.from)) graph.set(r.from, new Set());
    graph.get(r.from)!.add(r.target);
  }
  return stronglyConnected(graph)
    .filter((c) => c.length > 1)
    .map((c) => cycleThrough(graph, new Set(c), [...c].sort()[0]!));
}

/** Tarjan's algorithm; components in discovery order. */
function stronglyConnected(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    out.push(component);
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** The shortest path from `start` back to itself inside one component (breadth first). */
function cycleThrough(
  graph: ReadonlyMap<string, ReadonlySet<string>>,
  within: Set<string>,
  start: string,
): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!within.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
