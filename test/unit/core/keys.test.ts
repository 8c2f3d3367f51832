import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { Domain, verifySignature } from '../../../src/core/crypto.ts';
import {
  generateKeyPair,
  KeyErrorCode,
  peerIdOf,
  readKeyFile,
  writeKeyFile,
} from '../../../src/core/keys.ts';
import { codeOf } from '../../helpers/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `key-${n++}.json`);

describe('key files', () => {
  it('are written with mode 0600 and load back to the same working key', () => {
    const path = fresh();
    const key = generateKeyPair();
    writeKeyFile(path, key);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const back = readKeyFile(path);
    expect(toHex(back.publicKey)).toBe(toHex(key.publicKey));
    expect(back.peerId).toBe(key.peerId);
    const sig = back.signer.sign(Domain.tx, new Uint8Array([1, 2, 3]));
    expect(verifySignature(key.publicKey, Domain.tx, new Uint8Array([1, 2, 3]), sig)).toBe(true);
  });

  it('derive the libp2p peer id from the public key', () => {
    const key = generateKeyPair();
    expect(key.peerId).toBe(peerIdOf(key.publicKey));
    expect(key.peerId).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]+$/);
  });

  it('are never overwritten', () => {
    const path = fresh();
    writeKeyFile(path, generateKeyPair());
    const before = readFileSync(path, 'utf8');
    expect(codeOf(() => writeKeyFile(path, generateKeyPair()))).toBe(KeyErrorCode.exists);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('refuse to load when group or others can read them', () => {
    const path = fresh();
    writeKeyFile(path, generateKeyPair());
    chmodSync(path, 0o644);
    expect(codeOf(() => readKeyFile(path))).toBe(KeyErrorCode.permissions);
  });

  it('report a missing file', () => {
    expect(codeOf(() => readKeyFile(join(dir, 'absent.json')))).toBe(KeyErrorCode.notFound);
  });

  it.each<[string, (doc: Record<string, unknown>) => string]>([
    ['not JSON', () => '{{{'],
    ['a wrong format', (d) => JSON.stringify({ ...d, format: 'x' })],
    ['a short seed', (d) => JSON.stringify({ ...d, seed: 'abcd' })],
    [
      'a public key that does not match the seed',
      (d) => JSON.stringify({ ...d, publicKey: toHex(generateKeyPair().publicKey) }),
    ],
    ['a peer id that does not match', (d) => JSON.stringify({ ...d, peerId: generateKeyPair().peerId })],
    [
      'a flipped seed bit',
      (d) =>
        JSON.stringify({
          ...d,
          seed: `${(d.seed as string).slice(0, -1)}${(d.seed as string).endsWith('0') ? '1' : '0'}`,
        }),
    ],
  ])('detect corruption: %s', (_name, corrupt) => {
    const path = fresh();
    writeKeyFile(path, generateKeyPair());
    const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    writeFileSync(path, corrupt(doc), { mode: 0o600 });
    expect(codeOf(() => readKeyFile(path))).toBe(KeyErrorCode.corrupt);
  });
});
