import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { decodeHashRenewal } from '../../../src/core/hash-renewal.ts';
import { keyPairFromSeed, writeKeyFile } from '../../../src/core/keys.ts';
import { cli } from '../../helpers/cli-memory.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import { testGenesis } from '../../helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-renew-hash-cli-'));
const keyB = join(dir, 'bank-b.key');
const keyC = join(dir, 'bank-c.key');
const doc = join(dir, 'agreement.pdf');
const twice = join(dir, 'twice.pdf');
let node: FakeNode;

const submit = (file: string, caseId: string) =>
  cli(
    'evidence',
    'submit',
    file,
    '--case',
    caseId,
    '--type',
    'contract',
    '--wait',
    '--key',
    keyB,
    '--node',
    node.url,
  );
const renew = (key: string, ...more: string[]) =>
  cli('evidence', 'renew-hash', '--file', doc, '--key', key, '--node', node.url, '--json', ...more);

beforeAll(async () => {
  node = await startFakeNode(testGenesis(), { autoCommit: true });
  for (const [file, label] of [
    [keyB, 'bank-b/client-1'],
    [keyC, 'bank-c/client-1'],
  ] as const) {
    writeKeyFile(file, keyPairFromSeed(sha256(utf8.encode(`jrchain-test-key:${label}`))));
  }
  writeFileSync(doc, 'mediation agreement, signed');
  writeFileSync(twice, 'recorded in two cases');
  expect((await submit(doc, 'CASE-1')).code).toBe(0);
  expect((await submit(twice, 'CASE-1')).code).toBe(0);
  expect((await submit(twice, 'CASE-2')).code).toBe(0);
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('jrchain evidence renew-hash', () => {
  it('another institution cannot renew the document: it has no record of it', async () => {
    const r = await renew(keyC);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOT_RECORDED.*bank-c has not recorded this document/s);
  });

  it('submits SHA-512 of the document for the recorder’s evidence tx, and is retry-safe', async () => {
    const r = await renew(keyB, '--wait');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const sha512 = createHash('sha512').update('mediation agreement, signed').digest('hex');
    expect(out).toMatchObject({ state: 'requested', hashAlg: 'sha512', hash: sha512 });
    const committed = await node.queries.tx(fromHex(out.txHash));
    expect(committed?.env.tx.type).toBe('hash-renewal');
    const request = decodeHashRenewal(committed!.env.tx.payload);
    expect(toHex(request.evidenceTx)).toBe(out.evidenceTx);
    expect(toHex(request.hash)).toBe(sha512);
    const evidence = await node.queries.tx(request.evidenceTx);
    expect(evidence?.env.tx.institution).toBe('bank-b');
    // No anchor has stamped it: it waits for the stamping primary.
    const waiting = await node.queries.unstampedHashRenewals();
    expect(waiting.map((w) => w.env.hashHex)).toContain(out.txHash);

    const again = await renew(keyB, '--wait', '--hash', 'sha384');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).state).toBe('already-requested');
  });

  it('a document recorded twice needs --tx; a tx that is not its record is refused', async () => {
    const r = await cli('evidence', 'renew-hash', '--file', twice, '--key', keyB, '--node', node.url);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/recorded this document 2 times.*--tx/s);
    const bad = await cli(
      'evidence',
      'renew-hash',
      '--file',
      twice,
      '--tx',
      'ab'.repeat(32),
      '--key',
      keyB,
      '--node',
      node.url,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/NOT_RECORDED/);
    const show = await cli('evidence', 'show', twice, '--node', node.url, '--json');
    const first = JSON.parse(show.stdout).records[0].txHash as string;
    const ok = await cli(
      'evidence',
      'renew-hash',
      '--file',
      twice,
      '--tx',
      first,
      '--wait',
      '--key',
      keyB,
      '--node',
      node.url,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^requested: sha512 renewal/);
  });

  it('refuses a malformed --tx and a hash that is not stronger, before the network', async () => {
    expect((await renew(keyB, '--tx', 'xyz')).code).toBe(2);
    expect((await renew(keyB, '--hash', 'sha256')).code).toBe(2);
  });
});
