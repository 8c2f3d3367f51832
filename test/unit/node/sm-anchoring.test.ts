/**
 * Anchoring on an sm2-sm3 chain (ADR 014): the service stamps the SM3 header hash with imprint algorithm SM3 and
 * signs the anchor tx with the validator's SM2 key; the ledger admits it, and a receipt requiring the anchor
 * verifies under the SM genesis. The same token stamped as SHA-256 (the Ed25519 chains' imprint) is refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAnchor } from '../../../src/core/anchor.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import type { Genesis } from '../../../src/core/genesis.ts';
import { txHashFromBytes, verifyTxEnvelope } from '../../../src/core/tx.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { AnchoringService } from '../../../src/node/anchoring.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import { verifyReceipt } from '../../../src/receipt/receipt.ts';
import { createGenesisTokenVerifier } from '../../../src/timestamp/genesis-verifier.ts';
import { Oid } from '../../../src/timestamp/oids.ts';
import { parseToken } from '../../../src/timestamp/response.ts';
import { FakeConsensus } from '../../helpers/fake-consensus.ts';
import { TEST_GENESIS_TIME } from '../../helpers/fixtures.ts';
import { ManualTime } from '../../helpers/manual-time.ts';
import { smEvidenceTx, smGenesis, smValidatorKey } from '../../helpers/sm-chain.ts';
import { makePki, type Pki, startTsa } from '../../helpers/tsa.ts';
import { waitFor } from '../../helpers/wait.ts';

const T = TEST_GENESIS_TIME;
let pki: Pki;
let genesis: Genesis;

beforeAll(async () => {
  pki = await makePki();
  genesis = smGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
});

async function setup(hashName: 'sha256' | 'sm3') {
  const time = new ManualTime(T + 1000);
  const tsa = await startTsa(pki, T, { clock: () => time.now() });
  const verifier = createGenesisTokenVerifier(genesis.tsa);
  const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis, {
    tokenVerifier: verifier,
    anchorVerifier: verifier,
  });
  const queries = new LedgerQueries(chain.store, genesis);
  const consensus = new FakeConsensus(chain, () => time.now());
  const key = smValidatorKey(0);
  const service = new AnchoringService(
    {
      tsa,
      chainId: genesis.chainId,
      institution: 'bank-a',
      signer: key.signer,
      suite: { ...SM2_SM3, hashName },
      ledger: queries,
      onHead: consensus.onHead,
      isPrimary: () => true,
      submit: consensus.submit,
    },
    { intervalMs: 5000, clock: time, timers: time, random: () => 0.5 },
  );
  return { tsa, queries, consensus, service, key };
}

describe('AnchoringService on an sm2-sm3 chain', () => {
  it('stamps the SM3 header hash as SM3 with an SM2-signed anchor tx, and the receipt verifies', async () => {
    const { tsa, queries, consensus, service, key } = await setup('sm3');
    await service.start();
    const e1 = smEvidenceTx(1);
    await consensus.commit([e1]);
    await waitFor(() => consensus.anchorsWaiting().length === 1, 'the anchor');
    const anchorTx = consensus.anchorsWaiting()[0]!;
    expect(verifyTxEnvelope(anchorTx, key.publicKey, SM2_SM3)).toBe(true);
    // Hashed with SM3, as every node re-reading the block's bytes will hash it.
    expect(anchorTx.hashHex).toBe(toHex(txHashFromBytes(anchorTx.bytes, SM2_SM3)));
    const anchor = decodeAnchor(anchorTx.tx.payload);
    expect(parseToken(anchor.token).tstInfo?.imprint.hashAlgOid).toBe(Oid.sm3);
    await consensus.commit();
    expect(consensus.rejected).toEqual([]);
    expect(queries.anchorState().anchoredHeight).toBe(1);

    const receipt = await receiptFor(queries, genesis, e1.hash);
    const v = await verifyReceipt(receipt, { genesis, requireAnchor: true });
    expect(v.ok, JSON.stringify(v.checks.filter((c) => c.status === 'fail'))).toBe(true);
    await service.stop();
    await tsa.stop();
  });

  it('an anchor whose token stamps the SM3 header hash as SHA-256 is refused by the ledger', async () => {
    const { tsa, consensus, service } = await setup('sha256');
    await service.start();
    await consensus.commit([smEvidenceTx(1)]);
    const failure = async () => (await service.status()).lastError;
    await waitFor(async () => (await failure()) !== undefined, 'the refused anchor');
    expect((await failure())?.code).toBe(TxErrorCode.badAnchorToken);
    expect((await failure())?.message).toContain('TSA_IMPRINT');
    expect(consensus.anchorsWaiting()).toEqual([]);
    await service.stop();
    await tsa.stop();
  });
});
