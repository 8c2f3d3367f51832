/**
 * The ledger executes an sm2-sm3 chain (ADR 014): SM2-signed txs are admitted and included, blocks are hashed
 * with SM3 and certified by SM2 validator signatures, and the store's integrity check and queries use the
 * chain's suite. Ed25519 txs and Ed25519-hashed certificates are refused on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CertError, headerHash } from '../../../src/core/block.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { genesisHash, genesisValidatorSet } from '../../../src/core/genesis.ts';
import { merkleRoot, verifyInclusion } from '../../../src/core/merkle.ts';
import { validatorSetHash } from '../../../src/core/validators.ts';
import { checkIntegrity } from '../../../src/ledger/integrity.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import { verifyReceipt } from '../../../src/receipt/verify.ts';
import { batchOf, outcomes } from '../../helpers/chain.ts';
import { certify, evidenceTx, TEST_GENESIS_TIME } from '../../helpers/fixtures.ts';
import { smCertify, smEvidenceTx, smGenesis } from '../../helpers/sm-chain.ts';

const T = TEST_GENESIS_TIME;
const dir = mkdtempSync(join(tmpdir(), 'jrchain-sm-ledger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a ledger on an sm2-sm3 chain', () => {
  const g = smGenesis();

  it('includes SM2-signed txs, hashes blocks with SM3, commits SM2-certified blocks, and reads them back', async () => {
    const store = await LevelLedgerStore.open(join(dir, 'a'), SM2_SM3);
    const chain = await LedgerChain.open(store, g);
    expect(toHex(chain.head().hash)).toBe(toHex(genesisHash(g)));
    const txs = [smEvidenceTx(1), smEvidenceTx(1, 'bank-b'), evidenceTx({ nonce: 2, institution: 'bank-a' })];
    const b1 = await chain.buildBlock(batchOf(txs, T + 2000));
    // The Ed25519-signed tx does not verify under bank-a's SM2 key.
    expect(outcomes(b1, txs)).toEqual(['ok', 'ok', 'TX_BAD_SIGNATURE']);
    expect(toHex(b1.header.txRoot)).toBe(
      toHex(
        merkleRoot(
          b1.txs.map((t) => t.hash),
          SM2_SM3,
        ),
      ),
    );
    expect(toHex(b1.header.validatorSetHash)).toBe(toHex(validatorSetHash(genesisValidatorSet(g), SM2_SM3)));
    expect(toHex(b1.hash)).toBe(toHex(headerHash(b1.header, SM2_SM3)));
    // A certificate over the SHA-256 header hash with Ed25519 validator keys is not this chain's.
    await expect(chain.commitBlock(b1, certify(b1.header))).rejects.toThrow();
    await chain.commitBlock(b1, smCertify(g, b1.header));
    expect(chain.head().height).toBe(1);

    const queries = new LedgerQueries(store, g);
    const found = await queries.inclusionProof(b1.txs[1]!.hash);
    expect(found).toBeDefined();
    expect(verifyInclusion(b1.txs[1]!.hash, found!.proof, b1.header.txRoot, SM2_SM3)).toBe(true);
    // The node's receipt of a committed SM tx verifies against the SM genesis.
    const receipt = await receiptFor(queries, g, b1.txs[1]!.hash);
    expect(receipt?.cryptoSuite).toBe('sm2-sm3');
    const v = await verifyReceipt(JSON.parse(JSON.stringify(receipt)), { genesis: g });
    expect(v.ok, JSON.stringify(v.checks.filter((c) => c.status === 'fail'))).toBe(true);
    expect(await checkIntegrity(store, SM2_SM3)).toEqual([]);
    expect((await checkIntegrity(store)).length).toBeGreaterThan(0);
    await store.close();

    // Reopened, the store re-reads the txs with SM3 hashes and the chain carries on.
    const again = await LevelLedgerStore.open(join(dir, 'a'), SM2_SM3);
    const reopened = await LedgerChain.open(again, g);
    expect(toHex((await again.blockTxs(1))![0]!.hash)).toBe(b1.txs[0]!.hashHex);
    const next = [smEvidenceTx(3)];
    const b2 = await reopened.buildBlock(batchOf(next, T + 3000));
    expect(outcomes(b2, next)).toEqual(['ok']);
    await reopened.commitBlock(b2, smCertify(g, b2.header));
    expect(reopened.head().height).toBe(2);
    await again.close();
  });

  it('refuses a certificate signed by too few SM2 validators', async () => {
    const store = await LevelLedgerStore.open(join(dir, 'b'), SM2_SM3);
    const chain = await LedgerChain.open(store, g);
    const b1 = await chain.buildBlock(batchOf([smEvidenceTx(1)], T + 2000));
    await expect(chain.commitBlock(b1, smCertify(g, b1.header, [0, 1]))).rejects.toThrow(CertError);
    await store.close();
  });
});
