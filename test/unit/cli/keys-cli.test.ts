import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KEY_PASSPHRASE_ENV, loadKeyFile } from '../../../src/core/keys.ts';
import { cli } from '../../helpers/cli-memory.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-keys-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env[KEY_PASSPHRASE_ENV];
});
const PASS = 'a long enough passphrase';

describe('jrchain keys encrypt|decrypt', () => {
  it('encrypt in place from the env var, show it with the passphrase, and decrypt back', async () => {
    const file = join(dir, 'a.key');
    const made = await cli('keys', 'generate', '--out', file, '--json');
    expect(made.code, made.stderr).toBe(0);
    const { peerId } = JSON.parse(made.stdout) as { peerId: string };
    // Without a passphrase and without a terminal: a usage error, the file untouched.
    const refused = await cli('keys', 'encrypt', file);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(KEY_PASSPHRASE_ENV);
    expect(loadKeyFile(file).encrypted).toBe(false);

    process.env[KEY_PASSPHRASE_ENV] = PASS;
    expect((await cli('keys', 'encrypt', file)).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadKeyFile(file).encrypted).toBe(true);
    expect((await cli('keys', 'encrypt', file)).code).toBe(2);
    const shown = await cli('keys', 'show', file, '--json');
    expect(JSON.parse(shown.stdout).peerId).toBe(peerId);
    expect(shown.stdout + shown.stderr).not.toContain(PASS);

    delete process.env[KEY_PASSPHRASE_ENV];
    const missing = await cli('keys', 'decrypt', file);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('KEY_PASSPHRASE_REQUIRED');

    process.env[KEY_PASSPHRASE_ENV] = 'not the passphrase';
    const wrong = await cli('keys', 'decrypt', file);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('KEY_PASSPHRASE_WRONG');
    expect(wrong.stderr).not.toContain('    at ');

    process.env[KEY_PASSPHRASE_ENV] = PASS;
    expect((await cli('keys', 'decrypt', file)).code).toBe(0);
    expect(loadKeyFile(file, { passphrase: '' }).encrypted).toBe(false);
    expect(readFileSync(file, 'utf8')).toContain('"seed"');
  });

  it('refuse a passphrase shorter than 8 characters', async () => {
    process.env[KEY_PASSPHRASE_ENV] = 'short';
    const r = await cli('keys', 'generate', '--out', join(dir, 'b.key'), '--encrypt');
    expect(r.code).toBe(2);
  });

  it('init --encrypt-keys writes both keys encrypted', async () => {
    process.env[KEY_PASSPHRASE_ENV] = PASS;
    const home = join(dir, 'home');
    const r = await cli('init', '--home', home, '--institution', 'bank-a', '--encrypt-keys');
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['validator.key', 'client.key']) expect(loadKeyFile(join(home, f)).encrypted).toBe(true);
  });
});
