/**
 * Receipts gathered from a real ledger: the executor checks anchors with the genesis verifier, and the
 * receipts it serves verify offline, with an anchor once one covers the block, and fail when the TSA root is
 * not trusted. governance-receipt.test.ts covers receipts after governance in depth.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import type { Genesis } from '../../../src/core/genesis.ts';
import { genesisHash } from '../../../src/core/genesis.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import type { ChainHead } from '../../../src/ledger/chain.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { ReceiptErrorCode, receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import { verifyReceipt } from '../../../src/receipt/receipt.ts';
import { createGenesisTokenVerifier } from '../../../src/timestamp/genesis-verifier.ts';
import { batchOf, outcomes, runBlock } from '../../helpers/chain.ts';
import {
  anchorTx,
  certifyBy,
  evidenceTx,
  governanceTx,
  TEST_GENESIS_TIME,
  testGenesis,
  testSigner,
  validatorSigners,
} from '../../helpers/fixtures.ts';
import { makePki, type Pki, startTsa } from '../../helpers/tsa.ts';

const T = TEST_GENESIS_TIME;
const document = utf8.encode('repayment record, card ending 4242, March 2026');
let pki: Pki;
let genesis: Genesis;

beforeAll(async () => {
  pki = await makePki();
  genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
});

async function openChain() {
  const verifier = createGenesisTokenVerifier(genesis.tsa);
  const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis, {
    tokenVerifier: verifier,
    anchorVerifier: verifier,
  });
  return { chain, queries: new LedgerQueries(chain.store, genesis) };
}

/** An anchor tx over `head`, with a token the embedded TSA makes at `at`. */
async function anchorOf(head: ChainHead, at: number): Promise<TxEnvelope> {
  const tsa = await startTsa(pki, at);
  try {
    const { token } = await tsa.stamp(head.hash, 'sha256');
    return anchorTx({ height: head.height, headerHash: head.hash, token }, { validator: 1, createdAt: at });
  } finally {
    await tsa.stop();
  }
}

