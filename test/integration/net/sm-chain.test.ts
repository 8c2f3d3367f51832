/**
 * Real validators on an sm2-sm3 genesis (ADR 014): four ValidatorServices over libp2p on loopback, each with an
 * SM2 signing key and an Ed25519 peer key. Three commit SM2-signed evidence by PBFT (SM3 batch digests and
 * blocks, SM2 votes), a fourth started late syncs the chain from them, and a node's receipt verifies under the
 * SM genesis and not under an Ed25519 one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { verifyCommitCertificate } from '../../../src/core/block.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { encodeEvidence } from '../../../src/core/evidence.ts';
import { genesisHash, genesisValidatorSet } from '../../../src/core/genesis.ts';
import { envelope, signTx, type TxEnvelope } from '../../../src/core/tx.ts';
import { checkIntegrity } from '../../../src/ledger/integrity.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import { verifyReceipt } from '../../../src/receipt/verify.ts';
import { sampleEvidence, sampleUnsignedTx, TEST_INSTITUTIONS, testGenesis } from '../../helpers/fixtures.ts';
import { waitFor } from '../../helpers/p2p.ts';
import { testBytes } from '../../helpers/sm.ts';
import { smGenesis, smSigner, smValidatorKey } from '../../helpers/sm-chain.ts';
import { NET_TEST_CONSENSUS, NET_TEST_LIMITS, ValidatorCluster } from '../../helpers/validators.ts';

const genesis = smGenesis({ consensus: NET_TEST_CONSENSUS });
const cluster = new ValidatorCluster(NET_TEST_CONSENSUS, NET_TEST_LIMITS, { genesis, key: smValidatorKey });
afterAll(() => cluster.stopAll(), 60_000);

let nonce = 0;
/** Evidence txs valid now, each signed with its institution's SM2 client key. */
function smLiveTxs(count: number): TxEnvelope[] {
  return Array.from({ length: count }, () => {
    nonce++;
    const institution = TEST_INSTITUTIONS[nonce % TEST_INSTITUTIONS.length]!;
    const unsigned = sampleUnsignedTx({
      chainId: genesis.chainId,
      institution,
      nonce,
      createdAt: Date.now(),
      ttlMs: 3_600_000,
      payload: encodeEvidence(
        sampleEvidence({ hash: testBytes(`sm net ${nonce}`, 32), caseId: `CASE-SM-${nonce % 3}` }),
      ),
    });
    return envelope(signTx(unsigned, smSigner(`${institution}/client-1`)), SM2_SM3);
  });
}

async function committed(txs: TxEnvelope[], nodes = cluster.running): Promise<void> {
  await waitFor(
    async () =>
      (await Promise.all(nodes.flatMap((n) => txs.map((t) => n.store.tx(t.hash))))).every(
        (x) => x !== undefined,
      ),
    `${txs.length} SM txs committed on validators ${nodes.map((n) => n.index).join(', ')}`,
    60_000,
  );
}

describe('validators on an sm2-sm3 chain', () => {
  it('commit SM2-signed evidence by consensus, sync a late validator, and give receipts that verify', async () => {
    for (const i of [0, 1, 2]) await cluster.start(i);
    await cluster.waitConnected();

    // Submitted to a backup: relayed to the primary, proposed (compact PRE-PREPAREs named by SM3 hashes).
    const first = smLiveTxs(12);
    for (const [j, t] of first.entries()) {
      const r = await cluster.node(1 + (j % 2)).service.submit(t);
      expect(r.status, JSON.stringify(r)).not.toBe('rejected');
    }
    await committed(first);
    const head = await cluster.waitQuiet();
    expect(head).toBeGreaterThanOrEqual(3);

    const a = cluster.node(0);
    const set = genesisValidatorSet(genesis);
    const gHash = genesisHash(genesis);
    for (let h = 1; h <= head; h++) {
      const b = (await a.store.block(h))!;
      // Every block is certified by SM2 votes of the set and refused under Ed25519 verification.
      expect(() => verifyCommitCertificate(b.cert, b.header, set, gHash, SM2_SM3)).not.toThrow();
      expect(() => verifyCommitCertificate(b.cert, b.header, set, gHash)).toThrow();
    }
    expect(await checkIntegrity(a.store, SM2_SM3)).toEqual([]);
    expect(a.heights.length).toBeGreaterThan(0);

    // The fourth validator starts late on an empty store and syncs the SM chain from the others.
    const late = await cluster.start(3);
    await cluster.waitHeight(head, [late], 60_000);
    expect(late.synced.length).toBeGreaterThan(0);
    for (let h = 1; h <= head; h++) {
      expect(toHex((await late.store.block(h))!.hash)).toBe(toHex((await a.store.block(h))!.hash));
    }
    expect(await checkIntegrity(late.store, SM2_SM3)).toEqual([]);

    // All four carry on by consensus.
    const more = smLiveTxs(8);
    await Promise.all(more.map((t) => late.service.submit(t)));
    await committed(more);

    // A receipt from the late node verifies under the SM genesis, and fails under an Ed25519 one.
    const target = first[5]!;
    const receipt = await receiptFor(new LedgerQueries(late.store, genesis), genesis, target.hash);
    expect(receipt?.cryptoSuite).toBe('sm2-sm3');
    const json = JSON.parse(JSON.stringify(receipt));
    const ok = await verifyReceipt(json, { genesis });
    expect(ok.ok, JSON.stringify(ok.checks.filter((c) => c.status === 'fail'))).toBe(true);
    const ed = await verifyReceipt(json, { genesis: testGenesis({ consensus: NET_TEST_CONSENSUS }) });
    expect(ed.ok).toBe(false);
    expect(ed.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['genesis']);
  }, 180_000);
});
