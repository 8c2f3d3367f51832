/**
 * Valid inputs for the robustness tests and the fuzzer to mutate: a v4 evidence receipt from a real ledger
 * that exercises every check (governance registered the signing institution; the evidence carries its own
 * RFC 3161 token; an anchor covers the block through a later header and carries an archive timestamp of the
 * evidence), and the RFC 3161 token and response behind it. Built afresh each time with a throwaway PKI, so nothing is read from disk.
 */
import { headerHash } from '../../src/core/block.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/crypto.ts';
import type { Genesis } from '../../src/core/genesis.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { LedgerChain } from '../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../src/ledger/queries.ts';
import { archiveHistory, renewalLeaves } from '../../src/receipt/archives.ts';
import { receiptFor } from '../../src/receipt/ledger-receipt.ts';
import type { ReceiptJson } from '../../src/receipt/receipt.ts';
import { archiveRoot } from '../../src/timestamp/ers.ts';
import { createGenesisTokenVerifier } from '../../src/timestamp/genesis-verifier.ts';
import { batchOf, runBlock } from '../helpers/chain.ts';
import {
  anchorTx,
  evidenceTx,
  governanceTx,
  TEST_GENESIS_TIME,
  testGenesis,
  testSigner,
} from '../helpers/fixtures.ts';
import { makePki, type Pki, startTsa } from '../helpers/tsa.ts';

export interface Corpus {
  pki: Pki;
  genesis: Genesis;
  /** The file whose evidence the receipt proves. */
  document: Uint8Array;
  receipt: ReceiptJson;
  /** The evidence's own token (over sha256(document)), as a bare token and as the TSA's full response. */
  token: Uint8Array;
  response: Uint8Array;
}

const T = TEST_GENESIS_TIME;

async function stamp(pki: Pki, digest: Uint8Array, at: number) {
  const tsa = await startTsa(pki, at);
  try {
    return await tsa.stamp(digest, 'sha256');
  } finally {
    await tsa.stop();
  }
}

export async function buildCorpus(): Promise<Corpus> {
  const pki = await makePki();
  const document = utf8.encode('settlement agreement, 2026-05-29');
  const genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
  const verifier = createGenesisTokenVerifier(genesis.tsa);
  const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis, {
    tokenVerifier: verifier,
    anchorVerifier: verifier,
  });
  const bankE = testSigner('bank-e/client-1');
  const register = governanceTx({
    kind: 'propose',
    deadline: T + 600_000,
    action: {
      type: 'registerInstitution',
      id: 'bank-e',
      name: 'Bank E',
      clientKeys: [{ keyId: 'client-1', publicKey: bankE.publicKey }],
    },
  });
  const approve = (validator: number) =>
    governanceTx({ kind: 'approve', proposalId: register.hash }, { validator });
  await runBlock(chain, batchOf([register, approve(1), approve(2)], T + 1000));
  const hash = sha256(document);
  const own = await stamp(pki, hash, T + 1500);
  const target: TxEnvelope = evidenceTx({
    institution: 'bank-e',
    nonce: 1,
    evidence: { hash, tsToken: own.token },
  });
  await runBlock(chain, batchOf([target], T + 2000));
  const head = await runBlock(chain, batchOf([evidenceTx({ nonce: 2 })], T + 3000));
  const { token } = await stamp(pki, headerHash(head.header), T + 3500);
  // An archive timestamp over the evidence of blocks 1..3 too, so that the receipt (v4) carries its record.
  const queries = new LedgerQueries(chain.store, genesis);
  const root = archiveRoot(await queries.archiveLeaves(1, 3));
  const archive = { from: 1, root, token: (await stamp(pki, root, T + 3500)).token };
  const anchor = anchorTx(
    { height: 3, headerHash: headerHash(head.header), token, archive },
    { createdAt: T + 3500 },
  );
  await runBlock(chain, batchOf([anchor], T + 4000));
  // A timestamp renewal of that archive, anchored with block 4: the receipt carries it as a second timestamp.
  const head4 = chain.head();
  const history = archiveHistory(await queries.anchorsFrom(1));
  const renewalRoot = archiveRoot(renewalLeaves(history, 3));
  const renewal = anchorTx(
    {
      height: 4,
      headerHash: head4.hash,
      token: (await stamp(pki, head4.hash, T + 4500)).token,
      renewal: { upTo: 3, root: renewalRoot, token: (await stamp(pki, renewalRoot, T + 4500)).token },
    },
    { createdAt: T + 4500 },
  );
  await runBlock(chain, batchOf([renewal], T + 5000));
  const built = await receiptFor(queries, genesis, target.hash);
  const receipt = JSON.parse(JSON.stringify(built)) as ReceiptJson;
  return { pki, genesis, document, receipt, token: own.token, response: own.response };
}
