/**
 * End to end on an sm2-sm3 chain (ADR 014, issue 20): `jrchain devnet --crypto-suite sm2-sm3` (validators and
 * TSA as separate processes on loopback) creates SM2 keys, an SM genesis and an SM2 TSA; the demo records sealed evidence
 * and a dispute case with SM2 signatures and verifies their receipts offline; and the real CLI records
 * evidence with an SM2 client key, whose receipt verifies against the SM genesis and fails against a tampered
 * genesis and as a tampered receipt.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/devnet.ts';
import type { DevnetManifest } from '../../src/dev/devnet.ts';
import type { Child } from '../../src/dev/processes.ts';
import { describeTimestamp } from '../../src/timestamp/inspect.ts';
import { cli, recordAndFetchReceipt, spawnDevnet, stopDevnet } from '../helpers/devnet-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-e2e-sm-'));
const devnetDir = join(dir, 'devnet');
let devnet: Child;
let m: DevnetManifest;

beforeAll(async () => {
  const args = ['--crypto-suite', 'sm2-sm3'];
  ({ devnet, manifest: m } = await spawnDevnet('devnet-sm', devnetDir, join(dir, 'devnet.log'), 4, args));
}, 150_000);

afterAll(async () => {
  await stopDevnet(devnet);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('devnet --crypto-suite sm2-sm3 end to end', () => {
  it('creates an SM genesis and SM2 key files (validators with Ed25519 peer keys)', async () => {
    const g = JSON.parse(readFileSync(m.genesis, 'utf8'));
    expect(g.cryptoSuite).toBe('sm2-sm3');
    expect(g.validators).toHaveLength(4);
    for (const v of g.validators) {
      expect(v.publicKey).toMatch(/^04[0-9a-f]{128}$/);
      expect(v.peerKey).toMatch(/^[0-9a-f]{64}$/);
    }
    const client = JSON.parse(readFileSync(m.nodes[0]!.clientKey, 'utf8'));
    expect(client).toMatchObject({ type: 'sm2', publicKey: g.institutions[0].clientKeys[0].publicKey });
    const verified = await cli('genesis', 'verify', m.genesis, '--json');
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, cryptoSuite: 'sm2-sm3' });
  });

  it('the demo: sealed evidence and a dispute case signed with SM2; both receipts verify offline', async () => {
    const lines: string[] = [];
    expect(await runDemo(m, join(dir, 'demo'), (l) => lines.push(l)), lines.join('\n')).toBe(true);
    const text = lines.join('\n');
    expect(text).toMatch(/ok +genesis/);
    expect(text).toMatch(/ok +anchor/);
    // The agreement is co-signed by the mediator and the respondent bank, both with SM2 client keys.
    expect(text).toMatch(/ok +timeline +\d+ event\(s\) replay to status closed/);
  }, 300_000);

  it('the CLI records evidence with an SM2 client key; its receipt verifies against the SM genesis only', async () => {
    const file = join(dir, 'agreement.txt');
    const out = join(dir, 'receipt.json');
    const text = 'card agreement between bank-a and the cardholder, SM chain, 2026-03-02\n';
    const { submit: sub, receipt } = await recordAndFetchReceipt(m, file, text, 'E2E-SM-1', out, 90_000);
    expect(sub.code, sub.stderr).toBe(0);
    expect(JSON.parse(sub.stdout).summary).toMatchObject({ recorded: 1, failed: 0 });
    expect(receipt.cryptoSuite).toBe('sm2-sm3');
    // The devnet's TSA is SM2 too: the anchor token is signed SM2-with-SM3 under an SM2 root.
    const token = describeTimestamp(new Uint8Array(Buffer.from(receipt.anchor.token, 'base64'))).token!;
    expect(token.signers.map((x) => x.signatureAlgorithm)).toEqual(['SM2-with-SM3']);
    expect(token.imprint?.hashAlg).toBe('sm3');
    const v = await cli('receipt', 'verify', out, '--genesis', m.genesis, '--file', file, '--require-anchor');
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/ok {3}anchor/);

    // A genesis with one byte of meaning changed is another chain: the receipt is not of it.
    const g = JSON.parse(readFileSync(m.genesis, 'utf8'));
    g.institutions[0].name = `${g.institutions[0].name} (forged)`;
    const forged = join(dir, 'forged-genesis.json');
    writeFileSync(forged, JSON.stringify(g));
    const wrongGenesis = await cli('receipt', 'verify', out, '--genesis', forged, '--file', file);
    expect(wrongGenesis.code).toBe(1);
    expect(wrongGenesis.stdout).toMatch(/FAIL genesis/);

    // A receipt that claims another signer fails.
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    doc.summary.institution = 'bank-c';
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(doc));
    const t = await cli('receipt', 'verify', tampered, '--genesis', m.genesis, '--file', file);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/FAIL summary/);
  }, 200_000);
});
