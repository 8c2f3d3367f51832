/**
 * verifyReceipt never throws on bad input. A receipt from a real ledger that exercises every check (a v2
 * receipt: governance registered the signing institution; the evidence carries its own RFC 3161 token; an
 * anchor covers the block through a later header) is mutated with a seeded PRNG, and every mutant must give
 * a list of outcomes, none of them RECEIPT_UNEXPECTED. A failing case prints its seed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeHeader, encodeHeader, headerHash } from '../../../src/core/block.ts';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import type { Genesis } from '../../../src/core/genesis.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import {
  RECEIPT_CHECK_ORDER,
  ReceiptCheck,
  ReceiptFailureCode,
  type ReceiptJson,
  type ReceiptVerification,
  verifyReceipt,
} from '../../../src/receipt/receipt.ts';
import { createGenesisTokenVerifier } from '../../../src/timestamp/genesis-verifier.ts';
import { batchOf, runBlock } from '../../helpers/chain.ts';
import {
  anchorTx,
  evidenceTx,
  governanceTx,
  TEST_GENESIS_TIME,
  testGenesis,
  testSigner,
} from '../../helpers/fixtures.ts';
import { mutateJson } from '../../helpers/json-mutate.ts';
import { makePki, startTsa } from '../../helpers/tsa.ts';
import { Prng } from '../../sim/prng.ts';

const T = TEST_GENESIS_TIME;
const document = utf8.encode('settlement agreement, 2026-05-29');
let genesis: Genesis;
let receipt: ReceiptJson;

async function stamp(pki: Awaited<ReturnType<typeof makePki>>, digest: Uint8Array, at: number) {
  const tsa = await startTsa(pki, at);
  try {
    return (await tsa.stamp(digest, 'sha256')).token;
  } finally {
    await tsa.stop();
  }
}

beforeAll(async () => {
  const pki = await makePki();
  genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
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
  const target: TxEnvelope = evidenceTx({
    institution: 'bank-e',
    nonce: 1,
    evidence: { hash, tsToken: await stamp(pki, hash, T + 1500) },
  });
  await runBlock(chain, batchOf([target], T + 2000));
  const head = await runBlock(chain, batchOf([evidenceTx({ nonce: 2 })], T + 3000));
  const token = await stamp(pki, headerHash(head.header), T + 3500);
  const anchor = anchorTx({ height: 3, headerHash: headerHash(head.header), token }, { createdAt: T + 3500 });
  await runBlock(chain, batchOf([anchor], T + 4000));
  const built = await receiptFor(new LedgerQueries(chain.store, genesis), genesis, target.hash);
  receipt = JSON.parse(JSON.stringify(built));
});

const verify = (doc: unknown): ReceiptVerification => verifyReceipt(doc, { genesis, file: document });

describe('the receipt under test', () => {
  it('passes every check, none skipped', () => {
    const v = verify(receipt);
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(v.checks.map((c) => [c.name, c.status])).toEqual(RECEIPT_CHECK_ORDER.map((c) => [c, 'pass']));
    expect(receipt.anchor?.headers).toHaveLength(1);
  });
});

describe('verifyReceipt never throws', () => {
  it('a header time past the year 275760 fails the header check (it threw RangeError)', () => {
    const r = structuredClone(receipt);
    const header = { ...decodeHeader(Buffer.from(r.block.header, 'base64')), time: Number.MAX_SAFE_INTEGER };
    r.block.header = Buffer.from(encodeHeader(header)).toString('base64');
    r.block.hash = toHex(headerHash(header));
    const v = verify(r);
    expect(v.checks.at(-1)).toEqual({
      name: ReceiptCheck.header,
      status: 'fail',
      code: ReceiptFailureCode.malformed,
      detail: `header time ${Number.MAX_SAFE_INTEGER} is not a valid time`,
    });
  });

  it('a summary nested 100,000 deep fails the summary check without exhausting the stack', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const v = verify({ ...receipt, summary: { ...receipt.summary, committedBy: deep } });
    expect(v.checks.at(-1)).toMatchObject({
      name: ReceiptCheck.summary,
      code: ReceiptFailureCode.summaryMismatch,
    });
  });

  const runs = 1500;
  it(`${runs} seeded mutations of the receipt give outcomes, none unexpected`, () => {
    const failedAt = new Map<string, number>();
    for (let i = 0; i < runs; i++) {
      const seed = `receipt-mutation#${i}`;
      const rng = new Prng(seed);
      let doc: unknown = receipt;
      for (let k = rng.int(1, 2); k > 0; k--) doc = mutateJson(doc, rng);
      let v: ReceiptVerification;
      try {
        v = verify(doc);
      } catch (err) {
        throw new Error(`seed ${seed}: verifyReceipt threw ${(err as Error).stack}`);
      }
      const last = v.checks.at(-1)!;
      expect(last.code, `seed ${seed}: ${last.detail}`).not.toBe(ReceiptFailureCode.unexpected);
      if (last.status === 'fail') failedAt.set(last.name, (failedAt.get(last.name) ?? 0) + 1);
    }
    // The mutations reach every check that an edit of the document can fail. Not `file` (the caller's input),
    // nor `evidence` and `evidenceToken`: those judge bytes inside the signed tx, so any edit of them fails
    // the tx hash or the signature first.
    const unreachable: string[] = [ReceiptCheck.file, ReceiptCheck.evidence, ReceiptCheck.evidenceToken];
    const reachable = RECEIPT_CHECK_ORDER.filter((c) => !unreachable.includes(c));
    expect([...failedAt.keys()].sort(), JSON.stringify([...failedAt])).toEqual([...reachable].sort());
  });
});
