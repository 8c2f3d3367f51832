import { afterEach, describe, expect, it, vi } from 'vitest';
import { nullBatch } from '../../../src/core/batch.ts';
import { CertError, CertErrorCode, headerHash, verifyCommitCertificate } from '../../../src/core/block.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { InvariantError } from '../../../src/core/errors.ts';
import { genesisHash, genesisValidatorSet } from '../../../src/core/genesis.ts';
import { merkleRoot, verifyInclusion } from '../../../src/core/merkle.ts';
import { validatorSetHash } from '../../../src/core/validators.ts';
import type { BuiltBlock } from '../../../src/ledger/chain.ts';
import { LedgerErrorCode, TxErrorCode } from '../../../src/ledger/errors.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { batchOf, openChain, openMemoryChain, outcomes, runBlock } from '../../helpers/chain.ts';
import { codeOfAsync as codeOf } from '../../helpers/errors.ts';
import {
  anchorTx,
  certify,
  evidenceTx,
  sampleEvidence,
  TEST_GENESIS_TIME,
  testGenesis,
} from '../../helpers/fixtures.ts';
import { genesis, removeDir, tempDir } from '../../helpers/ledger.ts';

const T = TEST_GENESIS_TIME;
const tx = (nonce: number, institution = 'bank-a') => evidenceTx({ nonce, institution });

describe('LedgerChain blocks', () => {
  it('starts at the genesis: height 0, the genesis hash and creation time', async () => {
    const chain = await openMemoryChain();
    expect(chain.head()).toEqual({ height: 0, hash: genesisHash(genesis()), time: genesis().createdAt });
  });

  it('builds headers from the head and the batch, and commits them', async () => {
    const chain = await openMemoryChain();
    const txs = [tx(1), tx(1, 'bank-b'), tx(2)];
    const b1 = await chain.buildBlock(batchOf(txs, T + 1000, 2, 5));
    expect(b1.header).toEqual({
      chainId: genesis().chainId,
      height: 1,
      prevHash: genesisHash(genesis()),
      txRoot: merkleRoot(txs.map((t) => t.hash)),
      txCount: 3,
      proposer: 2,
      view: 5,
      time: T + 1000,
      validatorSetHash: validatorSetHash(genesisValidatorSet(genesis())),
    });
    expect(toHex(b1.hash)).toBe(toHex(headerHash(b1.header)));
    expect(b1.txs).toEqual(txs);
    expect(b1.rejected).toEqual([]);
    // Building writes nothing.
    expect(chain.head().height).toBe(0);
    expect(await chain.store.block(1)).toBeUndefined();

    const cert = certify(b1.header);
    await chain.commitBlock(b1, cert);
    expect(chain.head()).toEqual({ height: 1, hash: b1.hash, time: T + 1000 });
    const stored = await chain.store.block(1);
    expect(stored!.cert).toEqual(cert);

    const b2 = await chain.buildBlock(batchOf([tx(3)], T + 2000, 1, 5));
    expect(b2.header.height).toBe(2);
    expect(toHex(b2.header.prevHash)).toBe(toHex(b1.hash));
  });

  it('never lets block time go backwards; a null batch takes the head time', async () => {
    const chain = await openMemoryChain();
    const empty = await runBlock(chain, nullBatch(0, 0));
    expect(empty.header.time).toBe(T);
    expect(empty.header.txCount).toBe(0);
    expect(toHex(empty.header.txRoot)).toBe(toHex(sha256()));
    const times = [T + 5000, T + 3000, 0, T + 5000, T + 5001];
    const built: number[] = [];
    for (const [i, time] of times.entries()) {
      built.push((await runBlock(chain, batchOf([tx(10 + i)], time))).header.time);
    }
    expect(built).toEqual([T + 5000, T + 5000, T + 5000, T + 5000, T + 5001]);
    expect((await runBlock(chain, nullBatch(1, 3))).header.time).toBe(T + 5001);
  });

  it('refuses batches with fields outside their domain, and keeps working', async () => {
    const chain = await openMemoryChain();
    const bad = [
      { proposer: 4, view: 0, time: T, txs: [] },
      { proposer: -1, view: 0, time: T, txs: [] },
      { proposer: 0, view: -1, time: T, txs: [] },
      { proposer: 0, view: 0, time: Number.NaN, txs: [] },
      { proposer: 0, view: 0, time: 2 ** 60, txs: [] },
    ];
    for (const b of bad) expect(await codeOf(chain.buildBlock(b))).toBe(LedgerErrorCode.invalidBatch);
    expect((await runBlock(chain, batchOf([tx(1)], T + 1000))).header.height).toBe(1);
  });

  it('does not record rejected txs: no index, no nonce', async () => {
    const chain = await openMemoryChain();
    const expired = evidenceTx({ nonce: 1, createdAt: T - 2 * 3_600_000 });
    const valid = tx(2);
    const block = await runBlock(chain, batchOf([expired, valid], T + 1000));
    expect(outcomes(block, [expired, valid])).toEqual([TxErrorCode.expired, 'ok']);
    expect(await chain.store.tx(expired.hash)).toBeUndefined();
    expect(await chain.store.noncesUsed([{ institution: 'bank-a', nonce: 1 }])).toEqual([false]);
    // nonce 1 is still free for a valid tx
    expect(await chain.checkTx(tx(1), T + 1000)).toBeUndefined();
  });
});

