import { beforeAll, describe, expect, it } from 'vitest';
import { encodeCertificate } from '../../../src/core/block.ts';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { encodeEvidence } from '../../../src/core/evidence.ts';
import { type Genesis, genesisHash, genesisValidatorSet, parseGenesis } from '../../../src/core/genesis.ts';
import { envelope, signTx, type TxEnvelope } from '../../../src/core/tx.ts';
import { RECEIPT_FORMAT_V1 } from '../../../src/receipt/format.ts';
import { buildReceipt, type ReceiptJson, verifyReceipt } from '../../../src/receipt/receipt.ts';
import type { EmbeddedTsa } from '../../../src/timestamp/index.ts';
import { buildChain, proofFor, type TestBlock } from '../../helpers/certified-chain.ts';
import {
  certify,
  sampleEvidence,
  sampleUnsignedTx,
  TEST_INSTITUTIONS,
  testGenesis,
  testGenesisJson,
  testSigner,
} from '../../helpers/fixtures.ts';
import { makePki, type Pki, startTsa, T0 } from '../../helpers/tsa.ts';

const document = utf8.encode('mediation agreement, signed 2026-05-30');
let pki: Pki;
let tsa: EmbeddedTsa;
let genesis: Genesis;
let chain: TestBlock[];
let target: TxEnvelope;
let anchorToken: Uint8Array;
let anchorGenTime: Date;

function evidenceTx(i: number, overrides: Parameters<typeof sampleEvidence>[0] = {}): TxEnvelope {
  const e = sampleEvidence({ hash: sha256(utf8.encode(`doc-${i}`)), ...overrides });
  const inst = TEST_INSTITUTIONS[i % 4];
  const u = sampleUnsignedTx({
    institution: inst,
    nonce: i,
    payload: encodeEvidence(e),
    createdAt: T0 - 5000,
  });
  return envelope(signTx(u, testSigner(`${inst}/client-1`)));
}

function receipt(withAnchor = true): ReceiptJson {
  return buildReceipt({
    genesis,
    tx: target,
    header: chain[1]!.header,
    certificate: chain[1]!.cert,
    validatorSet: genesisValidatorSet(genesis),
    proof: proofFor(chain[1]!, target),
    anchor: withAnchor
      ? {
          header: chain[3]!.header,
          headers: [chain[2]!.header, chain[3]!.header],
          token: anchorToken,
          genTime: anchorGenTime,
        }
      : undefined,
  });
}

beforeAll(async () => {
  pki = await makePki();
  tsa = await startTsa(pki, T0 + 10_000);
  genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
  target = evidenceTx(5, { hash: sha256(document), evidenceType: 'mediation-agreement' });
  chain = buildChain(
    genesis,
    [[evidenceTx(1)], [evidenceTx(2), target, evidenceTx(3)], [], [evidenceTx(4)]],
    T0,
  );
  const stamped = await tsa.stamp(chain[3]!.hash, 'sha256');
  anchorToken = stamped.token;
  anchorGenTime = stamped.genTime;
  return () => tsa.stop();
});

const names = (r: Awaited<ReturnType<typeof verifyReceipt>>) =>
  r.checks.filter((c) => c.status === 'fail').map((c) => c.name);

