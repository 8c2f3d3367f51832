/**
 * Sealed cases through the CLI (ADR 011) against a fake node: encryption keys registered by governance, a case
 * opened and assigned with its key wrapped for each party, evidence with a sealed label, the mediator importing
 * the key from the chain, an outsider finding nothing in the txs, and shredding.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { txView } from '../../../src/api/views.ts';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';
import { fromHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import type { GovernanceAction } from '../../../src/core/governance.ts';
import { keyPairFromSeed, writeKeyFile } from '../../../src/core/keys.ts';
import { CaseKeyStore } from '../../../src/node/case-keys.ts';
import { casesGenesis } from '../../helpers/cases.ts';
import { cli as runInMemory } from '../../helpers/cli-memory.ts';
import { governOnFakeNode } from '../../helpers/fake-governance.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import { TEST_GENESIS_TIME } from '../../helpers/fixtures.ts';
import { findSecrets } from '../../helpers/outsider.ts';
import { signedGet } from '../../helpers/signed.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-sealed-cli-'));
const key = (inst: string) => join(dir, `${inst}.key`);
const encKey = (inst: string) => join(dir, `${inst}.enc`);
const store = (inst: string) => join(dir, `${inst}-case-keys`);
let node: FakeNode;
const nonces = { next: 1 };

const cli = (...argv: string[]) => runInMemory(...argv, '--node', node.url);

async function offline(...argv: string[]) {
  const io = memoryIo();
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const govern = (action: GovernanceAction) => governOnFakeNode(node, action, nonces);

const CASE_ID = '2026-BJ-CC-004242';
const CLAIMANT = 'ID 110101199003074321';
const LABEL = 'signed card agreement';

beforeAll(async () => {
  expect(Date.now()).toBeGreaterThan(TEST_GENESIS_TIME);
  // The node is bank-a's: it keeps bank-a's case-key store in its home (ADR 011).
  const bankStore = new CaseKeyStore(store('bank-a'));
  const caseKeys = {
    institution: 'bank-a',
    byRef: (ref: string) => bankStore.byRef(ref),
    byCaseId: (id: string) => bankStore.byCaseId(id),
  };
  node = await startFakeNode(casesGenesis(), { autoCommit: true, caseKeys });
  for (const inst of ['bank-a', 'bank-b', 'bank-c', 'bank-d'])
    writeKeyFile(key(inst), keyPairFromSeed(sha256(utf8.encode(`jrchain-test-key:${inst}/client-1`))));
  for (const inst of ['bank-a', 'bank-c']) {
    const g = await offline('keys', 'generate-encryption', '--out', encKey(inst), '--json');
    expect(g.code, g.stderr).toBe(0);
    await govern({
      type: 'setEncryptionKey',
      institution: inst,
      publicKey: fromHex(JSON.parse(g.stdout).publicKey),
    });
  }
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('sealed cases through the CLI', () => {
  it('opens, records evidence, assigns and agrees with only references and ciphertext on the chain; the mediator imports the key', async () => {
    const bank = ['--key', key('bank-a'), '--case-keys', store('bank-a'), '--json'];
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
    const o = JSON.parse(opened.stdout);
    expect(o).toMatchObject({ caseId: CASE_ID, status: 'committed' });
    expect(o.ref).toMatch(/^k1:[0-9a-f]{64}$/);
    expect(o.salt).toBeUndefined();
    const hash = 'ab'.repeat(32);
    const ev = await cli(
      'evidence',
      'submit',
      '--hash',
      hash,
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
    // The mediator has no registered key yet: the assignment is refused before anything is sent.
    const early = await cli('case', 'assign', CASE_ID, '--mediator', 'bank-d', ...bank);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/bank-d has no registered encryption key/);
    const assigned = await cli('case', 'assign', CASE_ID, '--mediator', 'bank-c', ...bank);
    expect(assigned.code, assigned.stderr).toBe(0);

    // The chain knows the case only by its reference.
    expect(await node.queries.case(CASE_ID)).toBeUndefined();
    expect((await node.queries.case(o.ref))?.mediator).toBe('bank-c');

    const med = ['--key', key('bank-c'), '--case-keys', store('bank-c'), '--json'];
    const before = await cli('case', 'show', CASE_ID, ...med);
    expect(before.code).toBe(2);
    expect(before.stderr).toMatch(/case sync/);
    const synced = await cli('case', 'sync', '--enc-key', encKey('bank-c'), ...med);
    expect(synced.code, synced.stderr).toBe(0);
    expect(JSON.parse(synced.stdout).imported).toEqual([CASE_ID]);
    // The agreement is signed over the reference: the bank co-signs from its store, the mediator records it.
    const agreement = 'cd'.repeat(32);
    const co = await cli(
      'case',
      'co-sign',
      CASE_ID,
      '--agreement',
      agreement,
      '--key',
      key('bank-a'),
      '--case-keys',
      store('bank-a'),
    );
    expect(co.code, co.stderr).toBe(0);
    writeFileSync(join(dir, 'cosig.json'), co.stdout);
    const agreed = await cli(
      'case',
      'agree',
      CASE_ID,
      '--agreement',
      agreement,
      '--co-signature',
      join(dir, 'cosig.json'),
      ...med,
    );
    expect(agreed.code, agreed.stderr).toBe(0);
    const shown = await cli('case', 'show', CASE_ID, ...med);
    expect(shown.code, shown.stderr).toBe(0);
    const s = JSON.parse(shown.stdout);
    expect(s).toMatchObject({ caseId: CASE_ID, ref: o.ref, case: { status: 'agreed' } });
    expect(s.records[0].evidence.label).toBe(LABEL);

    // bank-a's own node serves bank-a its case by the id in clear, opened; to anyone else it maps nothing.
    const own = await signedGet(node.url, `/v1/cases/${CASE_ID}`, 'bank-a');
    expect(own.json).toMatchObject({
      caseId: o.ref,
      clear: { caseId: CASE_ID },
      case: { status: 'agreed' },
    });
    expect(own.json.records[0].evidence).toMatchObject({ label: LABEL, labelSealed: true });
    const other = await signedGet(node.url, `/v1/cases/${CASE_ID}`, 'bank-c');
    expect(other.json).toMatchObject({ caseId: CASE_ID, case: null, records: [] });
    const byRef = await signedGet(node.url, `/v1/cases/${o.ref}`, 'bank-c');
    expect(byRef.json.clear).toBeUndefined();
    expect(byRef.json.records[0].evidence.label).toMatch(/^s1:/);

    // An outsider decoding every tx finds neither the case id, the claimant nor the label.
    const txs = [];
    for (let h = 1; h <= node.queries.head().height; h++) {
      for (const th of (await node.queries.block(h))!.txHashes) {
        const t = (await node.queries.tx(th))!;
        txs.push({ bytes: t.env.bytes, view: JSON.stringify(txView(t)) });
      }
    }
    expect(txs.length).toBeGreaterThan(8);
    expect(findSecrets(txs, [CASE_ID, CLAIMANT, LABEL])).toEqual([]);
    // The search itself finds what is there: the mediator's institution id is in clear.
    expect(findSecrets(txs, ['bank-c']).length).toBeGreaterThan(0);
  });

  it('shredding removes the key from a store: the case can no longer be shown from it', async () => {
    for (const inst of ['bank-a', 'bank-c']) {
      const r = await offline('case', 'shred', CASE_ID, '--case-keys', store(inst), '--json');
      expect(r.code, r.stderr).toBe(0);
      const after = await cli('case', 'show', CASE_ID, '--key', key(inst), '--case-keys', store(inst));
      expect(after.code).toBe(2);
    }
    // bank-a's node no longer knows the id, nor opens the case: only the reference and ciphertext remain.
    const own = await signedGet(node.url, `/v1/cases/${CASE_ID}`, 'bank-a');
    expect(own.json, JSON.stringify(own.json)).toMatchObject({ caseId: CASE_ID, case: null });
    const [ref] = (await node.queries.cases()).items.map((c) => c.caseId);
    const byRef = await signedGet(node.url, `/v1/cases/${ref}`, 'bank-a');
    expect(byRef.json.case.status).toBe('agreed');
    expect(byRef.json.clear).toBeUndefined();
    expect(byRef.json.records[0].evidence.label).toMatch(/^s1:/);
  });
});
