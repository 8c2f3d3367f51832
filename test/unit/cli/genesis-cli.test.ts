import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MEMBER_FORMAT } from '../../../src/core/member.ts';
import { cli } from '../../helpers/cli-memory.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function makeMember(id: string, port: number): Promise<string> {
  const v = await cli('keys', 'generate', '--out', join(dir, `${id}-validator.key`), '--json');
  const c = await cli('keys', 'generate', '--out', join(dir, `${id}-client.key`), '--json');
  const member = {
    format: MEMBER_FORMAT,
    institution: { id, name: `Institution ${id}` },
    validator: { publicKey: JSON.parse(v.stdout).publicKey, addrs: [`/ip4/127.0.0.1/tcp/${port}`] },
    clientKeys: [{ keyId: 'client-1', publicKey: JSON.parse(c.stdout).publicKey }],
  };
  const path = join(dir, `${id}.member.json`);
  writeFileSync(path, JSON.stringify(member));
  return path;
}

describe('jrchain keys', () => {
  it('generate writes a 0600 key file and prints the public key and peer id', async () => {
    const out = join(dir, 'k1.key');
    const r = await cli('keys', 'generate', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/public key: [0-9a-f]{64}/);
    expect(r.stdout).toMatch(/peer id: 12D3KooW/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const show = await cli('keys', 'show', out, '--json');
    expect(JSON.parse(show.stdout).publicKey).toBe(/public key: ([0-9a-f]{64})/.exec(r.stdout)![1]);
    expect(show.stdout).not.toMatch(/seed/);
  });

  it('refuses to overwrite, with a clear error and exit code 3', async () => {
    const out = join(dir, 'k2.key');
    await cli('keys', 'generate', '--out', out);
    const r = await cli('keys', 'generate', '--out', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/KEY_FILE_EXISTS.*refusing to overwrite/);
  });

  it('a missing required flag is a usage error (exit 2)', async () => {
    const r = await cli('keys', 'generate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out/);
  });
});

describe('jrchain genesis', () => {
  it('create assembles members in order, and verify accepts the result', async () => {
    const members = [await makeMember('bank-a', 17001), await makeMember('bank-b', 17002)];
    members.push(await makeMember('bank-c', 17003), await makeMember('bank-d', 17004));
    const out = join(dir, 'genesis.json');
    const args = ['genesis', 'create', '--chain-id', 'jingrong-test', '--out', out, '--json'];
    for (const m of members) args.push('--member', m);
    const created = await cli(
      ...args,
      '--consensus',
      'checkpointInterval=32',
      '--consensus',
      'watermarkWindow=128',
    );
    expect(created.code, created.stderr).toBe(0);
    const summary = JSON.parse(created.stdout);
    expect(summary).toMatchObject({ chainId: 'jingrong-test', validators: 4, institutions: 4 });
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.validators.map((v: { institution: string }) => v.institution)).toEqual([
      'bank-a',
      'bank-b',
      'bank-c',
      'bank-d',
    ]);
    expect(doc.consensus.checkpointInterval).toBe(32);

    const verified = await cli('genesis', 'verify', out, '--json');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, genesisHash: summary.genesisHash });

    const again = await cli(...args);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--force/);

    // A new chain requires sealed cases unless told otherwise (ADR 015).
    expect(summary.caseSealing).toBe('required');
    expect(doc.cases).toEqual({ sealing: 'required' });
    const optional = await cli(...args, '--force', '--case-sealing', 'optional');
    expect(JSON.parse(optional.stdout).caseSealing).toBe('optional');
    expect(JSON.parse(readFileSync(out, 'utf8'))).not.toHaveProperty('cases');
    const bad = await cli(...args, '--force', '--case-sealing', 'sometimes');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--case-sealing must be one of: required, optional/);
  });

  it('create --crypto-suite sm2-sm3 builds an SM genesis from SM2 members, and refuses Ed25519 members', async () => {
    const smMember = async (id: string, port: number) => {
      const gen = (name: string) =>
        cli(
          'keys',
          'generate',
          '--crypto-suite',
          'sm2-sm3',
          '--out',
          join(dir, `${id}-${name}.key`),
          '--json',
        );
      const v = JSON.parse((await gen('validator')).stdout);
      const c = JSON.parse((await gen('client')).stdout);
      const member = {
        format: MEMBER_FORMAT,
        institution: { id, name: `Institution ${id}` },
        validator: { publicKey: v.publicKey, peerKey: v.peerKey, addrs: [`/ip4/127.0.0.1/tcp/${port}`] },
        clientKeys: [{ keyId: 'client-1', publicKey: c.publicKey }],
      };
      const path = join(dir, `${id}.sm-member.json`);
      writeFileSync(path, JSON.stringify(member));
      return { path, validatorKey: v.publicKey as string };
    };
    const members = [];
    for (const [i, id] of ['sm-a', 'sm-b', 'sm-c', 'sm-d'].entries())
      members.push(await smMember(id, 17101 + i));
    const out = join(dir, 'sm-genesis.json');
    const args = ['genesis', 'create', '--chain-id', 'jingrong-sm', '--out', out, '--json'];
    for (const m of members) args.push('--member', m.path);
    const created = await cli(...args, '--crypto-suite', 'sm2-sm3');
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ cryptoSuite: 'sm2-sm3', validators: 4 });
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.cryptoSuite).toBe('sm2-sm3');
    expect(doc.validators[0].publicKey).toBe(members[0]!.validatorKey);
    expect(doc.validators[0].publicKey).toHaveLength(130);
    expect(doc.validators[0].peerKey).toHaveLength(64);
    const verified = await cli('genesis', 'verify', out, '--json');
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, cryptoSuite: 'sm2-sm3' });

    // SM2 members without the flag, or Ed25519 members with it: a clear error naming the key.
    const noFlag = await cli(...args, '--force');
    expect(noFlag.code).toBe(1);
    expect(noFlag.stderr).toMatch(/GENESIS_INVALID.*publicKey: must be a 32-byte Ed25519 public key/);
    const ed = await makeMember('ed-a', 17109);
    const edArgs = ['genesis', 'create', '--chain-id', 'c-sm', '--member', ed, '--out', join(dir, 'g4.json')];
    const mixed = await cli(...edArgs, '--crypto-suite', 'sm2-sm3');
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/GENESIS_INVALID.*must be a 65-byte sm2-sm3 public key/);
    const unknown = await cli(...edArgs, '--crypto-suite', 'rsa');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--crypto-suite must be one of: ed25519-sha256, sm2-sm3/);
  });

  it('verify says "invalid" with exit 1 for a bad genesis and exit 3 for an unreadable one', async () => {
    const bad = join(dir, 'bad-genesis.json');
    writeFileSync(bad, JSON.stringify({ format: 'jrchain-genesis/v1', chainId: 'x' }));
    const r = await cli('genesis', 'verify', bad);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/invalid genesis: .*createdAt: missing/);
    const missing = await cli('genesis', 'verify', join(dir, 'nope.json'));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/GENESIS_UNREADABLE/);
  });

  it('rejects a bad --consensus flag and a broken member file', async () => {
    const m = await makeMember('bank-x', 17009);
    const r = await cli(
      'genesis',
      'create',
      '--chain-id',
      'c1',
      '--member',
      m,
      '--out',
      join(dir, 'g2.json'),
      '--consensus',
      'speed=9',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--consensus expects key=integer/);
    const broken = join(dir, 'broken.member.json');
    writeFileSync(broken, '{not json');
    const b = await cli(
      'genesis',
      'create',
      '--chain-id',
      'c1',
      '--member',
      broken,
      '--out',
      join(dir, 'g3.json'),
    );
    expect(b.code).toBe(3);
    expect(b.stderr).toMatch(/MEMBER_FILE_INVALID/);
  });

  it('--help explains every command', async () => {
    const r = await cli('genesis', 'create', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--member <file>/);
    expect(r.stdout).toMatch(/validator indexes/);
  });
});