describe('evidence receipts', () => {
  it('a genuine receipt verifies every check, with the file, and says since when', async () => {
    const r = await verifyReceipt(JSON.parse(JSON.stringify(receipt())), {
      genesis: genesis,
      file: document,
    });
    expect(r.ok, JSON.stringify(r.checks)).toBe(true);
    expect(r.checks.map((c) => [c.name, c.status])).toEqual([
      ['format', 'pass'],
      ['genesis', 'pass'],
      ['header', 'pass'],
      ['governance', 'pass'],
      ['validatorSet', 'pass'],
      ['certificate', 'pass'],
      ['tx', 'pass'],
      ['signature', 'pass'],
      ['inclusion', 'pass'],
      ['evidence', 'pass'],
      ['file', 'pass'],
      ['anchor', 'pass'],
      ['archive', 'skip'],
      ['evidenceToken', 'skip'],
      ['summary', 'pass'],
    ]);
    expect(r.facts).toMatchObject({ height: 2, blockTime: new Date(T0 + 1000), anchoredAt: anchorGenTime });
    expect(r.facts!.evidenceHash).toBe(toHex(sha256(document)));
  });

  it('without an anchor it still verifies, unless an anchor is required', async () => {
    const r = receipt(false);
    expect((await verifyReceipt(r, { genesis: genesis })).ok).toBe(true);
    const strict = await verifyReceipt(r, { genesis: genesis, requireAnchor: true });
    expect(strict.ok).toBe(false);
    expect(names(strict)).toEqual(['anchor']);
  });

  it('a different file is not proven', async () => {
    const r = await verifyReceipt(receipt(), { genesis: genesis, file: utf8.encode('forged agreement') });
    expect(r.ok).toBe(false);
    expect(names(r)).toEqual(['file']);
  });

  it('a receipt for another genesis fails at the genesis check', async () => {
    const other = testGenesis({ chainId: 'another-chain' });
    expect(names(await verifyReceipt(receipt(), { genesis: other }))).toEqual(['genesis']);
  });

  it('a receipt verifies only against the genesis its validators signed, not another with the same chain id and validators', async () => {
    // A second genesis: same chain id and validators, another client key for bank-a (e.g. a staging chain).
    const json = testGenesisJson({ tsa: { trustAnchors: [pki.rootPem] } });
    json.institutions[0].clientKeys[0].publicKey = toHex(testSigner('bank-a/other-client').publicKey);
    const second = parseGenesis(json);
    expect(second.chainId).toBe(genesis.chainId);
    const claimed = { ...receipt(), genesisHash: toHex(genesisHash(second)) };
    const r = await verifyReceipt(claimed, { genesis: second });
    expect(names(r)).toEqual(['certificate']);
    expect((await verifyReceipt(receipt(), { genesis })).ok).toBe(true);
    // A v1 receipt's certificate (the chain id alone) cannot tell the two apart; its genesis check says so.
    const header = chain[1]!.header;
    const v1 = {
      ...claimed,
      format: RECEIPT_FORMAT_V1,
      certificate: Buffer.from(encodeCertificate(certify(header, 0, [0, 1, 2], null))).toString('base64'),
    };
    delete v1.archive;
    const weak = await verifyReceipt(v1, { genesis: second });
    expect(weak.ok).toBe(true);
    expect(weak.checks.find((c) => c.name === 'genesis')?.detail).toMatch(/do not sign the genesis hash/);
  });

  it('an untrusted TSA root fails the anchor check', async () => {
    const otherPki = await makePki({ rootName: 'Other Root' });
    const r = await verifyReceipt(receipt(), { genesis: genesis, tsaTrustAnchorsPem: otherPki.rootPem });
    expect(names(r)).toEqual(['anchor']);
  });

  it('a certificate below quorum fails', async () => {
    const r = receipt();
    const weak = buildReceipt({
      genesis: genesis,
      tx: target,
      header: chain[1]!.header,
      certificate: certify(chain[1]!.header, 0, [0, 1], genesisHash(genesis)),
      validatorSet: genesisValidatorSet(genesis),
      proof: proofFor(chain[1]!, target),
    });
    expect(names(await verifyReceipt(weak, { genesis: genesis }))).toEqual(['certificate']);
    expect((await verifyReceipt(r, { genesis: genesis })).ok).toBe(true);
  });

  // Tampering with any field must fail. Each case edits one field of a fresh, valid receipt.
  const flipB64 = (s: string, at = 10) => {
    const b = Buffer.from(s, 'base64');
    b[(at + b.length) % b.length]! ^= 0x01;
    return b.toString('base64');
  };
  const flipHex = (s: string) => (s[0] === '0' ? '1' : '0') + s.slice(1);
  it.each<[string, (r: any) => void]>([
    ['format', (r) => (r.format = 'jrchain-receipt/v2')],
    ['chainId', (r) => (r.chainId = 'other')],
    ['genesisHash', (r) => (r.genesisHash = flipHex(r.genesisHash))],
    ['txHash', (r) => (r.txHash = flipHex(r.txHash))],
    ['tx bytes', (r) => (r.tx = flipB64(r.tx, 40))],
    ['tx signature', (r) => (r.tx = flipB64(r.tx, -3))],
    ['block.height', (r) => (r.block.height += 1)],
    ['block.hash', (r) => (r.block.hash = flipHex(r.block.hash))],
    ['block.header', (r) => (r.block.header = flipB64(r.block.header, 30))],
    ['inclusion.leafIndex', (r) => (r.inclusion.leafIndex = 0)],
    ['inclusion.treeSize', (r) => (r.inclusion.treeSize = 4)],
    ['inclusion.path', (r) => (r.inclusion.path[0] = flipHex(r.inclusion.path[0]))],
    ['certificate', (r) => (r.certificate = flipB64(r.certificate, 50))],
    ['validatorSet', (r) => (r.validatorSet = flipB64(r.validatorSet, 12))],
    ['anchor.height', (r) => (r.anchor.height = 3)],
    ['anchor.headerHash', (r) => (r.anchor.headerHash = flipHex(r.anchor.headerHash))],
    ['anchor.headers', (r) => r.anchor.headers.shift()],
    ['anchor.token', (r) => (r.anchor.token = flipB64(r.anchor.token, 200))],
    ['summary.institution', (r) => (r.summary.institution = 'bank-d')],
    ['summary.evidence.caseId', (r) => (r.summary.evidence.caseId = 'another-case')],
    ['summary.blockTime', (r) => (r.summary.blockTime = new Date(T0).toISOString())],
    ['summary.anchoredAt', (r) => (r.summary.anchoredAt = new Date(T0).toISOString())],
    ['summary extra field', (r) => (r.summary.note = 'x')],
    ['a missing field', (r) => delete r.certificate],
    [
      'not an object',
      (r) => {
        for (const k of Object.keys(r)) delete r[k];
      },
    ],
  ])('tampering with %s fails', async (_name, tamper) => {
    const r = JSON.parse(JSON.stringify(receipt()));
    tamper(r);
    const v = await verifyReceipt(r, { genesis: genesis, file: document });
    expect(v.ok).toBe(false);
    expect(v.checks.at(-1)!.status).toBe('fail');
  });

  it('never throws on garbage', async () => {
    for (const doc of [null, 42, 'receipt', [], { format: 'jrchain-receipt/v1' }]) {
      expect((await verifyReceipt(doc, { genesis: genesis })).ok).toBe(false);
    }
  });
});

