/**
 * Receipts of an sm2-sm3 chain (ADR 014): built from SM-hashed, SM2-certified blocks, anchored by a token over
 * the SM3 header hash, they name their suite and verify; checked under an Ed25519 genesis, or with the suite
 * field dropped or changed, they fail.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildReport, readGenesis } from '../../../src/api/verifier/report.ts';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { encodeEvidence } from '../../../src/core/evidence.ts';
import { type Genesis, genesisToJson, genesisValidatorSet } from '../../../src/core/genesis.ts';
import { sm3 } from '../../../src/core/sm/sm3.ts';
import { envelope, signTx, type TxEnvelope } from '../../../src/core/tx.ts';
import { buildReceipt, type ReceiptJson, verifyReceipt } from '../../../src/receipt/receipt.ts';
import type { EmbeddedTsa } from '../../../src/timestamp/index.ts';
import { sampleEvidence, sampleUnsignedTx, testGenesis } from '../../helpers/fixtures.ts';
import {
  buildSmChain,
  type SmBlock,
  smGenesis,
  smProofFor,
  smSigner,
  TEST_INSTITUTIONS,
} from '../../helpers/sm-chain.ts';
import { makePki, type Pki, startTsa, T0 } from '../../helpers/tsa.ts';

const document = utf8.encode('mediation agreement on an SM chain');
let pki: Pki;
let tsa: EmbeddedTsa;
let genesis: Genesis;
let chain: SmBlock[];
let target: TxEnvelope;
let anchor: { token: Uint8Array; genTime: Date };

function evidenceTx(i: number, hash = sm3(utf8.encode(`doc-${i}`))): TxEnvelope {
  const inst = TEST_INSTITUTIONS[i % 4];
  const u = sampleUnsignedTx({
    institution: inst,
    nonce: i,
    // The evidence hash names its own algorithm; SHA-256 of the file, as clients compute it today.
    payload: encodeEvidence(sampleEvidence({ hash })),
    createdAt: T0 - 5000,
  });
  return envelope(signTx(u, smSigner(`${inst}/client-1`)), SM2_SM3);
}

function receipt(): ReceiptJson {
  return buildReceipt({
    genesis,
    tx: target,
    header: chain[1]!.header,
    certificate: chain[1]!.cert,
    validatorSet: genesisValidatorSet(genesis),
    proof: smProofFor(chain[1]!, target),
    anchor: {
      header: chain[3]!.header,
      headers: [chain[2]!.header, chain[3]!.header],
      token: anchor.token,
      genTime: anchor.genTime,
    },
  });
}

beforeAll(async () => {
  pki = await makePki();
  tsa = await startTsa(pki, T0 + 10_000);
  genesis = smGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
  target = evidenceTx(5, sha256(document));
  chain = buildSmChain(
    genesis,
    [[evidenceTx(1)], [evidenceTx(2), target, evidenceTx(3)], [], [evidenceTx(4)]],
    T0,
  );
  // The anchored header's hash is SM3, so the token's imprint is SM3.
  anchor = await tsa.stamp(chain[3]!.hash, 'sm3');
  return () => tsa.stop();
});

const failed = (r: Awaited<ReturnType<typeof verifyReceipt>>) =>
  r.checks.filter((c) => c.status === 'fail').map((c) => [c.name, c.detail]);

describe('sm2-sm3 receipts', () => {
  it('name their suite and verify every check, the SM3-imprint anchor included', async () => {
    const doc = JSON.parse(JSON.stringify(receipt()));
    expect(doc.cryptoSuite).toBe('sm2-sm3');
    const r = await verifyReceipt(doc, { genesis, file: document, requireAnchor: true });
    expect(r.ok, JSON.stringify(failed(r))).toBe(true);
    // Skipped, not failed: this receipt carries no archive chain and its tx no evidence token.
    expect(r.checks.filter((c) => c.status !== 'pass').map((c) => [c.name, c.status])).toEqual([
      ['archive', 'skip'],
      ['evidenceToken', 'skip'],
    ]);
    expect(r.facts).toMatchObject({ height: 2, anchoredAt: anchor.genTime });
  });

  it('verify in the verification page code (the module the browser page bundles), from the genesis JSON', async () => {
    const page = readGenesis(JSON.stringify(genesisToJson(genesis)));
    const r = await buildReport(JSON.parse(JSON.stringify(receipt())), page, {
      hashAlg: 'sha256',
      hash: sha256(document),
    });
    expect(r.ok, JSON.stringify(r.checks.filter((c) => c.status === 'fail'))).toBe(true);
    expect(r.documentChecked).toBe(true);
    expect(r.tokens.map((t) => t.which)).toEqual(['anchor']);
    const other = await buildReport(receipt(), page, {
      hashAlg: 'sha256',
      hash: sha256(utf8.encode('forged')),
    });
    expect(other.ok).toBe(false);
  });

  it('verify with `jrchain receipt verify` against the SM genesis file, and fail against an Ed25519 one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jrchain-sm-receipt-cli-'));
    try {
      writeFileSync(join(dir, 'genesis.json'), JSON.stringify(genesisToJson(genesis)));
      writeFileSync(join(dir, 'ed.json'), JSON.stringify(genesisToJson(testGenesis())));
      writeFileSync(join(dir, 'receipt.json'), JSON.stringify(receipt()));
      const run = async (g: string) => {
        const io = memoryIo();
        const code = await runCli(
          ['receipt', 'verify', join(dir, 'receipt.json'), '--genesis', join(dir, g)],
          io,
        );
        return { code, out: io.stdout };
      };
      const good = await run('genesis.json');
      expect(good.code, good.out).toBe(0);
      const bad = await run('ed.json');
      expect(bad.code).toBe(1);
      expect(bad.out).toMatch(/FAIL genesis .*crypto suite sm2-sm3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fail under an Ed25519 genesis, and with the suite field dropped or changed', async () => {
    const ed = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
    const r = await verifyReceipt(receipt(), { genesis: ed });
    expect(failed(r).map(([n]) => n)).toEqual(['genesis']);
    expect(String(failed(r)[0]![1])).toMatch(
      /receipt is of crypto suite sm2-sm3, the genesis chose ed25519-sha256/,
    );
    const { cryptoSuite: _, ...dropped } = receipt();
    expect(failed(await verifyReceipt(dropped, { genesis })).map(([n]) => n)).toEqual(['genesis']);
    const renamed = { ...receipt(), cryptoSuite: 'ed25519-sha256' };
    expect(failed(await verifyReceipt(renamed, { genesis })).map(([n]) => n)).toEqual(['genesis']);
  });

  it('refuse a tampered signature, proof or certificate as an Ed25519 receipt would', async () => {
    const sig = receipt();
    const tx = Buffer.from(sig.tx, 'base64');
    tx[tx.length - 1]! ^= 1;
    sig.tx = tx.toString('base64');
    expect(failed(await verifyReceipt(sig, { genesis })).map(([n]) => n)).toEqual(['signature']);
    const proof = receipt();
    proof.inclusion.path[0] = proof.inclusion.path[0]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(failed(await verifyReceipt(proof, { genesis })).map(([n]) => n)).toEqual(['inclusion']);
    const cert = receipt();
    const c = Buffer.from(cert.certificate, 'base64');
    c[c.length - 1]! ^= 1;
    cert.certificate = c.toString('base64');
    expect(failed(await verifyReceipt(cert, { genesis })).map(([n]) => n)).toEqual(['certificate']);
  });
});
