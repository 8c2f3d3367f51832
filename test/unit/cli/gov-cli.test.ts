/**
 * `jrchain gov` against a node's API (a memory ledger; blocks commit right after each accepted tx): a fifth
 * institution is registered by a quorum of validator approvals and can then record evidence; a proposal
 * without a quorum stays pending; a key outside the validator set cannot approve.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { keyPairFromSeed, writeKeyFile } from '../../../src/core/keys.ts';
import { cli } from '../../helpers/cli-memory.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import { testGenesis } from '../../helpers/fixtures.ts';

const genesis = testGenesis();
const dir = mkdtempSync(join(tmpdir(), 'jrchain-gov-cli-'));
const keyOf = (label: string) => keyPairFromSeed(sha256(utf8.encode(`jrchain-test-key:${label}`)));
const validatorKey = (i: number) => join(dir, `validator-${i}.key`);
const bankEKey = join(dir, 'bank-e-client.key');
let node: FakeNode;

beforeAll(async () => {
  node = await startFakeNode(genesis, { autoCommit: true });
  for (let i = 0; i < 4; i++) writeKeyFile(validatorKey(i), keyOf(`validator-${i}`));
  writeKeyFile(bankEKey, keyOf('bank-e/client-1'));
  writeFileSync(join(dir, 'contract.pdf'), 'bank E contract');
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('jrchain gov', () => {
  let proposalId = '';

  it('propose registers nothing by itself: one approval of four is below the quorum', async () => {
    const pub = toHex(keyOf('bank-e/client-1').publicKey);
    const r = await cli(
      'gov',
      'propose',
      'register-institution',
      'bank-e',
      'Bank E',
      '--client-key',
      `client-1=${pub}`,
      '--key',
      validatorKey(0),
      '--wait',
      '--node',
      node.url,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.state).toBe('committed');
    proposalId = out.proposalId;
    const list = JSON.parse((await cli('gov', 'list', '--node', node.url, '--json')).stdout);
    expect(list.proposals).toHaveLength(1);
    expect(list.proposals[0].status).toBe('pending');
    expect(list.validatorSet.quorum).toBe(3);
    // Without the quorum the institution's key is not registered.
    const early = await cli(
      'evidence',
      'submit',
      join(dir, 'contract.pdf'),
      '--case',
      'E-1',
      '--type',
      'contract',
      '--key',
      bankEKey,
      '--node',
      node.url,
    );
    expect(early.code).not.toBe(0);
    expect(early.stderr).toMatch(/KEY_NOT_REGISTERED/);
  });

  it('a key outside the validator set cannot approve', async () => {
    const r = await cli('gov', 'approve', proposalId, '--key', bankEKey, '--node', node.url);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/KEY_NOT_VALIDATOR/);
  });

  it('approvals from a quorum pass it; the new institution then records evidence', async () => {
    const a1 = await cli(
      'gov',
      'approve',
      proposalId,
      '--key',
      validatorKey(1),
      '--wait',
      '--node',
      node.url,
      '--json',
    );
    expect(a1.code, a1.stderr).toBe(0);
    expect(JSON.parse(a1.stdout).proposalStatus).toBe('pending');
    // The same validator approving twice is refused by the ledger.
    const again = await cli(
      'gov',
      'approve',
      proposalId,
      '--key',
      validatorKey(1),
      '--node',
      node.url,
      '--json',
    );
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).error.code).toBe('TX_GOV_ALREADY_APPROVED');
    const a2 = await cli(
      'gov',
      'approve',
      proposalId,
      '--key',
      validatorKey(2),
      '--wait',
      '--node',
      node.url,
      '--json',
    );
    expect(JSON.parse(a2.stdout).proposalStatus).toBe('passed');
    const text = (await cli('gov', 'list', '--node', node.url)).stdout;
    expect(text).toMatch(/passed\s+register institution bank-e/);
    const e = await cli(
      'evidence',
      'submit',
      join(dir, 'contract.pdf'),
      '--case',
      'E-1',
      '--type',
      'contract',
      '--key',
      bankEKey,
      '--wait',
      '--node',
      node.url,
      '--json',
    );
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).results[0].state).toBe('recorded');
  });

  it('refuses malformed actions locally, and actions the registry does not allow', async () => {
    const bad = await cli(
      'gov',
      'propose',
      'add-validator',
      'bank-e',
      'zz',
      '--key',
      validatorKey(0),
      '--node',
      node.url,
    );
    expect(bad.code).toBe(2);
    const unknown = await cli('gov', 'propose', 'dissolve', '--key', validatorKey(0), '--node', node.url);
    expect(unknown.code).toBe(2);
    // bank-a already has a validator: the node refuses a second one.
    const add = await cli(
      'gov',
      'propose',
      'add-validator',
      'bank-a',
      toHex(keyOf('validator-e').publicKey),
      '--key',
      validatorKey(0),
      '--node',
      node.url,
      '--json',
    );
    expect(add.code).toBe(1);
    expect(JSON.parse(add.stdout).error.code).toBe('TX_GOV_INVALID_ACTION');
  });
});
