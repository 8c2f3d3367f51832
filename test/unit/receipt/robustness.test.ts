/**
 * verifyReceipt never throws on bad input. A receipt from a real ledger that exercises every check (a v4
 * receipt: governance registered the signing institution; the evidence carries its own RFC 3161 token; an
 * anchor covers the block through a later header) is mutated with a seeded PRNG, and every mutant must give
 * a list of outcomes, none of them RECEIPT_UNEXPECTED. A failing case prints its seed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeHeader, encodeHeader, headerHash } from '../../../src/core/block.ts';
import { toHex } from '../../../src/core/bytes.ts';
import type { Genesis } from '../../../src/core/genesis.ts';
import {
  RECEIPT_CHECK_ORDER,
  ReceiptCheck,
  ReceiptFailureCode,
  type ReceiptJson,
  type ReceiptVerification,
  verifyReceipt,
} from '../../../src/receipt/receipt.ts';
import { buildCorpus } from '../../fuzz/corpus.ts';
import { mutateJson } from '../../helpers/json-mutate.ts';
import { Prng } from '../../sim/prng.ts';

let genesis: Genesis;
let document: Uint8Array;
let receipt: ReceiptJson;

beforeAll(async () => {
  ({ genesis, document, receipt } = await buildCorpus());
});

const verify = (doc: unknown): Promise<ReceiptVerification> =>
  verifyReceipt(doc, { genesis, file: document });

describe('the receipt under test', () => {
  it('passes every check, none skipped', async () => {
    const v = await verify(receipt);
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(v.checks.map((c) => [c.name, c.status])).toEqual(RECEIPT_CHECK_ORDER.map((c) => [c, 'pass']));
    expect(receipt.anchor?.headers).toHaveLength(1);
    // The archive timestamp and one renewal of it.
    expect(v.facts?.archive?.steps).toHaveLength(2);
  });
});

describe('verifyReceipt never throws', () => {
  it('a header time past the year 275760 fails the header check (it threw RangeError)', async () => {
    const r = structuredClone(receipt);
    const header = { ...decodeHeader(Buffer.from(r.block.header, 'base64')), time: Number.MAX_SAFE_INTEGER };
    r.block.header = Buffer.from(encodeHeader(header)).toString('base64');
    r.block.hash = toHex(headerHash(header));
    const v = await verify(r);
    expect(v.checks.at(-1)).toEqual({
      name: ReceiptCheck.header,
      status: 'fail',
      code: ReceiptFailureCode.malformed,
      detail: `header time ${Number.MAX_SAFE_INTEGER} is not a valid time`,
    });
  });

  it('an invalid verification time is the caller’s mistake: a RangeError, whatever the receipt', async () => {
    await expect(verifyReceipt(receipt, { genesis, at: new Date(Number.NaN) })).rejects.toThrow(RangeError);
  });

  it('a summary nested 100,000 deep fails the summary check without exhausting the stack', async () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const v = await verify({ ...receipt, summary: { ...receipt.summary, committedBy: deep } });
    expect(v.checks.at(-1)).toMatchObject({
      name: ReceiptCheck.summary,
      code: ReceiptFailureCode.summaryMismatch,
    });
  });

  const runs = 1500;
  it(`${runs} seeded mutations of the receipt give outcomes, none unexpected`, async () => {
    const failedAt = new Map<string, number>();
    for (let i = 0; i < runs; i++) {
      const seed = `receipt-mutation#${i}`;
      const rng = new Prng(seed);
      let doc: unknown = receipt;
      for (let k = rng.int(1, 2); k > 0; k--) doc = mutateJson(doc, rng);
      let v: ReceiptVerification;
      try {
        v = await verify(doc);
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