describe('LedgerChain.checkTxs', () => {
  it('judges each tx as checkTx would, alone, with one nonce lookup for all of them', async () => {
    const chain = await openMemoryChain();
    const committed = tx(1);
    await runBlock(chain, batchOf([committed], T + 1000));
    const sig = tx(5).tx.signature.slice();
    sig[0]! ^= 0x80;
    const forged = { ...tx(5), tx: { ...tx(5).tx, signature: sig } };
    const replay = evidenceTx({ nonce: 1, institution: 'bank-a', createdAt: T + 1 });
    const expired = evidenceTx({ nonce: 6, createdAt: T - 2 * 3_600_000 });
    // Two txs with one nonce: each is fine on its own (the block will take only the first).
    const sameNonce = [tx(7), evidenceTx({ nonce: 7, institution: 'bank-a', createdAt: T + 2 })];
    const envs = [tx(2), committed, forged, replay, expired, ...sameNonce, tx(3, 'bank-b')];
    const lookups = vi.spyOn(chain.store, 'noncesUsed');
    const verdicts = await chain.checkTxs(envs, T + 2000);
    expect(lookups).toHaveBeenCalledTimes(1);
    const code = (v: { code: string } | undefined) => v?.code ?? 'ok';
    expect(verdicts.map(code)).toEqual([
      'ok',
      TxErrorCode.duplicate,
      TxErrorCode.badSignature,
      TxErrorCode.replayedNonce,
      TxErrorCode.expired,
      'ok',
      'ok',
      'ok',
    ]);
    const fresh = await openMemoryChain();
    await runBlock(fresh, batchOf([committed], T + 1000));
    const one = [];
    for (const e of envs) one.push(code(await fresh.checkTx(e, T + 2000)));
    expect(one).toEqual(verdicts.map(code));
    expect(await chain.checkTxs([], T)).toEqual([]);
  });
});

describe('LedgerChain signature cache', () => {
  it('verifies each signature once: admission fills the cache, execution uses it', async () => {
    const chain = await openMemoryChain();
    const txs = [tx(1), tx(2), tx(3)];
    for (const t of txs) expect(await chain.checkTx(t, T + 1000)).toBeUndefined();
    expect(chain.signatureVerifications).toBe(3);
    const fresh = tx(4);
    await runBlock(chain, batchOf([...txs, fresh], T + 1000));
    expect(chain.signatureVerifications).toBe(4); // only the tx admission never saw
  });

  it('remembers the signature bytes: the same body with another signature is verified afresh', async () => {
    const chain = await openMemoryChain();
    const good = tx(1);
    expect(await chain.checkTx(good, T + 1000)).toBeUndefined();
    const sig = good.tx.signature.slice();
    sig[0]! ^= 0x80;
    const forged = { ...good, tx: { ...good.tx, signature: sig } };
    expect(forged.hashHex).toBe(good.hashHex);
    const block = await chain.buildBlock(batchOf([forged], T + 1000));
    expect(outcomes(block, [forged])).toEqual([TxErrorCode.badSignature]);
    expect(chain.signatureVerifications).toBe(2);
  });

  it('is bounded: the oldest entries are evicted and verified again', async () => {
    const chain = await openMemoryChain({ verifiedSignatureCacheSize: 2 });
    const txs = [tx(1), tx(2), tx(3)];
    for (const t of txs) await chain.checkTx(t, T + 1000);
    await chain.buildBlock(batchOf(txs, T + 1000));
    expect(chain.signatureVerifications).toBe(4); // tx 1 was evicted; execution does not refill the cache
    await chain.buildBlock(batchOf(txs, T + 1000));
    expect(chain.signatureVerifications).toBe(5);
  });
});