describe('receiptFor', () => {
  it('after a validator-set change: old receipts still verify, and a later block is proven offline through the governance txs', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const queries = new LedgerQueries(chain.store, genesis);
    const commit = async (txs: TxEnvelope[], time: number) => {
      const built = await chain.buildBlock(batchOf(txs, time));
      const set = chain.validatorSetAt(built.header.height);
      const keys = [...validatorSigners(), testSigner('validator-e')];
      const signers = set.validators.map(
        (v) => keys.find((k) => Buffer.compare(k.publicKey, v.publicKey) === 0)!,
      );
      await chain.commitBlock(
        built,
        certifyBy(
          built.header,
          signers,
          set.epoch ?? 0,
          [0, 1, 2],
          built.header.view,
          genesisHash(chain.genesis),
        ),
      );
    };
    const early = evidenceTx({ nonce: 1, evidence: { hash: sha256(document) } });
    await commit([early], T + 1000);
    const remove = governanceTx({
      kind: 'propose',
      deadline: T + 60_000,
      action: { type: 'removeValidator', institution: 'bank-d' },
    });
    const approvals = [1, 2].map((v) =>
      governanceTx({ kind: 'approve', proposalId: remove.hash }, { validator: v }),
    );
    await commit([remove, ...approvals], T + 2000);
    const late = evidenceTx({ nonce: 2, evidence: { hash: sha256(utf8.encode('later')) } });
    await commit([late], T + 3000);

    const old = await receiptFor(queries, genesis, early.hash);
    expect((await verifyReceipt(old, { genesis, file: document })).ok).toBe(true);
    const lateReceipt = await receiptFor(queries, genesis, late.hash);
    const after = await verifyReceipt(lateReceipt, { genesis });
    expect(after.ok, JSON.stringify(after.checks)).toBe(true);
    expect(after.checks.find((c) => c.name === 'governance')?.detail).toBe(
      '3 governance txs in 1 block replayed; validator set of epoch 1',
    );
    // Without them, the receipt cannot show which set certified the block.
    const bare = { ...lateReceipt!, format: 'jrchain-receipt/v1' };
    delete bare.governance;
    delete bare.archive;
    const failed = (await verifyReceipt(bare, { genesis })).checks.find((c) => c.status === 'fail');
    expect(failed?.name).toBe('validatorSet');
    expect(failed?.detail).toMatch(/validator set of epoch 1; .* set of epoch 0 in force at block 3/);
  });

  it('serves receipts that verify: without an anchor first, then with the anchor that covers the block', async () => {
    const { chain, queries } = await openChain();
    const target = evidenceTx({ nonce: 1, evidence: { hash: sha256(document), evidenceType: 'statement' } });
    await runBlock(chain, batchOf([evidenceTx({ nonce: 2 }), target], T + 1000));
    const later = evidenceTx({ nonce: 3, institution: 'bank-c' });
    await runBlock(chain, batchOf([later], T + 2000));
    await runBlock(chain, batchOf([], T + 3000));

    const before = await receiptFor(queries, genesis, target.hash);
    expect(before!.anchor).toBeNull();
    expect((await verifyReceipt(before, { genesis, file: document })).ok).toBe(true);
    expect((await verifyReceipt(before, { genesis, requireAnchor: true })).ok).toBe(false);

    // Block 3 is anchored: the token covers blocks 1 and 2 through the header chain.
    const anchor = await anchorOf(chain.head(), T + 3500);
    const anchoring = await runBlock(chain, batchOf([anchor], T + 4000));
    expect(outcomes(anchoring, [anchor])).toEqual(['ok']);

    const receipt = await receiptFor(queries, genesis, target.hash);
    expect(receipt!.anchor).toMatchObject({ height: 3 });
    expect(receipt!.anchor!.headers).toHaveLength(2);
    const v = await verifyReceipt(JSON.parse(JSON.stringify(receipt)), {
      genesis,
      file: document,
      requireAnchor: true,
    });
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(v.facts!.anchoredAt).toEqual(new Date(T + 3500));
    expect(v.facts!.height).toBe(1);

    // The receipt of a tx in a later block has a shorter header chain, and also verifies.
    const laterReceipt = await receiptFor(queries, genesis, later.hash);
    expect(laterReceipt!.anchor!.headers).toHaveLength(1);
    expect((await verifyReceipt(laterReceipt, { genesis, requireAnchor: true })).ok).toBe(true);
  });

  it('fails verification when the TSA root is not trusted', async () => {
    const { chain, queries } = await openChain();
    const target = evidenceTx({ nonce: 1 });
    await runBlock(chain, batchOf([target], T + 1000));
    await runBlock(chain, batchOf([await anchorOf(chain.head(), T + 1500)], T + 2000));
    const receipt = await receiptFor(queries, genesis, target.hash);
    // The anchored block is the tx's own: no headers between.
    expect(receipt!.anchor!.headers).toEqual([]);
    expect((await verifyReceipt(receipt, { genesis, requireAnchor: true })).ok).toBe(true);
    const stranger = await makePki({ rootName: 'Stranger Root' });
    const v = await verifyReceipt(receipt, { genesis, tsaTrustAnchorsPem: stranger.rootPem });
    expect(v.ok).toBe(false);
    expect(v.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['anchor']);
  });

  it('answers undefined for an unknown tx, and refuses a receipt for an anchor tx', async () => {
    const { chain, queries } = await openChain();
    await runBlock(chain, batchOf([evidenceTx({ nonce: 1 })], T + 1000));
    const anchor = await anchorOf(chain.head(), T + 1500);
    await runBlock(chain, batchOf([anchor], T + 2000));
    expect(await receiptFor(queries, genesis, sha256(utf8.encode('nothing')))).toBeUndefined();
    await expect(receiptFor(queries, genesis, anchor.hash)).rejects.toMatchObject({
      code: ReceiptErrorCode.notEvidence,
    });
  });
});
