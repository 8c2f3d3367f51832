/**
 * Mandatory sealing through the CLI (ADR 015) against a fake node whose genesis requires it: with no
 * `--case-keys`, the commands keep the case keys in the default store beside the client key (`case-keys/` in
 * the node home), seal every case and its evidence, and accept the case id in clear for receipts and the audit
 * log; a record naming the case in clear is refused with TX_CASE_UNSEALED.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { txView } from '../../../src/api/views.ts';
import { caseTx } from '../../../src/cli/case.ts';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';
import { fromHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import type { GovernanceAction } from '../../../src/core/governance.ts';
import { keyPairFromSeed, writeKeyFile } from '../../../src/core/keys.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { CASE_KEYS_DIR, CaseKeyStore } from '../../../src/node/case-keys.ts';
import { casesGenesis } from '../../helpers/cases.ts';
import { cli as runInMemory } from '../../helpers/cli-memory.ts';
import { governOnFakeNode } from '../../helpers/fake-governance.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import { governanceTx, TEST_CHAIN_ID, TEST_GENESIS_TIME } from '../../helpers/fixtures.ts';
import { findSecrets } from '../../helpers/outsider.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-mandatory-cli-'));
const home = (inst: string) => join(dir, inst);
const key = (inst: string) => join(home(inst), 'client.key');
const encKey = (inst: string) => join(home(inst), 'encryption.key');
let node: FakeNode;
const nonces = { next: 1 };

const cli = (...argv: string[]) => runInMemory(...argv, '--node', node.url);

const govern = (action: GovernanceAction) => governOnFakeNode(node, action, nonces);

const CASE_ID = '2026-BJ-CC-005151';
const CLAIMANT = 'ID 110101199003075151';
const LABEL = 'repayment schedule';

beforeAll(async () => {
  expect(Date.now()).toBeGreaterThan(TEST_GENESIS_TIME);
  node = await startFakeNode(casesGenesis('required'), { autoCommit: true });
  for (const inst of ['bank-a', 'bank-c']) {
    mkdirSync(home(inst), { recursive: true, mode: 0o700 });
    writeKeyFile(key(inst), keyPairFromSeed(sha256(utf8.encode(`jrchain-test-key:${inst}/client-1`))));
    const io = memoryIo();
    expect(await runCli(['keys', 'generate-encryption', '--out', encKey(inst), '--json'], io)).toBe(0);
    await govern({
      type: 'setEncryptionKey',
      institution: inst,
      publicKey: fromHex(JSON.parse(io.stdout).publicKey),
    });
  }
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a chain that requires sealed cases, through the CLI', () => {
  it('seals with the default store beside the client key; receipts and the audit log take the case id', async () => {
    const bank = ['--key', key('bank-a'), '--json'];
    const opened = await cli(
      'case',
      'open',
      CASE_ID,
      '--respondent',
      'bank-a',
      '--claimant-ref',
      CLAIMANT,
      ...bank,
    );
    expect(opened.code, opened.stderr).toBe(0);
    const ref = JSON.parse(opened.stdout).ref as string;
    expect(ref).toMatch(/^k1:[0-9a-f]{64}$/);
    // The key went to <home>/case-keys, created 0700 with a 0600 file.
    const storeDir = join(home('bank-a'), CASE_KEYS_DIR);
    expect(statSync(storeDir).mode & 0o777).toBe(0o700);
    expect(new CaseKeyStore(storeDir).byCaseId(CASE_ID)?.ref).toBe(ref);
    const ev = await cli(
      'evidence',
      'submit',
      '--hash',
      'ef'.repeat(32),
      '--case',
      CASE_ID,
      '--type',
      'contract',
      '--label',
      LABEL,
      '--wait',
      ...bank,
    );
    expect(ev.code, ev.stderr).toBe(0);
    const assigned = await cli('case', 'assign', CASE_ID, '--mediator', 'bank-c', ...bank);
    expect(assigned.code, assigned.stderr).toBe(0);
    expect((await node.queries.case(ref))?.mediator).toBe('bank-c');
    expect(await node.queries.case(CASE_ID)).toBeUndefined();
    const records = (await node.queries.evidenceByCase(ref)).items;
    expect(records).toHaveLength(1);

    // The mediator imports the case into its own default store, then works with the id in clear.
    // No --enc-key, no --case-keys: both default to the files beside the client key (a node home's layout).
    const synced = await cli('case', 'sync', '--key', key('bank-c'), '--json');
    expect(JSON.parse(synced.stdout).imported).toEqual([CASE_ID]);
    const session = await cli('case', 'session', CASE_ID, '--seq', '1', '--key', key('bank-c'), '--json');
    expect(session.code, session.stderr).toBe(0);

    // case receipt and audit --case: the id in clear (through the store) or the reference.
    const byId = await cli('case', 'receipt', CASE_ID, '--key', key('bank-a'));
    expect(byId.code, byId.stderr).toBe(0);
    expect(JSON.parse(byId.stdout).caseId).toBe(ref);
    const byRef = await cli('case', 'receipt', ref, '--key', key('bank-a'));
    expect(JSON.parse(byRef.stdout).caseId).toBe(ref);
    const audited = await cli('audit', '--case', CASE_ID, ...bank);
    expect(audited.code, audited.stderr).toBe(0);
    const entries = JSON.parse(audited.stdout).entries as { caseId: string | null }[];
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.caseId === ref)).toBe(true);
    // By reference: the same entries (and any read logged since).
    const again = JSON.parse((await cli('audit', '--case', ref, ...bank)).stdout).entries;
    expect(again.slice(0, entries.length)).toEqual(entries);

    // An outsider decoding every tx finds neither the id, the claimant nor the label.
    const txs = [];
    for (let h = 1; h <= node.queries.head().height; h++)
      for (const th of (await node.queries.block(h))!.txHashes) {
        const t = (await node.queries.tx(th))!;
        txs.push({ bytes: t.env.bytes, view: JSON.stringify(txView(t)) });
      }
    expect(findSecrets(txs, [CASE_ID, CLAIMANT, LABEL])).toEqual([]);
  });

  it('refuses a case record that names its case in clear: TX_CASE_UNSEALED', async () => {
    const signer = keyPairFromSeed(sha256(utf8.encode('jrchain-test-key:bank-a/client-1')));
    const id = { key: signer, institution: 'bank-a', keyId: 'client-1', chainId: TEST_CHAIN_ID };
    const plain = caseTx(id, {
      caseId: 'PLAIN-1',
      event: { type: 'open', respondent: 'bank-a', claimant: sha256(utf8.encode('c')) },
    });
    expect((await node.consensus.submit(plain))?.code).toBe(TxErrorCode.caseUnsealed);
    // A case id the store does not hold cannot be on this chain: the CLI says how to get its key.
    for (const args of [
      ['case', 'show'],
      ['case', 'receipt'],
      ['audit', '--case'],
    ]) {
      const r = await cli(...args, 'UNKNOWN-9', '--key', key('bank-a'));
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/no key for case UNKNOWN-9 .*case sync/);
    }
    // Evidence is not covered by the rule, but the CLI warns when it has to name a case in clear.
    const ev = await cli(
      'evidence',
      'submit',
      '--hash',
      '12'.repeat(32),
      '--case',
      'NOT-IN-STORE-1',
      '--type',
      'other',
      '--key',
      key('bank-a'),
    );
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stderr).toMatch(
      /NOT-IN-STORE-1 is not in the case-key store, so this evidence names it in clear/,
    );
    expect(existsSync(join(home('bank-a'), CASE_KEYS_DIR))).toBe(true);
    expect(
      readdirSync(join(home('bank-a'), CASE_KEYS_DIR)).filter((f) => /^[0-9a-f]{64}\.json$/.test(f)),
    ).toHaveLength(1);
  });

  it('case shred destroys the default store copy and names what is left; keys rotate-encryption retires the key', async () => {
    const storeDir = join(home('bank-a'), CASE_KEYS_DIR);
    const ref = new CaseKeyStore(storeDir).byCaseId(CASE_ID)!.ref;
    const shred = await cli('case', 'shred', CASE_ID, '--key', key('bank-a'), '--json');
    expect(shred.code, shred.stderr).toBe(0);
    const out = JSON.parse(shred.stdout);
    expect(out).toMatchObject({ caseId: CASE_ID, ref, shredded: [storeDir], otherParties: ['bank-c'] });
    expect(out.next).toMatch(/keys rotate-encryption/);
    const store = new CaseKeyStore(storeDir);
    expect(store.byRef(ref)).toBeUndefined();
    expect(store.isShredded(ref)).toBe(true);
    // The text form tells the other parties what they must do.
    const shredText = await cli('case', 'shred', ref, '--key', key('bank-a'));
    expect(shredText.code).toBe(2); // nothing left to shred here

    // The rotation: the old key still opens the case's wrap, but the shredded case is not imported again.
    writeKeyFile(
      join(home('bank-a'), 'validator.key'),
      keyPairFromSeed(sha256(utf8.encode('jrchain-test-key:validator-0'))),
    );
    const oldPub = JSON.parse(readFileSync(encKey('bank-a'), 'utf8')).publicKey as string;
    const rotate = await cli('keys', 'rotate-encryption', '--home', home('bank-a'), '--json');
    expect(rotate.code, rotate.stderr).toBe(0);
    const r = JSON.parse(rotate.stdout);
    expect(r.imported).toEqual([]);
    expect(r.proposalId).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(`${encKey('bank-a')}.next`)).toBe(true);
    const early = await cli('keys', 'rotate-encryption', '--home', home('bank-a'), '--finish');
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/has not registered/);
    const createdAt = Date.now();
    for (const v of [1, 2]) {
      const a = governanceTx(
        { kind: 'approve', proposalId: fromHex(r.proposalId) },
        { validator: v, nonce: nonces.next++, createdAt },
      );
      expect(await node.consensus.submit(a)).toBeUndefined();
    }
    await node.commit();
    const finish = await cli('keys', 'rotate-encryption', '--home', home('bank-a'), '--finish', '--json');
    expect(finish.code, finish.stderr).toBe(0);
    expect(existsSync(`${encKey('bank-a')}.next`)).toBe(false);
    const now = JSON.parse(readFileSync(encKey('bank-a'), 'utf8')).publicKey as string;
    expect(now).toBe(r.publicKey);
    expect(now).not.toBe(oldPub);
    // With the old key gone, nothing here opens the case's wraps any more.
    const synced = await cli(
      'case',
      'sync',
      '--enc-key',
      encKey('bank-a'),
      '--key',
      key('bank-a'),
      '--case-keys',
      storeDir,
      '--json',
    );
    expect(JSON.parse(synced.stdout).imported).toEqual([]);
    expect(store.byRef(ref)).toBeUndefined();
  });

  it('an institution whose client key is encrypted gets its case-key store encrypted with the same passphrase', async () => {
    const storeDir = join(home('bank-c'), CASE_KEYS_DIR);
    process.env.JRCHAIN_KEY_PASSPHRASE = 'mediator passphrase';
    try {
      expect(await runCli(['keys', 'encrypt', key('bank-c')], memoryIo())).toBe(0);
      const shown = await cli('case', 'show', CASE_ID, '--key', key('bank-c'), '--json');
      expect(shown.code, shown.stderr).toBe(0);
      expect(JSON.parse(shown.stdout).case.status).toBe('mediating');
      expect(existsSync(join(storeDir, 'store.key'))).toBe(true);
      const files = readdirSync(storeDir).map((f) => readFileSync(join(storeDir, f), 'utf8'));
      expect(files.join('\n')).not.toContain(CASE_ID);
    } finally {
      delete process.env.JRCHAIN_KEY_PASSPHRASE;
    }
    // bank-c's home has no validator key (an observer's would not either): the rotation names the
    // governance command a validator runs instead of proposing.
    process.env.JRCHAIN_KEY_PASSPHRASE = 'mediator passphrase';
    try {
      const rotate = await cli('keys', 'rotate-encryption', '--home', home('bank-c'));
      expect(rotate.code, rotate.stderr).toBe(0);
      expect(rotate.stdout).toMatch(
        /no validator key here: ask a validator to run {2}jrchain gov propose set-encryption-key bank-c [0-9a-f]{64}/,
      );
      expect(existsSync(`${encKey('bank-c')}.next`)).toBe(true);
    } finally {
      delete process.env.JRCHAIN_KEY_PASSPHRASE;
    }
    const locked = await cli('case', 'show', CASE_ID, '--key', key('bank-c'), '--case-keys', storeDir);
    expect(locked.code).toBe(3);
    expect(locked.stderr).toMatch(/KEY_PASSPHRASE_REQUIRED|passphrase/);
  });
});