describe('LedgerChain commit invariants', () => {
  async function prepared() {
    const chain = await openMemoryChain();
    await runBlock(chain, batchOf([tx(1)], T + 1000));
    const next = await chain.buildBlock(batchOf([tx(2), tx(3)], T + 2000));
    const headBefore = chain.head();
    return { chain, next, headBefore };
  }

  async function expectUnchanged(chain: LedgerChain, headBefore: ReturnType<LedgerChain['head']>) {
    expect(chain.head()).toEqual(headBefore);
    expect(chain.store.head()).toEqual(headBefore);
    expect(await chain.store.block(2)).toBeUndefined();
    expect(await chain.store.tx(tx(2).hash)).toBeUndefined();
    expect(await chain.store.noncesUsed([{ institution: 'bank-a', nonce: 2 }])).toEqual([false]);
  }

  it('a certificate for the wrong height is an InvariantError, and nothing is written', async () => {
    const { chain, next, headBefore } = await prepared();
    const cert = { ...certify(next.header), height: 3 };
    await expect(chain.commitBlock(next, cert)).rejects.toBeInstanceOf(InvariantError);
    await expectUnchanged(chain, headBefore);
    // The chain goes on with the right certificate.
    await chain.commitBlock(next, certify(next.header));
    expect(chain.head().height).toBe(2);
  });

  it('a certificate for another header is an InvariantError', async () => {
    const { chain, next, headBefore } = await prepared();
    const other = await chain.buildBlock(batchOf([tx(9)], T + 2000));
    await expect(chain.commitBlock(next, certify(other.header))).rejects.toBeInstanceOf(InvariantError);
    await expectUnchanged(chain, headBefore);
  });

  it('a block built on an old head is an InvariantError', async () => {
    const { chain, next } = await prepared();
    const rival = await chain.buildBlock(batchOf([tx(5)], T + 2000));
    await chain.commitBlock(rival, certify(rival.header));
    const headAfter = chain.head();
    await expect(chain.commitBlock(next, certify(next.header))).rejects.toBeInstanceOf(InvariantError);
    expect(chain.head()).toEqual(headAfter);
    expect(await chain.store.tx(tx(2).hash)).toBeUndefined();
  });

  it('a block whose header was altered after building is an InvariantError', async () => {
    const { chain, next, headBefore } = await prepared();
    const altered: BuiltBlock = { ...next, header: { ...next.header, time: next.header.time + 1 } };
    await expect(chain.commitBlock(altered, certify(altered.header))).rejects.toBeInstanceOf(InvariantError);
    await expectUnchanged(chain, headBefore);
  });

  it('a certificate without a quorum or with a bad signature is a CertError, and nothing is written', async () => {
    const { chain, next, headBefore } = await prepared();
    const short = certify(next.header, next.header.view, [0, 1]);
    await expect(chain.commitBlock(next, short)).rejects.toSatisfy(
      (e) => e instanceof CertError && e.code === CertErrorCode.noQuorum,
    );
    const forged = certify(next.header);
    forged.signatures[1] = { validator: 1, signature: forged.signatures[0]!.signature };
    await expect(chain.commitBlock(next, forged)).rejects.toSatisfy(
      (e) => e instanceof CertError && e.code === CertErrorCode.badSignature,
    );
    await expectUnchanged(chain, headBefore);
  });

  it('re-executes a block it did not build, and refuses one that does not re-execute to itself', async () => {
    const a = await openMemoryChain();
    const b = await openMemoryChain();
    const txs = [tx(1), tx(2)];
    const built = await a.buildBlock(batchOf(txs, T + 1000));
    const copy: BuiltBlock = structuredClone({ ...built, txs: [...built.txs], rejected: [] });
    await b.commitBlock(copy, certify(built.header));
    expect(b.head()).toEqual({ height: 1, hash: built.hash, time: T + 1000 });

    const c = await openMemoryChain();
    const swapped: BuiltBlock = { ...copy, txs: [tx(3), tx(2)] };
    await expect(c.commitBlock(swapped, certify(built.header))).rejects.toBeInstanceOf(InvariantError);
    expect(c.head().height).toBe(0);
    expect(await c.store.block(1)).toBeUndefined();
  });
});

describe('LedgerChain on a Level store', () => {
  let dir: string | undefined;
  afterEach(async () => {
    await removeDir(dir);
    dir = undefined;
  });

  it('reopens at its head and goes on; refuses a store from another genesis', async () => {
    dir = await tempDir('chain');
    let store = await LevelLedgerStore.open(dir);
    let chain = await openChain(store);
    await runBlock(chain, batchOf([tx(1)], T + 1000));
    const b2 = await runBlock(chain, batchOf([tx(2)], T + 2000));
    await store.close();

    store = await LevelLedgerStore.open(dir);
    chain = await openChain(store);
    expect(chain.head()).toEqual({ height: 2, hash: b2.hash, time: T + 2000 });
    expect(await chain.checkTx(tx(2), T + 3000)).toEqual(
      expect.objectContaining({ code: TxErrorCode.duplicate }),
    );
    const b3 = await runBlock(chain, batchOf([tx(3)], T + 3000));
    expect(toHex(b3.header.prevHash)).toBe(toHex(b2.hash));

    const other = testGenesis({ chainId: 'jrchain-elsewhere' });
    expect(await codeOf(LedgerChain.open(store, other))).toBe(LedgerErrorCode.genesisMismatch);
    await store.close();
  });
});

