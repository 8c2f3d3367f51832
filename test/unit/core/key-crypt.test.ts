import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { ENCRYPTED_KEY_FORMAT, SCRYPT_PARAMS } from '../../../src/core/key-crypt.ts';
import {
  generateKeyPair,
  KEY_PASSPHRASE_ENV,
  KeyErrorCode,
  loadKeyFile,
  readKeyFile,
  writeKeyFile,
} from '../../../src/core/keys.ts';
import { codeOf } from '../../helpers/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-keyenc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env[KEY_PASSPHRASE_ENV];
});
let n = 0;
const fresh = () => join(dir, `key-${n++}.json`);
const PASS = 'correct horse battery staple';

/** An encrypted key file and its parsed document. */
function encrypted() {
  const path = fresh();
  const key = generateKeyPair();
  writeKeyFile(path, key, { passphrase: PASS });
  return { path, key, doc: JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> };
}

/** Flips the last hex digit of a string. */
const flip = (h: string) => `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}`;

describe('encrypted key files', () => {
  it('round-trip with the passphrase, hold no seed in clear, and are mode 0600', () => {
    const { path, key, doc } = encrypted();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(doc.format).toBe(ENCRYPTED_KEY_FORMAT);
    expect(doc.kdf).toMatchObject({ name: 'scrypt', ...SCRYPT_PARAMS });
    expect(readFileSync(path, 'utf8')).not.toContain(toHex(key.seed));
    const back = loadKeyFile(path, { passphrase: PASS });
    expect(back.encrypted).toBe(true);
    expect(toHex(back.key.seed)).toBe(toHex(key.seed));
  });

  it('take the passphrase from JRCHAIN_KEY_PASSPHRASE', () => {
    const { path, key } = encrypted();
    expect(codeOf(() => readKeyFile(path))).toBe(KeyErrorCode.passphraseRequired);
    process.env[KEY_PASSPHRASE_ENV] = PASS;
    expect(readKeyFile(path).peerId).toBe(key.peerId);
  });

  it('refuse a wrong passphrase with a typed error that shows no secret', () => {
    const { path } = encrypted();
    let message = '';
    try {
      readKeyFile(path, { passphrase: 'wrong passphrase' });
    } catch (err) {
      message = (err as Error).message;
      expect((err as { code?: string }).code).toBe(KeyErrorCode.passphraseWrong);
    }
    expect(message).toContain('wrong passphrase');
    expect(message).not.toContain(PASS);
  });

  it.each<[string, (d: Record<string, unknown>) => Record<string, unknown>]>([
    ['ciphertext', (d) => ({ ...d, ciphertext: flip(d.ciphertext as string) })],
    ['tag', (d) => ({ ...d, tag: flip(d.tag as string) })],
    [
      'nonce',
      (d) => ({
        ...d,
        cipher: { ...(d.cipher as object), nonce: flip((d.cipher as { nonce: string }).nonce) },
      }),
    ],
    ['salt', (d) => ({ ...d, kdf: { ...(d.kdf as object), salt: flip((d.kdf as { salt: string }).salt) } })],
    ['kdf N', (d) => ({ ...d, kdf: { ...(d.kdf as object), N: 2 ** 14 } })],
    ['kdf r', (d) => ({ ...d, kdf: { ...(d.kdf as object), r: 4 } })],
    ['createdAt', (d) => ({ ...d, createdAt: '2020-01-01T00:00:00.000Z' })],
    ['publicKey', (d) => ({ ...d, publicKey: toHex(generateKeyPair().publicKey) })],
    ['peerId', (d) => ({ ...d, peerId: generateKeyPair().peerId })],
  ])('detect a tampered %s', (_field, tamper) => {
    const { path, doc } = encrypted();
    writeFileSync(path, JSON.stringify(tamper(doc)), { mode: 0o600 });
    expect(codeOf(() => readKeyFile(path, { passphrase: PASS }))).toBe(KeyErrorCode.passphraseWrong);
  });

  it.each<[string, (d: Record<string, unknown>) => unknown]>([
    ['a missing tag', ({ tag: _t, ...d }) => d],
    ['a short ciphertext', (d) => ({ ...d, ciphertext: 'abcd' })],
    ['an unknown cipher', (d) => ({ ...d, cipher: { name: 'des', nonce: '00' } })],
    ['an unknown kdf', (d) => ({ ...d, kdf: { name: 'md5' } })],
    ['a huge kdf N', (d) => ({ ...d, kdf: { ...(d.kdf as object), N: 2 ** 30 } })],
    ['an N that is no power of two', (d) => ({ ...d, kdf: { ...(d.kdf as object), N: 1000 } })],
    ['an array', () => []],
  ])('report %s as corrupt', (_name, tamper) => {
    const { path, doc } = encrypted();
    writeFileSync(path, JSON.stringify(tamper(doc)), { mode: 0o600 });
    expect(codeOf(() => readKeyFile(path, { passphrase: PASS }))).toBe(KeyErrorCode.corrupt);
  });

  it('report a truncated file as corrupt', () => {
    const { path } = encrypted();
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, Math.floor(text.length / 2)), { mode: 0o600 });
    expect(codeOf(() => readKeyFile(path, { passphrase: PASS }))).toBe(KeyErrorCode.corrupt);
  });

  it('leave plain key files working, with or without a passphrase set', () => {
    const path = fresh();
    const key = generateKeyPair();
    writeKeyFile(path, key);
    process.env[KEY_PASSPHRASE_ENV] = PASS;
    const back = loadKeyFile(path);
    expect(back.encrypted).toBe(false);
    expect(back.key.peerId).toBe(key.peerId);
  });

  it('are replaced atomically only when asked, leaving no temporary file', () => {
    const { path, key } = encrypted();
    expect(codeOf(() => writeKeyFile(path, key))).toBe(KeyErrorCode.exists);
    writeKeyFile(path, key, { replace: true });
    expect(loadKeyFile(path).encrypted).toBe(false);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toContain(toHex(key.seed));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
