/**
 * Receipts after governance (ADR 006): a receipt carries every governance tx before its block, and the
 * offline verifier replays them from the genesis to learn the validator set and client keys in force. The
 * chain registers an institution, adds its validator, and rotates a validator key; receipts after each
 * change verify, and every way of leaving out, reordering or forging the governance history fails with a
 * named check.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import type { Ed25519Signer } from '../../../src/core/crypto.ts';
import { genesisHash } from '../../../src/core/genesis.ts';
import type { GovernanceAction } from '../../../src/core/governance.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { encodeValidatorSet, epochOf, quorumSize } from '../../../src/core/validators.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import {
  RECEIPT_FORMAT,
  RECEIPT_FORMAT_V1,
  RECEIPT_FORMAT_V2,
  type ReceiptJson,
  verifyReceipt,
} from '../../../src/receipt/receipt.ts';
import { batchOf } from '../../helpers/chain.ts';
import {
  certify,
  certifyBy,
  evidenceTx,
  governanceTx,
  TEST_GENESIS_TIME,
  testGenesis,
  testSigner,
  validatorSigners,
} from '../../helpers/fixtures.ts';

const T = TEST_GENESIS_TIME;
const genesis = testGenesis();
const veSigner = testSigner('validator-e');
const vaRotated = testSigner('validator-a-2');
const bankE = testSigner('bank-e/client-1');
const signersByKey = new Map<string, Ed25519Signer>(
  [...validatorSigners(), veSigner, vaRotated].map((s) => [toHex(s.publicKey), s]),
);

const propose = (action: GovernanceAction) =>
  governanceTx({ kind: 'propose', deadline: T + 600_000, action }, { createdAt: T + 500 });
const approve = (p: TxEnvelope, validator: number, extra = {}) =>
  governanceTx({ kind: 'approve', proposalId: p.hash }, { validator, createdAt: T + 500, ...extra });

let chain: LedgerChain;
let queries: LedgerQueries;
/** Evidence signed by the governance-registered key of bank-e (block 3, before any set change). */
let byBankE: TxEnvelope;
/** Evidence in epoch 1, after bank-e's validator joined (block 5). */
let afterAdd: TxEnvelope;
/** Evidence in epoch 2, after bank-a's validator key was rotated (block 7). */
let afterRotation: TxEnvelope;
let early: TxEnvelope;

async function commit(txs: TxEnvelope[], time: number): Promise<void> {
  const built = await chain.buildBlock(batchOf(txs, time));
  expect(built.rejected).toEqual([]);
  const set = chain.validatorSetAt(built.header.height);
  const signers = set.validators.map((v) => signersByKey.get(toHex(v.publicKey))!);
  const who = Array.from({ length: quorumSize(set.validators.length) }, (_, i) => i);
  await chain.commitBlock(
    built,
    certifyBy(built.header, signers, epochOf(set), who, built.header.view, genesisHash(chain.genesis)),
  );
}

beforeAll(async () => {
  chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
  queries = new LedgerQueries(chain.store, genesis);
  early = evidenceTx({ nonce: 1 });
  await commit([early], T + 1000);
  const register = propose({
    type: 'registerInstitution',
    id: 'bank-e',
    name: 'Bank E',
    clientKeys: [{ keyId: 'client-1', publicKey: bankE.publicKey }],
  });
  await commit([register, approve(register, 1), approve(register, 2)], T + 2000);
  byBankE = evidenceTx({ institution: 'bank-e', nonce: 1 });
  await commit([byBankE], T + 3000);
  const add = propose({ type: 'addValidator', institution: 'bank-e', publicKey: veSigner.publicKey });
  await commit([evidenceTx({ nonce: 2 }), add, approve(add, 1), approve(add, 2)], T + 4000);
  afterAdd = evidenceTx({ institution: 'bank-b', nonce: 1 });
  await commit([afterAdd], T + 5000);
  // Five validators now: a quorum is four. bank-e approves with its validator key.
  const rotate = propose({
    type: 'rotateValidatorKey',
    institution: 'bank-a',
    publicKey: vaRotated.publicKey,
  });
  await commit(
    [
      rotate,
      approve(rotate, 1),
      approve(rotate, 2),
      approve(rotate, 4, { institution: 'bank-e', signer: veSigner }),
    ],
    T + 6000,
  );
  afterRotation = evidenceTx({ institution: 'bank-c', nonce: 1 });
  await commit([afterRotation], T + 7000);
  expect(epochOf(chain.validatorSetAt(7))).toBe(2);
});

