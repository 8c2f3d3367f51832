/**
 * One canonical JSON form of a receipt (docs/receipts.md "Canonical form"): unknown fields are refused at
 * every level, absent is not empty, base64 and hex have one spelling each; and the `court` profile requires
 * the RFC 3161 anchor that the standard profile only checks when present.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Genesis } from '../../../src/core/genesis.ts';
import {
  ReceiptCheck,
  ReceiptFailureCode,
  type ReceiptJson,
  type ReceiptVerification,
  verifyReceipt,
} from '../../../src/receipt/receipt.ts';
import { buildCorpus } from '../../fuzz/corpus.ts';

let genesis: Genesis;
let receipt: ReceiptJson;

beforeAll(async () => {
  ({ genesis, receipt } = await buildCorpus());
});

const verify = (doc: unknown, profile: 'standard' | 'court' = 'standard'): Promise<ReceiptVerification> =>
  verifyReceipt(doc, { genesis, profile });
const last = (v: ReceiptVerification) => v.checks.at(-1)!;
const edited = (edit: (r: Record<string, any>) => void): unknown => {
  const r = structuredClone(receipt) as Record<string, any>;
  edit(r);
  return r;
};

describe('the canonical form', () => {
  it('the receipt as built verifies, under both profiles', async () => {
    expect((await verify(receipt)).ok).toBe(true);
    expect((await verify(receipt, 'court')).ok).toBe(true);
  });

  it.each<[string, (r: Record<string, any>) => void, ReceiptCheck, RegExp]>([
    ['an unknown top-level field', (r) => (r.note = 'x'), ReceiptCheck.format, /unknown field note/],
    [
      'an unknown field in block',
      (r) => (r.block.extra = 1),
      ReceiptCheck.header,
      /block has an unknown field/,
    ],
    ['an unknown field in inclusion', (r) => (r.inclusion.x = 1), ReceiptCheck.inclusion, /unknown field x/],
    ['an unknown field in anchor', (r) => (r.anchor.x = 1), ReceiptCheck.anchor, /anchor has an unknown/],
    [
      'an unknown field in a governance block',
      (r) => (r.governance[0].x = 1),
      ReceiptCheck.governance,
      /governance\[0\] has an unknown field/,
    ],
    ['an absent inclusion path', (r) => delete r.inclusion.path, ReceiptCheck.inclusion, /missing path/],
    ['absent anchor headers', (r) => delete r.anchor.headers, ReceiptCheck.anchor, /missing headers/],
    [
      'upper-case hex',
      (r) => (r.governance[0].txs[0].path[0] = r.governance[0].txs[0].path[0].toUpperCase()),
      ReceiptCheck.governance,
      /path\[0\] is not lower-case hex/,
    ],
  ])('%s is refused as malformed', async (_what, edit, check, detail) => {
    const v = await verify(edited(edit));
    expect(last(v)).toMatchObject({ name: check, status: 'fail', code: ReceiptFailureCode.malformed });
    expect(last(v).detail).toMatch(detail);
  });

  it('base64 with non-zero pad bits (a second spelling of the same bytes) is refused', async () => {
    // A governance tx has a fixed size whose base64 ends in padding (the anchor token's length varies by run).
    const tx: string = (receipt as unknown as Record<string, any>).governance[0].txs[1].tx;
    expect(tx.endsWith('=')).toBe(true);
    // The last character before the padding carries unused low bits; setting one keeps the decoded bytes.
    const i = tx.indexOf('=') - 1;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const other = `${tx.slice(0, i)}${alphabet[alphabet.indexOf(tx[i]!) + 1]}${tx.slice(i + 1)}`;
    expect(Buffer.from(other, 'base64')).toEqual(Buffer.from(tx, 'base64'));
    const v = await verify(edited((r) => (r.governance[0].txs[1].tx = other)));
    expect(last(v).code).toBe(ReceiptFailureCode.malformed);
    expect(last(v).detail).toMatch(/not canonical base64/);
  });

  it('the genesis check states what binds the receipt to the genesis', async () => {
    expect((await verify(receipt)).checks.find((c) => c.name === ReceiptCheck.genesis)?.detail).toMatch(
      /\(the validators sign the genesis hash\)/,
    );
  });
});

describe('the court profile', () => {
  it('"anchor": null passes (skipped) under the standard profile and fails under court', async () => {
    const bare = edited((r) => {
      r.anchor = null;
      delete r.summary.anchoredAt;
    });
    const standard = await verify(bare);
    expect(standard.ok).toBe(true);
    expect(standard.checks.find((c) => c.name === ReceiptCheck.anchor)?.status).toBe('skip');
    expect(last(await verify(bare, 'court'))).toMatchObject({
      name: ReceiptCheck.anchor,
      status: 'fail',
      code: ReceiptFailureCode.anchorMissing,
    });
  });

  it('an absent anchor field is malformed, never taken for "no anchor"', async () => {
    const v = await verify(edited((r) => delete r.anchor));
    expect(last(v)).toMatchObject({ name: ReceiptCheck.format, code: ReceiptFailureCode.malformed });
  });
});
