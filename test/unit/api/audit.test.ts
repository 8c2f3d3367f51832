/** The audit log file (docs/security.md#audit-log): appends survive a reopen; edits and cuts are detected. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, HEAD_SIGNED_ACTION, signAuditHead, verifyAuditFile } from '../../../src/api/audit.ts';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { keyPairFromSeed, writeKeyFile } from '../../../src/core/keys.ts';
import { testSigner } from '../../helpers/fixtures.ts';
import { smValidatorKey } from '../../helpers/sm-chain.ts';

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

  describe('signed heads (ADR 015)', () => {
    const node = testSigner('validator-0');
    const other = testSigner('validator-1');
    const verify = async (path: string, ...args: string[]) => {
      const io = memoryIo();
      const code = await runCli(['audit', 'verify', '--data-dir', dirname(path), '--json', ...args], io);
      return { code, out: io.stdout, err: io.stderr };
    };
    const withKey = ['--public-key', toHex(node.publicKey)];
    /** A signed log of the marker and three reads; returns its lines and the head file's text at entry 3. */
    function signedLog(): { path: string; lines: string[]; headAt3: string } {
      const path = logFile();
      const log = new AuditLog(path, Date.now, node);
      log.append(read('C-1'), read('C-2'));
      const headAt3 = readFileSync(`${path}.head`, 'utf8');
      log.append(read('C-3'));
      return { path, lines: readFileSync(path, 'utf8').trim().split('\n'), headAt3 };
    }

    it("a node signs every head with its key; audit verify checks it against the home's validator key", async () => {
      const { path, lines } = signedLog();
      expect(JSON.parse(lines[0]!)).toMatchObject({ seq: 1, action: HEAD_SIGNED_ACTION });
      const head = JSON.parse(readFileSync(`${path}.head`, 'utf8'));
      expect(head).toMatchObject({ seq: 4, publicKey: toHex(node.publicKey), signature: expect.any(String) });
      const home = dirname(path);
      writeKeyFile(
        join(home, 'validator.key'),
        keyPairFromSeed(sha256(utf8.encode('jrchain-test-key:validator-0'))),
      );
      const ok = await verify(path, '--home', home);
      expect(ok.code, ok.err).toBe(0);
      expect(JSON.parse(ok.out)).toMatchObject({
        entries: 4,
        signedBy: toHex(node.publicKey),
        keyChecked: true,
      });
      expect(new AuditLog(path, Date.now, node).entries()).toHaveLength(4);
      const wrongKey = await verify(path, '--public-key', toHex(other.publicKey));
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.err).toMatch(/not by the node's key/);
    });

    it("an SM chain's node (ADR 014) signs heads with its SM2 key, reopens its log, and audit verify checks it", async () => {
      const sm = smValidatorKey(0);
      const path = logFile();
      new AuditLog(path, Date.now, sm.signer).append(read('C-1'));
      // Reopened (a restart): the SM2-signed head verifies against the node's SM2 key.
      const again = new AuditLog(path, Date.now, sm.signer);
      expect(again.entries()).toHaveLength(2);
      const home = dirname(path);
      writeKeyFile(join(home, 'validator.key'), sm);
      const ok = await verify(path, '--home', home);
      expect(ok.code, ok.err).toBe(0);
      expect(JSON.parse(ok.out)).toMatchObject({ signedBy: toHex(sm.publicKey), keyChecked: true });
      const byKey = await verify(path, '--public-key', toHex(sm.publicKey));
      expect(byKey.code, byKey.err).toBe(0);
      // Another SM2 key is refused, and so is the log reopened under another key.
      expect(() => new AuditLog(path, Date.now, smValidatorKey(1).signer)).toThrow(/not by the node's key/);
    });

    it('cutting the log and its head together is detected: unsigned, re-signed by another key, or altered', async () => {
      const cuts: [string, (p: string, lines: string[], headAt3: string) => void, RegExp][] = [
        [
          'an unsigned head',
          (p, l) => writeFileSync(`${p}.head`, JSON.stringify({ seq: 3, hash: JSON.parse(l[2]!).hash })),
          /head is missing or unsigned|not signed/,
        ],
        [
          'a head signed by another key',
          (p, l) => {
            const h = signAuditHead({ seq: 3, hash: JSON.parse(l[2]!).hash }, other);
            writeFileSync(`${p}.head`, JSON.stringify(h));
          },
          /not by the node's key/,
        ],
        [
          'a signed head with its seq changed',
          (p, l) => {
            const h = JSON.parse(readFileSync(`${p}.head`, 'utf8'));
            writeFileSync(`${p}.head`, JSON.stringify({ ...h, seq: 3, hash: JSON.parse(l[2]!).hash }));
          },
          /signature does not verify/,
        ],
        ['a deleted head', (p) => rmSync(`${p}.head`), /no head|missing or unsigned/],
      ];
      for (const [what, cut, message] of cuts) {
        const { path, lines, headAt3 } = signedLog();
        writeFileSync(path, `${lines.slice(0, 3).join('\n')}\n`);
        cut(path, lines, headAt3);
        expect(() => new AuditLog(path, Date.now, node), what).toThrow(message);
        const r = await verify(path, ...withKey);
        expect(r.code, what).toBe(1);
        expect(r.err, what).toMatch(/AUDIT_LOG_TAMPERED/);
      }
    });

    it('a log from before signed heads is adopted on the first signed start, then held to it', () => {
      const path = logFile();
      new AuditLog(path).append(read('C-1'), read('C-2'));
      expect(JSON.parse(readFileSync(`${path}.head`, 'utf8')).signature).toBeUndefined();
      const log = new AuditLog(path, Date.now, node);
      expect(log.entries().map((e) => e.action)).toEqual(['case.read', 'case.read', HEAD_SIGNED_ACTION]);
      expect(verifyAuditFile(path, [node.publicKey]).head?.seq).toBe(3);
      // From now on an unsigned head is a rewritten one.
      writeFileSync(`${path}.head`, JSON.stringify({ seq: 3, hash: log.entries()[2]!.hash }));
      expect(() => new AuditLog(path, Date.now, node)).toThrow(/not signed/);
    });
  });
});