describe('LedgerQueries', () => {
  it('proves inclusion of every tx against its header, under a valid certificate', async () => {
    const chain = await openMemoryChain();
    const queries = new LedgerQueries(chain.store, genesis());
    expect(queries.head()).toEqual(chain.head());
    const txs = Array.from({ length: 7 }, (_, i) => tx(i + 1));
    await runBlock(chain, batchOf([tx(100)], T + 1000));
    await runBlock(chain, batchOf(txs, T + 2000));
    for (const [i, t] of txs.entries()) {
      const inc = await queries.inclusionProof(t.hash);
      expect(inc).toBeDefined();
      expect(inc!.tx.height).toBe(2);
      expect(inc!.tx.index).toBe(i);
      expect(verifyInclusion(t.hash, inc!.proof, inc!.header.txRoot)).toBe(true);
      expect(verifyInclusion(tx(100).hash, inc!.proof, inc!.header.txRoot)).toBe(false);
      expect(() =>
        verifyCommitCertificate(inc!.cert, inc!.header, chain.validatorSet, genesisHash(chain.genesis)),
      ).not.toThrow();
      expect(toHex(inc!.hash)).toBe(toHex(headerHash(inc!.header)));
    }
    expect(await queries.inclusionProof(sha256(new Uint8Array([1])))).toBeUndefined();
    expect(queries.head().height).toBe(2);
    // All eight records share the sample case id.
    expect((await queries.evidenceByCase(sampleEvidence().caseId)).items).toHaveLength(8);
  });

  it('answers at the genesis before any block', async () => {
    const queries = new LedgerQueries(new MemoryLedgerStore(), genesis());
    expect(queries.head()).toEqual({ height: 0, hash: genesisHash(genesis()), time: genesis().createdAt });
    expect(await queries.block(1)).toBeUndefined();
    expect(await queries.anchorCovering(1)).toBeUndefined();
    expect(await queries.anchorStatus()).toEqual({
      anchoredHeight: 0,
      anchoredBlockTime: T,
      evidenceHeight: 0,
      headHeight: 0,
      headTime: T,
      oldestUnanchoredEvidenceTime: undefined,
    });
  });

  it('finds the anchor covering a block with the header chain up to it, and the anchoring lag', async () => {
    const acceptAll = { verifyAnchor: () => undefined };
    const chain = await openMemoryChain({ anchorVerifier: acceptAll });
    const queries = new LedgerQueries(chain.store, genesis());
    const blocks: BuiltBlock[] = [];
    for (let i = 1; i <= 3; i++) blocks.push(await runBlock(chain, batchOf([tx(i)], T + i * 1000)));
    expect(await queries.anchorStatus()).toEqual({
      anchoredHeight: 0,
      anchoredBlockTime: T,
      evidenceHeight: 3,
      headHeight: 3,
      headTime: T + 3000,
      oldestUnanchoredEvidenceTime: T + 1000,
    });
    const record = { height: 3, headerHash: blocks[2]!.hash, token: new Uint8Array([0x30]) };
    const anchor = anchorTx(record, { validator: 2 });
    blocks.push(await runBlock(chain, batchOf([anchor], T + 4000)));
    blocks.push(await runBlock(chain, batchOf([tx(5)], T + 5000)));

    const cover1 = await queries.anchorCovering(1);
    expect(cover1).toEqual({
      record,
      tx: { env: anchor, height: 4, index: 0, blockTime: T + 4000 },
      header: blocks[2]!.header,
      headers: [blocks[1]!.header, blocks[2]!.header],
    });
    expect(await queries.anchorCovering(3)).toMatchObject({ header: blocks[2]!.header, headers: [] });
    // Block 4 (which holds only the anchor) and block 5 are not anchored yet; only block 5 records evidence.
    expect(await queries.anchorCovering(4)).toBeUndefined();
    expect(await queries.anchorStatus()).toEqual({
      anchoredHeight: 3,
      anchoredBlockTime: T + 3000,
      evidenceHeight: 5,
      headHeight: 5,
      headTime: T + 5000,
      oldestUnanchoredEvidenceTime: T + 5000,
    });
    // Once block 5 is anchored, the anchor's own block asks for no further anchor.
    const record5 = { height: 5, headerHash: blocks[4]!.hash, token: new Uint8Array([0x30]) };
    await runBlock(chain, batchOf([anchorTx(record5)], T + 6000));
    expect(queries.anchorState()).toEqual({ anchoredHeight: 5, evidenceHeight: 5 });
    expect(await queries.anchorStatus()).toMatchObject({
      headHeight: 6,
      oldestUnanchoredEvidenceTime: undefined,
    });
  });
});
