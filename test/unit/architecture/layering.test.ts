/**
 * The architecture as CI checks it: the layering rules on every import of src/, bin/ and bench/, no import
 * cycle in src/, and the size limits of src/ (docs/architecture.md, "Layering").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserViolations, reachable } from './browser.ts';
import { listSources, REPO, readRepoImports } from './imports.ts';
import { checkImports, findCycles, formatViolation } from './layering.ts';
import { BROWSER_ENTRIES, BROWSER_GLOBALS_ALLOWED, BROWSER_PACKAGES, MODULE_DEPS } from './rules.ts';
import {
  applyAllowlist,
  configuredFunctionLimit,
  fileLengthViolations,
  functionLengthViolations,
  MAX_FUNCTION_LINES,
  SIZE_ALLOWLIST,
  type SizeViolation,
} from './sizes.ts';

const refs = readRepoImports(['src', 'bin', 'bench']);
const sizeLine = (v: SizeViolation) => `${v.file}:${v.line} ${v.rule}: ${v.message}`;

describe('layering', () => {
  it('reads the imports of every file', () => {
    // A parser that silently found nothing would pass every rule below.
    expect(refs.filter((r) => r.from === 'bin/jrchain.ts').map((r) => r.target)).toContain('src/cli/main.ts');
    expect(new Set(refs.map((r) => r.from)).size).toBeGreaterThan(100);
  });

  it('every import follows the rules', () => {
    expect(checkImports(refs).map(formatViolation)).toEqual([]);
  });

  it('src/ has no import cycle', () => {
    expect(findCycles(refs).map((c) => c.join(' → '))).toEqual([]);
  });

  it('every folder of src/ is in the layering table', () => {
    const folders = new Set(listSources(['src']).map((f) => f.split('/')[1]!));
    expect([...folders].sort()).toEqual(Object.keys(MODULE_DEPS).sort());
  });

  it('docs/architecture.md states the same layering table', () => {
    const doc = readFileSync(join(REPO, 'docs/architecture.md'), 'utf8');
    const section = doc.split(/^## /m).find((s) => s.startsWith('Layering'));
    expect(section, 'docs/architecture.md has a "## Layering" section').toBeDefined();
    const stated: Record<string, string[]> = {};
    for (const m of section!.matchAll(/^\| `([a-z0-9-]+)` \| ([^|]*) \|/gm)) {
      stated[m[1]!] = [...m[2]!.matchAll(/`([a-z0-9-]+)`/g)].map((x) => x[1]!);
    }
    expect(stated).toEqual(Object.fromEntries(Object.entries(MODULE_DEPS).map(([k, v]) => [k, [...v]])));
  });
});

describe('the verifier runs in browsers (ADR 013)', () => {
  const source = (f: string) => readFileSync(join(REPO, f), 'utf8');

  it('its module graph reaches the RFC 3161 verifier and the receipt checks', () => {
    const files = reachable(refs, BROWSER_ENTRIES);
    for (const f of ['src/timestamp/verify.ts', 'src/timestamp/crypto-web.ts', 'src/core/crypto.ts']) {
      expect(files).toContain(f);
    }
  });

  it('imports no Node built-in, only @noble and @peculiar, and uses no Node global', () => {
    const found = browserViolations(refs, BROWSER_ENTRIES, source, BROWSER_PACKAGES, BROWSER_GLOBALS_ALLOWED);
    expect(found.map(formatViolation)).toEqual([]);
  });
});

describe('size limits of src/', () => {
  it(`biome.json limits functions in src/ to ${MAX_FUNCTION_LINES} lines`, () => {
    expect(configuredFunctionLimit()).toBe(MAX_FUNCTION_LINES);
  });

  const files = listSources(['src']).map((file) => ({ file, text: readFileSync(join(REPO, file), 'utf8') }));
  const found = [...fileLengthViolations(files), ...functionLengthViolations(['src'])];
  const { remaining, unused } = applyAllowlist(found, SIZE_ALLOWLIST);

  it('no file over 600 lines and no function over 80, except the allowlisted', () => {
    expect(remaining.map(sizeLine)).toEqual([]);
  });

  it('every allowlist entry is still needed (remove an entry once its file is split)', () => {
    expect(unused.map((a) => `${a.file} ${a.rule}`)).toEqual([]);
  });
});
