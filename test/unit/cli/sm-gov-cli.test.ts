/**
 * The CLI on an sm2-sm3 chain (ADR 014), against a node's API (a memory ledger; blocks commit right after each
 * accepted tx): validators propose and approve with their SM2 key files, a governance record carries a 65-byte
 * SM2 client key, the new key then records evidence (its tx and its signed API requests SM2); a key of the wrong
 * length, a validator without its peer key, and an Ed25519 key file are refused with clear errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { keyPairFromSeed, sm2KeyPair, writeKeyFile } from '../../../src/core/keys.ts';
import { cli } from '../../helpers/cli-memory.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import { testBytes } from '../../helpers/sm.ts';
import { smGenesis } from '../../helpers/sm-chain.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-sm-gov-cli-'));
// The SM2 keys of smSigner(label) (test/helpers/sm-chain.ts), with an Ed25519 peer key beside them.
const smKey = (label: string) => sm2KeyPair(testBytes(`sm2 ${label}`, 32), testBytes(`peer ${label}`, 32));
const validatorKey = (i: number) => join(dir, `validator-${i}.key`);
const newClientKey = join(dir, 'bank-a-client-2.key');
const edKey = join(dir, 'ed25519.key');
let node: FakeNode;

beforeAll(async () => {
  node = await startFakeNode(smGenesis(), { autoCommit: true });
  for (let i = 0; i < 4; i++) writeKeyFile(validatorKey(i), smKey(`validator-${i}`));
  writeKeyFile(newClientKey, smKey('bank-a/client-2'));
  writeKeyFile(edKey, keyPairFromSeed(testBytes('ed25519 key', 32)));
  writeFileSync(join(dir, 'contract.pdf'), 'bank A contract, SM chain');
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('jrchain gov and evidence on an sm2-sm3 chain', () => {
  it('adds an SM2 client key by a quorum of SM2 validators; the key then records evidence', async () => {
    const pub = toHex(smKey('bank-a/client-2').publicKey);
    const p = await cli(
      'gov',
      'propose',
      'add-client-key',
      'bank-a',
      'client-2',
      pub,
      '--key',
      validatorKey(0),
      '--wait',
      '--node',
      node.url,
      '--json',
    );
    expect(p.code, p.stderr).toBe(0);
    const { proposalId } = JSON.parse(p.stdout);
    for (const v of [1, 2]) {
      const a = await cli(
        'gov',
        'approve',
        proposalId,
        '--key',
        validatorKey(v),
        '--wait',
        '--node',
        node.url,
      );
      expect(a.code, a.stderr).toBe(0);
    }
    const list = JSON.parse((await cli('gov', 'list', '--node', node.url, '--json')).stdout);
    expect(list.proposals[0]).toMatchObject({ status: 'passed', action: { publicKey: pub } });
    const e = await cli(
      'evidence',
      'submit',
      join(dir, 'contract.pdf'),
      '--case',
      'SM-1',
      '--type',
      'contract',
      '--key',
      newClientKey,
      '--node',
      node.url,
      '--wait',
      '--json',
    );
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).summary).toMatchObject({ recorded: 1, failed: 0 });
  });

  it('refuses an Ed25519-length key, a validator without its peer key, and an Ed25519 key file', async () => {
    const propose = (...args: string[]) =>
      cli('gov', 'propose', ...args, '--key', validatorKey(0), '--node', node.url);
    const short = await propose('add-client-key', 'bank-a', 'client-3', toHex(new Uint8Array(32).fill(7)));
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/client key must be a 65-byte sm2-sm3 public key/);
    const validator = smKey('validator-9');
    const noPeer = await propose('add-validator', 'bank-e', toHex(validator.publicKey));
    expect(noPeer.code).toBe(2);
    expect(noPeer.stderr).toMatch(/peer key must be a 32-byte Ed25519 public key/);
    const withPeer = await propose(
      'add-validator',
      'bank-b',
      toHex(validator.publicKey),
      '--peer-key',
      toHex(validator.peerKey),
    );
    // Well formed, so the node decodes it and judges it: bank-b already runs a validator.
    expect(withPeer.code).toBe(1);
    expect(withPeer.stdout).toMatch(/TX_GOV_INVALID_ACTION: bank-b already has a validator/);
    const ed = await cli('gov', 'approve', '00'.repeat(32), '--key', edKey, '--node', node.url);
    expect(ed.code).toBe(3);
    expect(ed.stderr).toMatch(/KEY_FILE_WRONG_SUITE/);
  });
});
