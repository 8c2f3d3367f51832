/** The audit log file (docs/security.md#audit-log): appends survive a reopen; edits and cuts are detected. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, verifyAuditFile } from '../../../src/api/audit.ts';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function logFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jr-audit-'));
  dirs.push(dir);
  return join(dir, 'audit.log');
}

const read = (caseId: string, institution = 'bank-a') => ({
  institution,
  keyId: 'client-1',
  action: 'case.read',
  caseId,
});

describe('audit log', () => {
  it('appends hash-chained entries (mode 0600) that a reopened log continues', () => {
    const path = logFile();
    const log = new AuditLog(path, () => Date.UTC(2026, 0, 1));
    log.append(read('C-1'));
    log.append(read('C-2', 'bank-c'), read('C-3'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = new AuditLog(path);
    again.append(read('C-4'));
    const entries = new AuditLog(path).entries();
    expect(entries.map((e) => [e.seq, e.institution, e.caseId])).toEqual([
      [1, 'bank-a', 'C-1'],
      [2, 'bank-c', 'C-2'],
      [3, 'bank-a', 'C-3'],
      [4, 'bank-a', 'C-4'],
    ]);
    expect(entries[1]!.prev).toBe(entries[0]!.hash);
    expect(entries[0]!.time).toBe('2026-01-01T00:00:00.000Z');
  });

  const tamperings: [string, (lines: string[]) => string[], number][] = [
    ['an edited entry', (l) => l.map((x, i) => (i === 1 ? x.replace('C-2', 'C-9') : x)), 2],
    ['a removed entry', (l) => l.filter((_, i) => i !== 1), 2],
    ['the first entries cut', (l) => l.slice(1), 1],
    ['two entries swapped', (l) => [l[0]!, l[2]!, l[1]!], 2],
    ['a line that is not JSON', (l) => [...l.slice(0, 2), '{oops', l[2]!], 3],
  ];
  for (const [what, tamper, line] of tamperings) {
    it(`detects ${what} on open and on read`, () => {
      const path = logFile();
      const log = new AuditLog(path);
      log.append(read('C-1'), read('C-2'), read('C-3'));
      const lines = readFileSync(path, 'utf8').trim().split('\n');
      writeFileSync(path, `${tamper(lines).join('\n')}\n`);
      const broken = expect.objectContaining({ code: 'AUDIT_LOG_TAMPERED', details: { line } });
      expect(() => new AuditLog(path)).toThrow(broken);
      expect(() => log.entries()).toThrow(broken);
    });
  }

  it('detects entries cut from the tail on open, on read and with audit verify; a sound log verifies', async () => {
    const path = logFile();
    const log = new AuditLog(path);
    log.append(read('C-1'), read('C-2'), read('C-3'));
    expect(verifyAuditFile(path)).toMatchObject({ head: { seq: 3 } });
    const io = memoryIo();
    expect(await runCli(['audit', 'verify', '--data-dir', dirname(path)], io)).toBe(0);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    writeFileSync(path, `${lines.slice(0, 2).join('\n')}\n`);
    const truncated = expect.objectContaining({
      code: 'AUDIT_LOG_TAMPERED',
      details: { head: 3, entries: 2 },
    });
    expect(() => new AuditLog(path)).toThrow(truncated);
    expect(() => log.entries()).toThrow(truncated);
    expect(() => verifyAuditFile(path)).toThrow(
      /truncated: its head records entry 3, the log ends at entry 2/,
    );
    const cut = memoryIo();
    expect(await runCli(['audit', 'verify', '--data-dir', dirname(path)], cut)).toBe(1);
    expect(cut.stderr).toMatch(/AUDIT_LOG_TAMPERED.*truncated/);
    // A log rebuilt to the same length with other entries does not match its head either.
    writeFileSync(path, '');
    const forged = new AuditLog(`${path}.other`);
    forged.append(read('X'), read('Y'), read('Z'));
    writeFileSync(path, readFileSync(`${path}.other`));
    expect(() => verifyAuditFile(path)).toThrow(/entry 3 is not the one its head records/);
  });
});
