/**
 * The architecture checks can fail: each rule is fed a synthetic violation (and a near miss that must pass),
 * through the same parser, checker and Biome configuration the repo check uses.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { browserViolations } from './browser.ts';
import { type ImportRef, REPO, readImports } from './imports.ts';
import { checkImports, findCycles } from './layering.ts';
import {
  applyAllowlist,
  countLines,
  fileLengthViolations,
  functionLengthViolations,
  MAX_FILE_LINES,
  MAX_FUNCTION_LINES,
} from './sizes.ts';

/** The rule broken by `file` importing `spec`, or undefined when the import is allowed. */
function ruleFor(file: string, spec: string): string | undefined {
  return checkImports(readImports(file, `import { x } from '${spec}';\n`))[0]?.rule;
}

describe('reading imports', () => {
  it('finds static, type-only, re-exported and dynamic imports with their lines', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../core/b.ts';",
      "export { c } from './c.ts';",
      '// import { fake } from "./commented.ts";',
      'const s = "import { fake } from \'./in-a-string.ts\'";',
      'async function f() {',
      "  return import('../cli/main.ts');",
      '}',
    ].join('\n');
    const refs = readImports('src/node/x.ts', source);
    expect(refs.map((r) => [r.kind, r.target, r.line])).toEqual([
      ['import', 'src/node/a.ts', 1],
      ['type', 'src/core/b.ts', 2],
      ['export', 'src/node/c.ts', 3],
      ['dynamic', 'src/cli/main.ts', 7],
    ]);
  });

  it('names Node built-ins node:NAME whether or not the source does', () => {
    const refs = readImports('src/x/y.ts', "import fs from 'fs';\nimport { join } from 'node:path';\n");
    expect(refs.map((r) => r.target)).toEqual(['node:fs', 'node:path']);
  });

  it('refuses a dynamic import of a computed path: the check could not follow it', () => {
    const refs = readImports('src/dev/x.ts', "const dir = '../cli/';\nawait import(dir + 'main.ts');\n");
    expect(checkImports(refs).map((v) => v.rule)).toEqual([expect.stringMatching(/string literal/)]);
  });
});

describe('layering rules', () => {
  it.each([
    ['src/core/x.ts', '../ledger/store.ts', /core may not import ledger/],
    ['src/core/x.ts', '../node/config.ts', /core may not import node/],
    ['src/ledger/x.ts', '../consensus/types.ts', /ledger may not import consensus/],
    ['src/timestamp/x.ts', '../ledger/chain.ts', /timestamp may not import ledger/],
    ['src/timestamp/x.ts', '../p2p/index.ts', /timestamp may not import p2p/],
    ['src/timestamp/x.ts', '../node/node.ts', /timestamp may not import node/],
    ['src/consensus/x.ts', '../p2p/index.ts', /consensus may not import p2p/],
    ['src/consensus/x.ts', '../node/node.ts', /consensus may not import node/],
    ['src/consensus/x.ts', '../api/routes.ts', /consensus may not import api/],
    ['src/node/x.ts', '../dev/devnet.ts', /node may not import dev/],
    ['src/api/x.ts', '../node/node.ts', /api may not import node/],
  ])('%s importing %s fails', (file, spec, rule) => {
    expect(ruleFor(file, spec)).toMatch(rule);
  });

  it.each([
    ['src/node/devnet.ts', '../cli/init.ts'],
    ['src/dev/x.ts', '../cli/io.ts'],
    ['bench/x.ts', '../src/cli/main.ts'],
  ])('nothing imports the CLI: %s importing %s fails', (file, spec) => {
    expect(ruleFor(file, spec)).toMatch(/nothing imports the CLI/);
  });

  it.each([
    ['src/cli/bench.ts', '../../bench/cluster.ts'],
    ['bin/x.ts', '../bench/ledger.ts'],
  ])('nothing imports bench/: %s importing %s fails', (file, spec) => {
    expect(ruleFor(file, spec)).toMatch(/nothing imports bench/);
  });

  it('src/ imports nothing from test/, and bin/ only runs the CLI', () => {
    expect(ruleFor('src/node/x.ts', '../../test/helpers/fixtures.ts')).toMatch(/src\/ imports only src/);
    expect(ruleFor('bin/x.ts', '../src/node/node.ts')).toMatch(/bin\/ only runs the CLI/);
  });

  it.each(['node:fs', 'fs', 'node:net', 'node:timers', 'level', 'libp2p', '@libp2p/interface'])(
    'consensus is pure: importing %s fails',
    (spec) => {
      expect(ruleFor('src/consensus/x.ts', spec)).toMatch(/consensus is pure/);
    },
  );

  it('only the ledger store imports level, and only p2p (and core/keys.ts) libp2p', () => {
    expect(ruleFor('src/ledger/queries.ts', 'level')).toMatch(/one file imports level/);
    expect(ruleFor('src/ledger/level-store.ts', 'level')).toBeUndefined();
    expect(ruleFor('src/node/x.ts', '@libp2p/peer-id')).toMatch(/only the p2p host speaks libp2p/);
    expect(ruleFor('src/p2p/x.ts', '@libp2p/peer-id')).toBeUndefined();
  });

  it('a module missing from the layering table fails', () => {
    expect(ruleFor('src/newthing/x.ts', '../core/bytes.ts')).toMatch(/not in the layering table/);
    expect(ruleFor('src/node/x.ts', '../newthing/y.ts')).toMatch(/not in the layering table/);
  });

  it.each([
    ['src/node/x.ts', '../consensus/driver.ts'],
    ['src/consensus/x.ts', '../ledger/chain.ts'],
    ['src/cli/x.ts', '../dev/devnet.ts'],
    ['src/cli/x.ts', './io.ts'],
    ['bin/jrchain.ts', '../src/cli/main.ts'],
    ['bench/ledger.ts', '../src/dev/bench/stats.ts'],
    ['bench/ledger.ts', '../test/helpers/fixtures.ts'],
    ['src/node/x.ts', 'pino'],
  ])('allowed: %s importing %s', (file, spec) => {
    expect(ruleFor(file, spec)).toBeUndefined();
  });
});

