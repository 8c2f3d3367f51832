/**
 * Key files of sm2-sm3 chains (ADR 014): an SM2 signing key with an Ed25519 libp2p peer key, plain and
 * encrypted; `keys generate`/`init` with --crypto-suite; a key of the wrong suite refused with a clear error,
 * by the key reader and by a node loading its identity.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { Domain, publicKeyFromSeed } from '../../../src/core/crypto.ts';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import {
  generateKeyPair,
  KeyErrorCode,
  KeyFileError,
  loadKeyFile,
  peerIdOf,
  readKeyFile,
  validatorPeerId,
  writeKeyFile,
} from '../../../src/core/keys.ts';
import { assembleGenesis, readMemberFile } from '../../../src/core/member.ts';
import { defaultConfig } from '../../../src/node/config.ts';
import { loadIdentity } from '../../../src/node/node.ts';
import { cli } from '../../helpers/cli-memory.ts';
import { testGenesisJson } from '../../helpers/fixtures.ts';
import { smGenesis, smGenesisJson } from '../../helpers/sm-chain.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-sm-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof KeyFileError) return e.code;
    throw e;
  }
  return undefined;
}

describe('sm2 key files', () => {
  it('round-trip plain and encrypted: an SM2 signer and an Ed25519 peer identity', () => {
    const key = generateKeyPair('sm2-sm3');
    expect(key.publicKey.length).toBe(65);
    expect(toHex(key.peerKey)).toBe(toHex(publicKeyFromSeed(key.seed)));
    expect(key.peerId).toBe(peerIdOf(key.peerKey));
    const plain = join(dir, 'plain.key');
    writeKeyFile(plain, key);
    expect(statSync(plain).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(readFileSync(plain, 'utf8'));
    expect(Object.keys(doc).sort()).toEqual(
      ['createdAt', 'format', 'peerId', 'peerKey', 'peerSeed', 'privateKey', 'publicKey', 'type'].sort(),
    );
    expect(doc.type).toBe('sm2');
    const back = readKeyFile(plain, { suite: 'sm2-sm3' });
    expect(back.suite).toBe('sm2-sm3');
    expect(toHex(back.publicKey)).toBe(toHex(key.publicKey));
    expect(back.peerId).toBe(key.peerId);
    // The signer signs SM2 under the key the file names.
    const sig = back.signer.sign(Domain.tx, new Uint8Array([1, 2, 3]));
    expect(SM2_SM3.verify(key.publicKey, Domain.tx, new Uint8Array([1, 2, 3]), sig)).toBe(true);

    const sealed = join(dir, 'sealed.key');
    writeKeyFile(sealed, key, { passphrase: 'a long enough passphrase' });
    expect(readFileSync(sealed, 'utf8')).not.toContain(doc.privateKey);
    const opened = loadKeyFile(sealed, { suite: 'sm2-sm3', passphrase: 'a long enough passphrase' });
    expect(opened.encrypted).toBe(true);
    expect(toHex(opened.key.privateKey!)).toBe(toHex(key.privateKey!));
    expect(toHex(opened.key.seed)).toBe(toHex(key.seed));
    expect(codeOf(() => loadKeyFile(sealed, { suite: 'sm2-sm3', passphrase: 'wrong passphrase!' }))).toBe(
      KeyErrorCode.passphraseWrong,
    );
  });

  it('refuses a key of the other suite, and a corrupt one, by name', () => {
    const sm = join(dir, 'sm.key');
    const ed = join(dir, 'ed.key');
    writeKeyFile(sm, generateKeyPair('sm2-sm3'));
    writeKeyFile(ed, generateKeyPair());
    // The default reader is Ed25519's: an SM2 file's peer seed is never taken for a signing key.
    expect(codeOf(() => readKeyFile(sm))).toBe(KeyErrorCode.wrongSuite);
    expect(() => readKeyFile(sm)).toThrow(/is an sm2 key .*needs an ed25519 key/);
    expect(codeOf(() => readKeyFile(ed, { suite: 'sm2-sm3' }))).toBe(KeyErrorCode.wrongSuite);
    expect(readKeyFile(sm, { suite: 'any' }).suite).toBe('sm2-sm3');
    expect(readKeyFile(ed, { suite: 'any' }).suite).toBe('ed25519-sha256');

    const doc = JSON.parse(readFileSync(sm, 'utf8'));
    const tamper = (field: string, value: string, why: RegExp) => {
      const f = join(dir, `bad-${field}.key`);
      writeFileSync(f, JSON.stringify({ ...doc, [field]: value }), { mode: 0o600 });
      expect(codeOf(() => readKeyFile(f, { suite: 'sm2-sm3' }))).toBe(KeyErrorCode.corrupt);
      expect(() => readKeyFile(f, { suite: 'sm2-sm3' })).toThrow(why);
    };
    const other = generateKeyPair('sm2-sm3');
    tamper('publicKey', toHex(other.publicKey), /public key does not match/);
    tamper('peerKey', toHex(other.peerKey), /peer key does not match/);
    tamper('privateKey', 'ff'.repeat(32), /not an SM2 private key/);
    tamper('peerSeed', 'abcd', /peerSeed is not 32 bytes/);
  });

  it("peer ids of an SM chain's validators are those of the genesis peer keys", () => {
    const g = smGenesis();
    for (const v of g.validators) {
      expect(v.peerKey).toBeDefined();
      expect(validatorPeerId(v.publicKey, g)).toBe(peerIdOf(v.peerKey!));
    }
    // An SM2 key the genesis does not name has no peer id; an Ed25519 key is its own peer key.
    expect(validatorPeerId(generateKeyPair('sm2-sm3').publicKey, g)).toBeUndefined();
    const ed = generateKeyPair();
    expect(validatorPeerId(ed.publicKey, g)).toBe(ed.peerId);
  });

  it('peer ids of SM validators governance added or rotated come from the peer key their action named', () => {
    const g = smGenesis();
    const added = generateKeyPair('sm2-sm3');
    const stranger = generateKeyPair('sm2-sm3');
    const named = new Map([[toHex(added.publicKey), added.peerKey]]);
    const lookup = (k: Uint8Array) => named.get(toHex(k));
    expect(validatorPeerId(added.publicKey, g, lookup)).toBe(added.peerId);
    expect(validatorPeerId(stranger.publicKey, g, lookup)).toBeUndefined();
    // The genesis names its validators' peer keys first; an Ed25519 key stays its own peer key.
    const other = () => stranger.peerKey;
    expect(validatorPeerId(g.validators[0]!.publicKey, g, other)).toBe(g.validators[0]!.peerId);
    const ed = generateKeyPair();
    expect(validatorPeerId(ed.publicKey, g, other)).toBe(ed.peerId);
  });
});

describe('keys generate and init with --crypto-suite sm2-sm3', () => {
  it('keys generate writes an sm2 key file and prints both public keys', async () => {
    const file = join(dir, 'gen.key');
    const r = await cli('keys', 'generate', '--crypto-suite', 'sm2-sm3', '--out', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    const key = readKeyFile(file, { suite: 'sm2-sm3' });
    expect(info).toMatchObject({ type: 'sm2', publicKey: toHex(key.publicKey), peerKey: toHex(key.peerKey) });
    expect(info.peerId).toBe(key.peerId);
    const shown = await cli('keys', 'show', file);
    expect(shown.stdout).toContain(`peer key: ${toHex(key.peerKey)}`);
    const bad = await cli('keys', 'generate', '--crypto-suite', 'rsa', '--out', join(dir, 'x.key'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--crypto-suite must be one of: ed25519-sha256, sm2-sm3');
  });

  it('init makes SM2 homes whose member files assemble into an SM genesis the node loads', async () => {
    const members = [];
    for (const [i, id] of ['bank-a', 'bank-b', 'bank-c', 'bank-d'].entries()) {
      const home = join(dir, `home-${id}`);
      const r = await cli(
        'init',
        '--home',
        home,
        '--institution',
        id,
        '--p2p-port',
        `${17300 + i}`,
        '--crypto-suite',
        'sm2-sm3',
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      const key = readKeyFile(join(home, 'validator.key'), { suite: 'sm2-sm3' });
      const member = readMemberFile(join(home, 'member.json'));
      expect(member.validator).toMatchObject({
        publicKey: toHex(key.publicKey),
        peerKey: toHex(key.peerKey),
      });
      expect(readKeyFile(join(home, 'client.key'), { suite: 'sm2-sm3' }).publicKey.length).toBe(65);
      expect(JSON.parse(r.stdout).peerId).toBe(key.peerId);
      members.push(member);
    }
    const { json, genesis } = assembleGenesis(members, {
      chainId: 'sm-init',
      createdAt: new Date(),
      cryptoSuite: 'sm2-sm3',
    });
    expect(genesis.validators[0]!.peerKey).toBeDefined();
    const home = join(dir, 'home-bank-a');
    writeFileSync(join(home, 'genesis.json'), JSON.stringify(json));
    const { key, genesis: loaded } = loadIdentity(defaultConfig(home, 'bank-a'));
    expect(loaded.cryptoSuite).toBe('sm2-sm3');
    expect(key.peerId).toBe(loaded.validators[0]!.peerId);
    expect(toHex(key.publicKey)).toBe(toHex(loaded.validators[0]!.publicKey));
  });
});

describe('a node loading its identity', () => {
  const home = join(dir, 'node');
  it('refuses a key file of the other suite than the genesis, and loads a matching one', () => {
    const config = defaultConfig(home, 'bank-a');
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    writeKeyFile(join(home, 'validator.key'), generateKeyPair());
    writeFileSync(join(home, 'genesis.json'), JSON.stringify(smGenesisJson()));
    expect(codeOf(() => loadIdentity(config))).toBe(KeyErrorCode.wrongSuite);

    writeFileSync(join(home, 'genesis.json'), JSON.stringify(testGenesisJson()));
    expect(loadIdentity(config).genesis.chainId).toBe('jrchain-test');

    rmSync(join(home, 'validator.key'));
    writeKeyFile(join(home, 'validator.key'), generateKeyPair('sm2-sm3'));
    expect(codeOf(() => loadIdentity(config))).toBe(KeyErrorCode.wrongSuite);
    writeFileSync(join(home, 'genesis.json'), JSON.stringify(smGenesisJson()));
    expect(loadIdentity(config).key.suite).toBe('sm2-sm3');
  });
});
