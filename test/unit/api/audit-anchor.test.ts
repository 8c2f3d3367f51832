/**
 * Audit heads on the chain (ADR 015): a node's audit log rolled back together with its signed head to an earlier
 * copy still verifies on its own, and fails against the head committed on the ledger (AUDIT_LOG_ROLLED_BACK).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_LOG_FILE,
  AuditLog,
  checkCommittedHead,
  headPathOf,
  verifyAuditFile,
} from '../../../src/api/audit.ts';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';
import { auditHeadTx } from '../../../src/core/audit-head.ts';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { envelope } from '../../../src/core/tx.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import { TEST_CHAIN_ID, TEST_GENESIS_TIME, testGenesis, validatorSigners } from '../../helpers/fixtures.ts';

const now = TEST_GENESIS_TIME + 5000;
const signer = validatorSigners()[0]!;
let node: FakeNode;
let dir = '';
beforeAll(async () => {
  node = await startFakeNode(testGenesis(), { now: () => now });
  dir = mkdtempSync(join(tmpdir(), 'jr-audit-anchor-'));
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

const read = (caseId: string) => ({ institution: 'bank-b', keyId: 'client-1', action: 'case.read', caseId });
const headOf = (path: string) =>
  JSON.parse(readFileSync(headPathOf(path), 'utf8')) as { seq: number; hash: string };

async function commitHead(seq: number, hash: string): Promise<void> {
  const tx = auditHeadTx(
    { seq, hash: fromHex(hash) },
    { chainId: TEST_CHAIN_ID, institution: 'bank-a', signer, createdAt: now, ttlMs: 60_000 },
  );
  const r = await fetch(`${node.url}/v1/txs`, {
    method: 'POST',
    body: envelope(tx).bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(r.status).toBe(202);
  await node.commit();
}

async function committedOf(institution: string): Promise<unknown> {
  const r = await fetch(`${node.url}/v1/audit-heads/${institution}`);
  return ((await r.json()) as { committed: unknown }).committed;
}

async function verify(): Promise<{ code: number; out: string }> {
  const io = memoryIo();
  const argv = ['audit', 'verify', '--data-dir', dir, '--public-key', toHex(signer.publicKey)];
  const code = await runCli([...argv, '--node', node.url, '--institution', 'bank-a', '--json'], io);
  return { code, out: io.stdout + io.stderr };
}

describe('audit heads committed on the chain', () => {
  it('a log rolled back with its signed head to an earlier copy fails against the committed head', async () => {
    const path = join(dir, AUDIT_LOG_FILE);
    expect(await committedOf('bank-a')).toBeNull();
    const log = new AuditLog(path, () => now, signer);
    log.append(read('C-1'), read('C-2'));
    copyFileSync(path, `${path}.bak`);
    copyFileSync(headPathOf(path), `${headPathOf(path)}.bak`);
    log.append(read('C-3'), read('C-4'));
    const head = headOf(path);
    await commitHead(head.seq, head.hash);

    const served = await fetch(`${node.url}/v1/audit-heads/bank-a`).then((r) => r.json());
    expect(served).toMatchObject({
      institution: 'bank-a',
      committed: { seq: head.seq, hash: head.hash, height: 1 },
    });
    expect((await verify()).code).toBe(0);

    // The operator restores the earlier signed pair: it verifies alone, not against the chain.
    copyFileSync(`${path}.bak`, path);
    copyFileSync(`${headPathOf(path)}.bak`, headPathOf(path));
    const { entries } = verifyAuditFile(path, [signer.publicKey]);
    expect(entries).toHaveLength(head.seq - 2);
    const rolledBack = await verify();
    expect(rolledBack.code).not.toBe(0);
    expect(rolledBack.out).toMatch(
      new RegExp(
        `AUDIT_LOG_ROLLED_BACK.*the chain records entry ${head.seq}, the log ends at entry ${head.seq - 2}`,
      ),
    );
  });

  it('a log of the committed length with other entries is refused too; a longer log passes', () => {
    const other = new AuditLog(undefined, () => now);
    other.append(read('X'), read('Y'), read('Z'));
    const entries = other.entries();
    const committed = { seq: 3, hash: '00'.repeat(32) };
    expect(() => checkCommittedHead(entries, committed)).toThrow(
      expect.objectContaining({ code: 'AUDIT_LOG_ROLLED_BACK', details: { committed: 3 } }),
    );
    expect(() => checkCommittedHead(entries, { seq: 2, hash: entries[1]!.hash })).not.toThrow();
    expect(() => checkCommittedHead(entries, undefined)).not.toThrow();
  });

  it('GET /v1/audit-heads/:institution refuses a malformed id', async () => {
    const r = await fetch(`${node.url}/v1/audit-heads/Not%20An%20Id`);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { code: string }).code).toBe('BAD_INSTITUTION');
  });
});
