import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGenesisFile } from '../../../src/core/genesis-file.ts';
import { readKeyFile } from '../../../src/core/keys.ts';
import { loadConfig } from '../../../src/node/config.ts';
import { cli } from '../../helpers/cli-memory.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('jrchain init', () => {
  it('creates keys (0600), a member file and a config that loads; four homes make a genesis', async () => {
    const members: string[] = [];
    for (const [i, id] of ['bank-a', 'bank-b', 'bank-c', 'bank-d'].entries()) {
      const home = join(dir, id);
      const r = await cli(
        'init',
        '--home',
        home,
        '--institution',
        id,
        '--name',
        `Bank ${i}`,
        '--p2p-port',
        `${17200 + i}`,
        '--api-port',
        `${18200 + i}`,
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(statSync(join(home, 'validator.key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(home, 'client.key')).mode & 0o777).toBe(0o600);
      expect(readKeyFile(join(home, 'validator.key')).peerId).toBe(out.peerId);
      const member = JSON.parse(readFileSync(out.memberFile, 'utf8'));
      expect(JSON.stringify(member)).not.toMatch(/seed/);
      expect(member.validator.addrs).toEqual([`/ip4/127.0.0.1/tcp/${17200 + i}`]);
      // Its X25519 encryption key (ADR 015): the file 0600 in the home, the public key in the member file.
      expect(statSync(join(home, 'encryption.key')).mode & 0o777).toBe(0o600);
      expect(member.encryptionKey).toBe(
        JSON.parse(readFileSync(join(home, 'encryption.key'), 'utf8')).publicKey,
      );
      expect(out.encryptionPublicKey).toBe(member.encryptionKey);
      const config = loadConfig(home, {}, {});
      expect(config).toMatchObject({ institution: id, api: { host: '127.0.0.1', port: 18200 + i } });
      members.push('--member', out.memberFile);
    }
    const g = join(dir, 'genesis.json');
    const created = await cli('genesis', 'create', '--chain-id', 'jingrong-1', '--out', g, ...members);
    expect(created.code, created.stderr).toBe(0);
    // A new chain requires sealed cases, and registers every member's encryption key from block 1.
    const genesis = loadGenesisFile(g);
    expect(genesis.cases.sealing).toBe('required');
    expect(genesis.institutions.every((inst) => inst.encryptionKey?.length === 32)).toBe(true);
    expect(loadGenesisFile(g).validators.map((v) => v.institution)).toEqual([
      'bank-a',
      'bank-b',
      'bank-c',
      'bank-d',
    ]);
  });

  it('--observer --role court: a member without a validator, with its role, in the genesis', async () => {
    const members: string[] = [];
    for (const [id, extra] of [
      ['bank-x', []],
      ['court-x', ['--observer', '--role', 'court']],
    ] as const) {
      const r = await cli('init', '--home', join(dir, id), '--institution', id, '--json', ...extra);
      expect(r.code, r.stderr).toBe(0);
      members.push('--member', JSON.parse(r.stdout).memberFile);
    }
    const court = JSON.parse(readFileSync(join(dir, 'court-x', 'member.json'), 'utf8'));
    expect(court.validator).toBeUndefined();
    expect(court.institution.role).toBe('court');
    const g = join(dir, 'observer-genesis.json');
    const created = await cli('genesis', 'create', '--chain-id', 'observers-1', '--out', g, ...members);
    expect(created.code, created.stderr).toBe(0);
    const genesis = loadGenesisFile(g);
    expect(genesis.validators.map((v) => v.institution)).toEqual(['bank-x']);
    expect(genesis.institutions.map((i) => [i.id, i.role])).toEqual([
      ['bank-x', 'bank'],
      ['court-x', 'court'],
    ]);
    const human = await cli('init', '--home', join(dir, 'reg-x'), '--institution', 'reg-x', '--observer');
    const allowLine = /jrchain observer allow --home <validator home> (12D3KooW\w+)/.exec(human.stdout);
    expect(allowLine, human.stdout).not.toBeNull();
    const peerId = allowLine![1]!;

    // The printed line, run on a validator's home, lists the observer in its config (once).
    const bankHome = join(dir, 'bank-x');
    const allow = await cli('observer', 'allow', '--home', bankHome, peerId, '--json');
    expect(allow.code, allow.stderr).toBe(0);
    expect(JSON.parse(allow.stdout)).toMatchObject({ peerId, added: true });
    expect(loadConfig(bankHome, {}, {}).p2p.observers).toEqual([peerId]);
    expect((statSync(join(bankHome, 'config.json')).mode & 0o777).toString(8)).toBe('600');
    const again = await cli('observer', 'allow', '--home', bankHome, peerId);
    expect(again.stdout).toMatch(/already listed/);
    expect(loadConfig(bankHome, {}, {}).p2p.observers).toEqual([peerId]);
    const bad = await cli('observer', 'allow', '--home', bankHome, 'not-a-peer-id');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a peer id/);
    expect(
      (await cli('init', '--home', join(dir, 'bad-x'), '--institution', 'bad-x', '--role', 'notary')).code,
    ).toBe(2);
  });

  it('refuses to re-initialise a home, and a bad institution id', async () => {
    const again = await cli('init', '--home', join(dir, 'bank-a'), '--institution', 'bank-a');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already initialised/);
    const bad = await cli('init', '--home', join(dir, 'x'), '--institution', 'Bank A');
    expect(bad.code).toBe(2);
    const port = await cli('init', '--home', join(dir, 'y'), '--institution', 'y', '--api-port', 'http');
    expect(port.code).toBe(2);
  });
});