describe('import cycles', () => {
  const edge = (from: string, to: string, kind: ImportRef['kind'] = 'import'): ImportRef => ({
    from,
    line: 1,
    kind,
    spec: to,
    target: to,
  });

  it('finds a cycle, type-only imports included, and names its path', () => {
    const refs = [
      edge('src/a/x.ts', 'src/a/y.ts'),
      edge('src/a/y.ts', 'src/a/z.ts', 'type'),
      edge('src/a/z.ts', 'src/a/x.ts'),
      edge('src/a/z.ts', 'src/core/q.ts'),
    ];
    expect(findCycles(refs)).toEqual([['src/a/x.ts', 'src/a/y.ts', 'src/a/z.ts', 'src/a/x.ts']]);
  });

  it('finds none in a graph without one', () => {
    const refs = [
      edge('src/a/x.ts', 'src/a/y.ts'),
      edge('src/a/x.ts', 'src/a/z.ts'),
      edge('src/a/y.ts', 'src/a/z.ts'),
    ];
    expect(findCycles(refs)).toEqual([]);
  });
});

describe('size limits', () => {
  const lines = (n: number) => 'x\n'.repeat(n);

  it(`counts lines as wc -l does and flags a file over ${MAX_FILE_LINES}`, () => {
    expect([countLines(''), countLines('a'), countLines('a\n'), countLines('a\nb')]).toEqual([0, 1, 1, 2]);
    const found = fileLengthViolations([
      { file: 'src/a.ts', text: lines(MAX_FILE_LINES) },
      { file: 'src/b.ts', text: lines(MAX_FILE_LINES + 1) },
    ]);
    expect(found.map((v) => [v.file, v.rule])).toEqual([['src/b.ts', 'file-lines']]);
  });

  const root = mkdtempSync(join(tmpdir(), 'jrchain-arch-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it(`Biome, with the repo's biome.json, flags a function body over ${MAX_FUNCTION_LINES} lines in src/`, () => {
    // The repo's configuration, in a scratch project (no git there, so no VCS integration).
    const config = JSON.parse(readFileSync(join(REPO, 'biome.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(root, 'biome.json'), JSON.stringify({ ...config, vcs: { enabled: false } }));
    mkdirSync(join(root, 'src'));
    const fn = (name: string, n: number) =>
      `export function ${name}(): void {\n${Array.from({ length: n }, (_, i) => `  console.log(${i});`).join('\n')}\n}\n`;
    const method = (n: number) =>
      `export class K {\n  m(): void {\n${'    console.log(1);\n'.repeat(n)}  }\n}\n`;
    writeFileSync(
      join(root, 'src/fns.ts'),
      fn('atLimit', MAX_FUNCTION_LINES) + fn('over', MAX_FUNCTION_LINES + 1),
    );
    writeFileSync(join(root, 'src/method.ts'), method(MAX_FUNCTION_LINES + 1));
    const found = functionLengthViolations(['src'], root);
    expect(found.map((v) => [v.file, v.line])).toEqual([
      ['src/fns.ts', MAX_FUNCTION_LINES + 3],
      ['src/method.ts', 2],
    ]);
  });

  it('the allowlist excuses only its file and rule, and reports entries no longer needed', () => {
    const v = { file: 'src/a.ts', line: 1, rule: 'file-lines' as const, message: '' };
    const w = { file: 'src/b.ts', line: 9, rule: 'function-lines' as const, message: '' };
    const { remaining, unused } = applyAllowlist(
      [v, w],
      [
        { file: 'src/a.ts', rule: 'file-lines', reason: 'test' },
        { file: 'src/b.ts', rule: 'file-lines', reason: 'test' },
      ],
    );
    expect(remaining).toEqual([w]);
    expect(unused.map((a) => a.file)).toEqual(['src/b.ts']);
  });
});

describe('the browser-safety rule', () => {
  const files: Record<string, string> = {
    'src/receipt/v.ts': "import { a } from './a.ts';\nimport type { T } from '../node/t.ts';\n",
    'src/receipt/a.ts': "import { b } from '../core/b.ts';\nexport const a = 1;\n",
    'src/core/b.ts': "// Buffer in a comment is fine\nexport const b = 'process';\n",
    'src/node/t.ts': "import { readFileSync } from 'node:fs';\n",
  };
  const check = (edit: Record<string, string>) => {
    const all = { ...files, ...edit };
    const refs = Object.entries(all).flatMap(([f, s]) => readImports(f, s));
    return browserViolations(refs, ['src/receipt/v.ts'], (f) => all[f]!, /^@noble\//, []).map((v) => v.rule);
  };

  it('passes a graph that reaches Node only through a type-only import, and names in comments or strings', () => {
    expect(check({})).toEqual([]);
  });

  it('finds a node: import, a foreign package and a Node global reached transitively', () => {
    expect(check({ 'src/core/b.ts': "import { x } from 'node:crypto';\n" })).toEqual([
      'runs in browsers (ADR 013) but imports node:crypto',
    ]);
    expect(check({ 'src/core/b.ts': "import { x } from 'level';\n" })).toEqual([
      'runs in browsers (ADR 013) but imports level',
    ]);
    expect(check({ 'src/core/b.ts': 'export const b = Buffer.from([1]);\n' })).toEqual([
      "runs in browsers (ADR 013) but uses Node's Buffer",
    ]);
  });
});
