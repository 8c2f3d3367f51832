/**
 * The browser-safety check (rules.ts, BROWSER_ENTRIES): the module graph of the verifier that the verification
 * page bundles reaches no Node built-in, no package outside the allowed ones and no use of Node's globals.
 */
import type { ImportRef } from './imports.ts';
import type { Violation } from './layering.ts';

/** Every file reachable from `entries` by value imports (type-only ones are erased when bundled). */
export function reachable(refs: readonly ImportRef[], entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const r of refs) {
      if (r.from === f && r.kind !== 'type' && r.target?.startsWith('src/')) todo.push(r.target);
    }
  }
  return seen;
}

const NODE_GLOBALS = /\b(Buffer|process|require|__dirname|__filename)\b/;

/** Strips comments and string contents, so only code is searched for Node's globals. */
function codeOf(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/(['"`])(?:\\.|(?!\1)[^\\\n])*\1/g, "''");
}

export function browserViolations(
  refs: readonly ImportRef[],
  entries: readonly string[],
  sources: (file: string) => string,
  allowedPackages: RegExp,
  globalsAllowed: readonly string[],
): Violation[] {
  const files = reachable(refs, entries);
  const out: Violation[] = [];
  for (const r of refs) {
    if (!files.has(r.from) || r.kind === 'type' || r.target === undefined || r.target.startsWith('src/'))
      continue;
    if (r.target.startsWith('node:') || !allowedPackages.test(r.target)) {
      out.push({
        file: r.from,
        line: r.line,
        spec: r.spec,
        rule: `runs in browsers (ADR 013) but imports ${r.target}`,
      });
    }
  }
  for (const f of [...files].sort()) {
    if (globalsAllowed.includes(f)) continue;
    const m = NODE_GLOBALS.exec(codeOf(sources(f)));
    if (m) {
      out.push({ file: f, line: 0, spec: m[1]!, rule: `runs in browsers (ADR 013) but uses Node's ${m[1]}` });
    }
  }
  return out;
}
