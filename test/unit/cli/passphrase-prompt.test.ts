/**
 * A signing command with an encrypted key file and no JRCHAIN_KEY_PASSPHRASE asks for the passphrase on the
 * terminal (issue 17): the real CLI runs under `script`, which gives it a pseudo-terminal, against a fake node.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { keyPairFromSeed, writeKeyFile } from '../../../src/core/keys.ts';
import { JRCHAIN_BIN } from '../../../src/dev/processes.ts';
import { casesGenesis } from '../../helpers/cases.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const dir = mkdtempSync(join(tmpdir(), 'jrchain-prompt-'));
const keyFile = join(dir, 'bank-a.key');
const PASSPHRASE = 'correct horse battery';
let node: FakeNode;

beforeAll(async () => {
  node = await startFakeNode(casesGenesis(), { autoCommit: true });
  const key = keyPairFromSeed(sha256(utf8.encode('jrchain-test-key:bank-a/client-1')));
  writeKeyFile(keyFile, key, { passphrase: PASSPHRASE });
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the CLI on a pseudo-terminal and types `typed` once the prompt shows (typed earlier, the terminal would
 * echo it before the CLI turns echo off); resolves with the exit code and the terminal's text.
 */
function onTerminal(args: string[], typed: string): Promise<{ code: number | null; text: string }> {
  const cmd = [process.execPath, JRCHAIN_BIN, ...args].map((a) => `'${a}'`).join(' ');
  const env = { ...process.env };
  delete env.JRCHAIN_KEY_PASSPHRASE;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 60 s:\n${text}`));
    }, 60_000);
    let text = '';
    let asked = false;
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      if (!asked && text.includes('passphrase for')) {
        asked = true;
        child.stdin.write(typed);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, text });
    });
  });
}

describe.skipIf(!hasScript)('signing commands prompt for a key passphrase on a terminal', () => {
  it('evidence submit asks, signs with the decrypted key, and refuses a wrong passphrase', async () => {
    const args = (hash: string) => [
      'evidence',
      'submit',
      '--hash',
      hash,
      '--case',
      'PROMPT-1',
      '--type',
      'contract',
      '--key',
      keyFile,
      '--node',
      node.url,
      '--wait',
      '--json',
    ];
    const ok = await onTerminal(args('ab'.repeat(32)), `${PASSPHRASE}\r`);
    expect(ok.text).toContain(`passphrase for ${keyFile}`);
    expect(ok.text).not.toContain(PASSPHRASE);
    expect(ok.code, ok.text).toBe(0);
    expect(ok.text).toMatch(/"recorded": 1/);
    const wrong = await onTerminal(args('cd'.repeat(32)), 'not the passphrase\r');
    expect(wrong.code).toBe(3);
    expect(wrong.text).toMatch(/KEY_PASSPHRASE_WRONG/);
  }, 120_000);
});