async function receipt(tx: TxEnvelope): Promise<ReceiptJson> {
  return JSON.parse(JSON.stringify(await receiptFor(queries, genesis, tx.hash)));
}

const failure = (r: Awaited<ReturnType<typeof verifyReceipt>>) => {
  expect(r.ok).toBe(false);
  const failed = r.checks.filter((c) => c.status === 'fail');
  expect(failed).toHaveLength(1);
  return failed[0]!;
};
const detail = (r: Awaited<ReturnType<typeof verifyReceipt>>, name: string) =>
  r.checks.find((c) => c.name === name)?.detail;

describe('receipts after governance', () => {
  it('a block before any governance tx gets a receipt without a governance field', async () => {
    const r = await receipt(early);
    expect(r.format).toBe(RECEIPT_FORMAT);
    expect('governance' in r).toBe(false);
    const v = await verifyReceipt(r, { genesis });
    expect(v.ok).toBe(true);
    expect(detail(v, 'governance')).toMatch(/no governance txs before block 1/);
  });

  it('evidence signed by a client key that governance registered verifies', async () => {
    const r = await receipt(byBankE);
    expect(r.format).toBe(RECEIPT_FORMAT);
    expect(r.governance!.map((b) => [b.height, b.txs.length])).toEqual([[2, 3]]);
    const v = await verifyReceipt(r, { genesis });
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(detail(v, 'governance')).toBe('3 governance txs in 1 block replayed; validator set of epoch 0');
    expect(detail(v, 'signature')).toBe('signed by bank-e/client-1');
  });

  it('a receipt after a validator is added verifies against the set of epoch 1', async () => {
    const r = await receipt(afterAdd);
    // Block 4's evidence tx is not governance: only the governance txs are carried, at their leaf index.
    expect(r.governance!.map((b) => [b.height, b.txs.map((t) => t.leafIndex)])).toEqual([
      [2, [0, 1, 2]],
      [4, [1, 2, 3]],
    ]);
    const v = await verifyReceipt(r, { genesis });
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(detail(v, 'governance')).toBe('6 governance txs in 2 blocks replayed; validator set of epoch 1');
    expect(detail(v, 'certificate')).toMatch(/^4 of 5 validators signed/);
  });

  it('a receipt after a validator key rotation verifies against the set of epoch 2', async () => {
    const v = await verifyReceipt(await receipt(afterRotation), { genesis });
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(detail(v, 'governance')).toBe('10 governance txs in 3 blocks replayed; validator set of epoch 2');
    expect(v.checks.map((c) => c.name).slice(0, 5)).toEqual([
      'format',
      'genesis',
      'header',
      'governance',
      'validatorSet',
    ]);
  });

  it('jrchain receipt verify prints the governance check', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { runCli } = await import('../../../src/cli/main.ts');
    const { memoryIo } = await import('../../../src/cli/io.ts');
    const { genesisToJson } = await import('../../../src/core/genesis.ts');
    const dir = mkdtempSync(join(tmpdir(), 'jrchain-gov-receipt-'));
    try {
      const g = join(dir, 'genesis.json');
      writeFileSync(g, JSON.stringify(genesisToJson(genesis)));
      const path = join(dir, 'receipt.json');
      writeFileSync(path, JSON.stringify(await receipt(afterRotation)));
      const io = memoryIo();
      expect(await runCli(['receipt', 'verify', path, '--genesis', g], io)).toBe(0);
      expect(io.stdout).toMatch(
        /ok {3}governance {5}10 governance txs in 3 blocks replayed; validator set of epoch 2\n/,
      );
      const bad = await receipt(afterRotation);
      bad.governance!.pop();
      writeFileSync(path, JSON.stringify(bad));
      const io2 = memoryIo();
      expect(await runCli(['receipt', 'verify', path, '--genesis', g], io2)).toBe(1);
      expect(io2.stdout).toMatch(
        /FAIL validatorSet {3}the block is certified by the validator set of epoch 2/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a receipt that leaves out the registration fails at the signature, naming the key', async () => {
    const r = await receipt(byBankE);
    delete r.governance;
    const f = failure(await verifyReceipt(r, { genesis }));
    expect(f.name).toBe('signature');
    expect(f.detail).toBe('institution bank-e is not registered by the genesis');
  });

  it('a dropped governance block fails: the set or the registry no longer matches what the chain certified', async () => {
    // Without the last one (the rotation), the replayed set is epoch 1's, not the header's.
    let r = await receipt(afterRotation);
    r.governance!.pop();
    let f = failure(await verifyReceipt(r, { genesis }));
    expect(f.name).toBe('validatorSet');
    expect(f.detail).toMatch(/certified by the validator set of epoch 2.*set of epoch 1 in force at block 7/);

    // Without the addition, block 6 names a set the replay never reached.
    r = await receipt(afterRotation);
    r.governance!.splice(1, 1);
    f = failure(await verifyReceipt(r, { genesis }));
    expect(f.name).toBe('governance');
    expect(f.detail).toMatch(/^governance\[1\]: block 6 names another validator set than that of epoch 0/);

    // Without the registration, the addition of bank-e's validator does not apply.
    r = await receipt(afterRotation);
    r.governance!.shift();
    f = failure(await verifyReceipt(r, { genesis }));
    expect(f.name).toBe('governance');
    expect(f.detail).toMatch(
      /^governance\[0\]\.txs\[0\]: governance tx .* does not apply at block 4: .*unknown institution bank-e/,
    );
  });

  it('a governance tx whose inclusion proof is wrong fails', async () => {
    const r = await receipt(afterAdd);
    const path = r.governance![1]!.txs[1]!.path;
    path[0] = (path[0]![0] === '0' ? '1' : '0') + path[0]!.slice(1);
    const f = failure(await verifyReceipt(r, { genesis }));
    expect(f.name).toBe('governance');
    expect(f.detail).toMatch(
      /^governance\[1\]\.txs\[1\]: the Merkle proof of governance tx .* does not lead to the txRoot of block 4$/,
    );

    const moved = await receipt(afterAdd);
    moved.governance![1]!.txs[0]!.leafIndex = 0;
    expect(failure(await verifyReceipt(moved, { genesis })).detail).toMatch(/Merkle proof/);
  });

  it('a certificate signed by the old set after the switch fails', async () => {
    // Block 6 is in epoch 1; a quorum of the genesis set in epoch 0's domain does not certify it.
    let r = await receipt(afterRotation);
    const block6 = chain.store.block(6);
    const { header } = (await block6)!;
    r.governance![2]!.certificate = Buffer.from(
      (await import('../../../src/core/block.ts')).encodeCertificate(certify(header)),
    ).toString('base64');
    let f = failure(await verifyReceipt(r, { genesis }));
    expect(f.name).toBe('governance');
    expect(f.detail).toMatch(
      /^governance\[2\]: the certificate of block 6 does not verify against the validator set of epoch 1/,
    );

    // The evidence's own block, in epoch 2: epoch 1's keys (bank-a's old one) do not certify it.
    r = await receipt(afterRotation);
    const { header: h7 } = (await chain.store.block(7))!;
    const old = [...validatorSigners(), veSigner];
    r.certificate = Buffer.from(
      (await import('../../../src/core/block.ts')).encodeCertificate(certifyBy(h7, old, 2, [0, 1, 2, 3])),
    ).toString('base64');
    f = failure(await verifyReceipt(r, { genesis }));
    expect(f.name).toBe('certificate');

    // Nor does a receipt that swaps in the old set: the header commits to the new one.
    r = await receipt(afterRotation);
    r.validatorSet = Buffer.from(encodeValidatorSet(chain.validatorSetAt(5))).toString('base64');
    expect(failure(await verifyReceipt(r, { genesis })).name).toBe('validatorSet');
  });

  it('a reordered list fails: blocks out of chain order, txs out of block order', async () => {
    let r = await receipt(afterRotation);
    r.governance!.reverse();
    // Block 6 first: the replay has not reached the set it names yet.
    let f = failure(await verifyReceipt(r, { genesis }));
    expect(f.name).toBe('governance');
    expect(f.detail).toMatch(/^governance\[0\]: block 6 names another validator set than that of epoch 0/);

    r = await receipt(afterRotation);
    const txs = r.governance![0]!.txs;
    [txs[0], txs[1]] = [txs[1]!, txs[0]!];
    f = failure(await verifyReceipt(r, { genesis }));
    expect(f.name).toBe('governance');
    expect(f.detail).toMatch(/^governance\[0\]\.txs\[1\]: leaf index 0 does not come after 1/);

    r = await receipt(afterRotation);
    r.governance!.push(r.governance![0]!);
    expect(failure(await verifyReceipt(r, { genesis })).detail).toMatch(
      /block 2 does not come after block 6/,
    );
  });

  it('governance at or after the evidence block, an empty block entry, and mislabelled formats fail', async () => {
    const later = await receipt(afterRotation);
    let r = await receipt(afterAdd);
    r.governance!.push(later.governance![2]!);
    expect(failure(await verifyReceipt(r, { genesis })).detail).toMatch(
      /^governance\[2\]: block 6 is not below the evidence's block 5/,
    );

    r = await receipt(afterAdd);
    r.governance![0]!.txs = [];
    expect(failure(await verifyReceipt(r, { genesis })).detail).toBe('governance[0] lists no governance txs');

    r = await receipt(afterAdd);
    r.format = RECEIPT_FORMAT_V1;
    delete r.archive;
    let f = failure(await verifyReceipt(r, { genesis }));
    expect([f.name, f.detail]).toEqual([
      'format',
      'a jrchain-receipt/v1 receipt must not list governance txs (those are jrchain-receipt/v2)',
    ]);

    r = await receipt(early);
    r.format = RECEIPT_FORMAT_V2;
    delete r.archive;
    f = failure(await verifyReceipt(r, { genesis }));
    expect([f.name, f.detail]).toEqual([
      'format',
      'a jrchain-receipt/v2 receipt must list governance txs; it lists none',
    ]);

    for (const bad of [{}, 'x', [1]]) {
      r = await receipt(afterAdd);
      (r as any).governance = bad;
      expect((await verifyReceipt(r, { genesis })).ok).toBe(false);
    }
  });
});

describe('receipts and a revoked client key', () => {
  it('a record made before the revocation keeps verifying; a key revoked before the block is named as such', async () => {
    const c = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const q = new LedgerQueries(c.store, genesis);
    const run = async (txs: TxEnvelope[], time: number) => {
      const built = await c.buildBlock(batchOf(txs, time));
      expect(built.rejected).toEqual([]);
      await c.commitBlock(built, certify(built.header, built.header.view, undefined, genesisHash(c.genesis)));
    };
    const before = evidenceTx({ institution: 'bank-c', nonce: 1 });
    await run([before], T + 1000);
    const revoke = propose({ type: 'revokeClientKey', institution: 'bank-c', keyId: 'client-1' });
    await run([revoke, approve(revoke, 1), approve(revoke, 2)], T + 2000);
    const after = evidenceTx({ institution: 'bank-a', nonce: 1 });
    await run([after], T + 3000);

    const old = await receiptFor(q, genesis, before.hash);
    expect(old!.format).toBe(RECEIPT_FORMAT);
    expect((await verifyReceipt(old, { genesis })).ok).toBe(true);

    // A receipt that passes the revoked key's record off as recorded after the revocation.
    const r = JSON.parse(JSON.stringify(await receiptFor(q, genesis, after.hash))) as ReceiptJson;
    expect((await verifyReceipt(r, { genesis })).ok).toBe(true);
    r.tx = Buffer.from(before.bytes).toString('base64');
    r.txHash = before.hashHex;
    const f = failure(await verifyReceipt(r, { genesis }));
    expect([f.name, f.detail]).toEqual(['signature', 'bank-c/client-1 was revoked before block 3']);
  });
});