describe('jrchain receipt verify', () => {
  it('prints every check and exits 0 for a genuine receipt, 1 for a tampered one, 3 for a broken file', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { runCli } = await import('../../../src/cli/main.ts');
    const { memoryIo } = await import('../../../src/cli/io.ts');
    const { genesisToJson } = await import('../../../src/core/genesis.ts');
    const dir = mkdtempSync(join(tmpdir(), 'jrchain-receipt-'));
    try {
      const g = join(dir, 'genesis.json');
      writeFileSync(g, JSON.stringify(genesisToJson(genesis)));
      const good = join(dir, 'receipt.json');
      writeFileSync(good, JSON.stringify(receipt()));
      const doc = join(dir, 'agreement.txt');
      writeFileSync(doc, document);
      const io = memoryIo();
      expect(await runCli(['receipt', 'verify', good, '--genesis', g, '--file', doc], io)).toBe(0);
      expect(io.stdout).toMatch(/ok {3}certificate {4}3 of 4 validators signed/);
      expect(io.stdout).toMatch(/PROVEN: evidence sha256:/);

      const bad = JSON.parse(JSON.stringify(receipt()));
      bad.summary.evidence.caseId = 'other';
      const badPath = join(dir, 'bad.json');
      writeFileSync(badPath, JSON.stringify(bad));
      const io2 = memoryIo();
      expect(await runCli(['receipt', 'verify', badPath, '--genesis', g, '--json'], io2)).toBe(1);
      expect(JSON.parse(io2.stdout)).toMatchObject({ ok: false });

      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{');
      const io3 = memoryIo();
      expect(await runCli(['receipt', 'verify', broken, '--genesis', g], io3)).toBe(3);
      expect(io3.stderr).toMatch(/FILE_NOT_JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
