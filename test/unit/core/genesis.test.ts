import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import {
  GenesisError,
  genesisHash,
  genesisToJson,
  genesisValidatorSet,
  parseGenesis,
} from '../../../src/core/genesis.ts';
import { loadGenesisFile } from '../../../src/core/genesis-file.ts';
import { peerIdOf } from '../../../src/core/keys.ts';
import { GovernanceState } from '../../../src/ledger/governance-state.ts';
import { testGenesisJson } from '../../helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-genesis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function failure(mutate: (g: Record<string, any>) => void): GenesisError {
  const g = structuredClone(testGenesisJson()) as Record<string, any>;
  mutate(g);
  try {
    parseGenesis(g);
  } catch (e) {
    if (e instanceof GenesisError) return e;
    throw e;
  }
  throw new Error('genesis was accepted');
}

describe('genesis', () => {
  it('parses, fills defaults, derives peer ids, and round-trips through its JSON form', () => {
    const g = parseGenesis(testGenesisJson());
    expect(g.validators).toHaveLength(4);
    expect(g.validators[0]!.peerId).toBe(peerIdOf(g.validators[0]!.publicKey));
    expect(g.validators[0]!.peerId).toMatch(/^12D3KooW/);
    expect(g.consensus.checkpointInterval).toBe(64);
    const again = parseGenesis(JSON.parse(JSON.stringify(genesisToJson(g))));
    expect(again).toEqual(g);
    expect(toHex(genesisHash(again))).toBe(toHex(genesisHash(g)));
  });

  it('the hash identifies the chain but ignores network addresses', () => {
    const base = toHex(genesisHash(parseGenesis(testGenesisJson())));
    const moved = testGenesisJson() as Record<string, any>;
    moved.validators[0].addrs = ['/ip4/10.0.0.9/tcp/9999'];
    expect(toHex(genesisHash(parseGenesis(moved)))).toBe(base);
    const renamed = testGenesisJson() as Record<string, any>;
    renamed.institutions[0].name = 'Another Bank';
    expect(toHex(genesisHash(parseGenesis(renamed)))).not.toBe(base);
    const otherChain = testGenesisJson() as Record<string, any>;
    otherChain.chainId = 'jrchain-other';
    expect(toHex(genesisHash(parseGenesis(otherChain)))).not.toBe(base);
    const tuned = testGenesisJson({ consensus: { checkpointInterval: 32, watermarkWindow: 128 } });
    expect(toHex(genesisHash(parseGenesis(tuned)))).not.toBe(base);
  });

  it('cases.sealing (ADR 015): absent reads as optional and hashes as before; required changes the hash and round-trips', () => {
    const plain = parseGenesis(testGenesisJson());
    expect(plain.cases).toEqual({ sealing: 'optional' });
    expect(genesisToJson(plain)).not.toHaveProperty('cases');
    const optional = parseGenesis(testGenesisJson({ cases: { sealing: 'optional' } }));
    expect(toHex(genesisHash(optional))).toBe(toHex(genesisHash(plain)));
    const required = parseGenesis(testGenesisJson({ cases: { sealing: 'required' } }));
    expect(required.cases.sealing).toBe('required');
    expect(toHex(genesisHash(required))).not.toBe(toHex(genesisHash(plain)));
    const again = parseGenesis(JSON.parse(JSON.stringify(genesisToJson(required))));
    expect(again).toEqual(required);
    expect(failure((g) => (g.cases = { sealing: 'sometimes' })).message).toMatch(/genesis\.cases\.sealing/);
    expect(failure((g) => (g.cases = { sealing: 'required', extra: 1 })).message).toMatch(/unknown field/);
    expect(failure((g) => (g.cases = {})).message).toMatch(/genesis\.cases\.sealing: missing/);
  });

  it('an institution may carry its X25519 encryption key: hashed, round-tripped, registered from block 1', () => {
    const json = testGenesisJson() as Record<string, any>;
    json.institutions[0].encryptionKey = '55'.repeat(32);
    const g = parseGenesis(json);
    expect(toHex(g.institutions[0]!.encryptionKey!)).toBe('55'.repeat(32));
    expect(toHex(genesisHash(g))).not.toBe(toHex(genesisHash(parseGenesis(testGenesisJson()))));
    expect(parseGenesis(JSON.parse(JSON.stringify(genesisToJson(g))))).toEqual(g);
    expect(toHex(GovernanceState.fromGenesis(g).encryptionKeyOf('bank-a')!)).toBe('55'.repeat(32));
    expect(GovernanceState.fromGenesis(g).encryptionKeyOf('bank-b')).toBeUndefined();
    const bad = failure((x) => (x.institutions[0].encryptionKey = '55'.repeat(31)));
    expect(bad.message).toMatch(/institutions\[0\]\.encryptionKey: must be a 32-byte X25519 public key/);
  });

  it('orders the validator set as listed', () => {
    const g = parseGenesis(testGenesisJson());
    expect(genesisValidatorSet(g).validators.map((v) => v.institution)).toEqual([
      'bank-a',
      'bank-b',
      'bank-c',
      'bank-d',
    ]);
  });

  it.each<[string, (g: Record<string, any>) => void, RegExp]>([
    ['an unknown top-level field', (g) => (g.extra = 1), /genesis\.extra: unknown field/],
    ['a wrong format', (g) => (g.format = 'v2'), /format/],
    ['a bad chain id', (g) => (g.chainId = 'Bad Chain'), /chainId/],
    ['a non-UTC time', (g) => (g.createdAt = '2026-01-01 00:00'), /createdAt/],
    ['no institutions', (g) => (g.institutions = []), /at least one institution/],
    ['duplicate institutions', (g) => (g.institutions[1].id = 'bank-a'), /duplicate institution/],
    [
      'a validator of an unknown institution',
      (g) => (g.validators[0].institution = 'bank-x'),
      /unknown institution/,
    ],
    [
      'two validators for one institution',
      (g) => (g.validators[1].institution = 'bank-a'),
      /already has a validator/,
    ],
    ['a reused validator key', (g) => (g.validators[1].publicKey = g.validators[0].publicKey), /used twice/],
    ['a short key', (g) => (g.validators[0].publicKey = 'abcd'), /32-byte/],
    ['a wrong peer id', (g) => (g.validators[0].peerId = '12D3KooWxyz'), /peerId/],
    ['a bad multiaddr', (g) => (g.validators[0].addrs = ['127.0.0.1:7000']), /addrs\[0\]/],
    [
      'duplicate client key ids',
      (g) => g.institutions[0].clientKeys.push(g.institutions[0].clientKeys[0]),
      /duplicate keyId/,
    ],
    [
      'a client key reused as a validator key',
      (g) => (g.institutions[0].clientKeys[0].publicKey = g.validators[2].publicKey),
      /reused/,
    ],
    [
      'the reserved validator key id as a client key id',
      (g) => (g.institutions[0].clientKeys[0].keyId = 'validator'),
      /clientKeys\[0\]\.keyId: "validator" is reserved/,
    ],
    ['an unknown consensus parameter', (g) => (g.consensus = { fast: 1 }), /consensus\.fast: unknown field/],
    ['a zero checkpoint interval', (g) => (g.consensus = { checkpointInterval: 0 }), /checkpointInterval/],
    [
      'a window that is not a multiple of K',
      (g) => (g.consensus = { watermarkWindow: 100 }),
      /watermarkWindow/,
    ],
    [
      'a TSA anchor that is not a certificate',
      (g) => (g.tsa = { trustAnchors: ['nope'] }),
      /trustAnchors\[0\]/,
    ],
    ['a string where a number belongs', (g) => (g.consensus = { maxBatchTxs: '10' }), /maxBatchTxs/],
  ])('rejects %s', (_name, mutate, message) => {
    const err = failure(mutate);
    expect(err.code).toBe('GENESIS_INVALID');
    expect(err.message).toMatch(message);
  });

  it('loads from a file, and reports unreadable or broken files with their own codes', () => {
    const good = join(dir, 'genesis.json');
    writeFileSync(good, JSON.stringify(testGenesisJson()));
    expect(loadGenesisFile(good).chainId).toBe('jrchain-test');
    expect(() => loadGenesisFile(join(dir, 'missing.json'))).toThrow(
      expect.objectContaining({ code: 'GENESIS_UNREADABLE' }),
    );
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"format": ');
    expect(() => loadGenesisFile(broken)).toThrow(expect.objectContaining({ code: 'GENESIS_INVALID' }));
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, Buffer.alloc(4 * 1024 * 1024 + 1, 0x20));
    expect(() => loadGenesisFile(huge)).toThrow(expect.objectContaining({ code: 'GENESIS_TOO_LARGE' }));
  });
});
