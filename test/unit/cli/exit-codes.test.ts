/**
 * Every code of every error-code enum has an exit code, declared beside the enum, listed in
 * src/cli/exit-codes.ts and documented in docs/exit-codes.md; the CLI maps errors by those tables.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiClientError } from '../../../src/cli/client.ts';
import { CliError, CliErrorCode, UsageError } from '../../../src/cli/errors.ts';
import { ERROR_CODE_ENUMS, exitCodeFor } from '../../../src/cli/exit-codes.ts';
import { ExitCode, JrError } from '../../../src/core/errors.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { ReceiptFailureCode } from '../../../src/receipt/errors.ts';
import { TimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';

const ROOT = join(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** `export const XErrorCode = {` (or XFailureCode) in src/, by name, with the file that declares it. */
function declaredEnums(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^export const (\w+(?:ErrorCode|FailureCode)) = \{/gm)) {
      out.set(m[1]!, file.slice(ROOT.length + 1));
    }
  }
  return out;
}

/** docs/exit-codes.md's table: enum name -> [file, code -> exit]. */
function documented(): Map<string, { file: string; exits: Map<string, number> | 'all'; all?: number }> {
  const doc = readFileSync(join(ROOT, 'docs/exit-codes.md'), 'utf8');
  const out = new Map<string, { file: string; exits: Map<string, number> | 'all'; all?: number }>();
  for (const line of doc.split('\n')) {
    const m = /^\| `(\w+)` \| (\S+) \|(.*)\|$/.exec(line);
    if (!m) continue;
    const cols = m[3]!.split('|').map((c) => c.trim());
    const exits = new Map<string, number>();
    let all: number | undefined;
    cols.forEach((col, i) => {
      if (col === 'all') all = i + 1;
      for (const code of col.matchAll(/`(\w+)`/g)) exits.set(code[1]!, i + 1);
    });
    out.set(m[1]!, {
      file: m[2]!,
      exits: all === undefined ? exits : 'all',
      ...(all === undefined ? {} : { all }),
    });
  }
  return out;
}

describe('exit-code tables', () => {
  it('every code of every listed enum has an exit code from 1 to 4, and no code is claimed twice', () => {
    const seen = new Map<string, string>();
    for (const e of ERROR_CODE_ENUMS) {
      for (const code of Object.values(e.codes)) {
        expect([1, 2, 3, 4], `${e.name}.${code}`).toContain(e.exits[code]);
        expect(seen.get(code), `${code} is in ${seen.get(code)} and ${e.name}`).toBeUndefined();
        seen.set(code, e.name);
      }
      expect(Object.keys(e.exits).sort(), `${e.name} has exit codes for codes it does not have`).toEqual(
        Object.values(e.codes).sort(),
      );
    }
  });

  it('every error-code enum in src/ is listed, and declares its table beside itself', () => {
    const declared = declaredEnums();
    expect([...declared.keys()].sort()).toEqual(ERROR_CODE_ENUMS.map((e) => e.name).sort());
    for (const [name, file] of declared) {
      expect(readFileSync(join(ROOT, file), 'utf8'), `${file} declares ${name} without exitCodes()`).toMatch(
        new RegExp(`exitCodes\\(${name},`),
      );
    }
  });

  it('docs/exit-codes.md says what the tables say', () => {
    const doc = documented();
    const declared = declaredEnums();
    expect([...doc.keys()].sort()).toEqual(ERROR_CODE_ENUMS.map((e) => e.name).sort());
    for (const e of ERROR_CODE_ENUMS) {
      const d = doc.get(e.name)!;
      expect(d.file, e.name).toBe(declared.get(e.name));
      const codes = Object.values(e.codes);
      const want = new Map(codes.map((c) => [c, e.exits[c]]));
      const got = d.exits === 'all' ? new Map(codes.map((c) => [c, d.all])) : d.exits;
      expect([...got].sort(), e.name).toEqual([...want].sort());
    }
  });
});

describe('exitCodeFor', () => {
  it('maps an error by its code: usage 2, unreadable files 3, an unreachable TSA 4, a rejected tx 1', () => {
    expect(exitCodeFor(new UsageError('no'))).toBe(ExitCode.usage);
    expect(exitCodeFor(new CliError(CliErrorCode.fileNotJson, 'no'))).toBe(ExitCode.badInput);
    expect(exitCodeFor(new TimestampError(TimestampErrorCode.httpError, 'down'))).toBe(ExitCode.unavailable);
    expect(exitCodeFor(new TimestampError(TimestampErrorCode.badInput, 'bad PEM'))).toBe(ExitCode.badInput);
    expect(exitCodeFor(new JrError(TxErrorCode.badSignature, 'no'))).toBe(ExitCode.failed);
    expect(exitCodeFor(new JrError(ReceiptFailureCode.malformed, 'no'))).toBe(ExitCode.failed);
  });

  it('a code in no table: 4 from a node that failed (HTTP 5xx), else 1', () => {
    expect(exitCodeFor(new ApiClientError(503, 'NODE_NOT_VALIDATOR', 'ask another node'))).toBe(
      ExitCode.unavailable,
    );
    expect(exitCodeFor(new ApiClientError(404, 'NOT_FOUND', 'no such tx'))).toBe(ExitCode.failed);
    expect(exitCodeFor(new ApiClientError(400, TxErrorCode.expired, 'too late'))).toBe(ExitCode.failed);
    expect(exitCodeFor(new JrError('CONFIG_INVALID', 'bad config'))).toBe(ExitCode.failed);
  });
});
