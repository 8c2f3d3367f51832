/**
 * The verification page's report, computed in Node by the same module the page bundles (src/api/verifier/
 * report.ts): a good receipt, each tampered field failing at its named check, inputs it cannot use, a case
 * receipt, and the fingerprint (docs/receipts.md#fingerprint). test/browser/verify-page.test.ts runs the page.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildReport,
  claimedHashAlg,
  InputProblem,
  readGenesis,
  readReceipts,
} from '../../../src/api/verifier/report.ts';
import { canonicalJson, receiptFingerprint } from '../../../src/receipt/fingerprint.ts';
import { type PageFixtures, pageFixtures } from '../../helpers/page-receipts.ts';
import { tamperings } from '../../helpers/page-tamper.ts';

let f: PageFixtures;
beforeAll(async () => {
  f = await pageFixtures();
}, 60_000);

const sha256 = (b: Uint8Array) => ({
  hashAlg: 'sha256' as const,
  hash: new Uint8Array(createHash('sha256').update(b).digest()),
});

describe('the page report', () => {
  it('a good receipt with its document: every check passes, the TSA chain and fingerprint are shown', async () => {
    const r = await buildReport(f.receipt, readGenesis(f.genesisJson), sha256(f.document));
    expect(r.ok, JSON.stringify(r.checks)).toBe(true);
    expect(r.checks.every((c) => c.status === 'pass')).toBe(true);
    expect(r.documentChecked).toBe(true);
    expect(r.fingerprint).toBe(receiptFingerprint(f.receipt));
    expect(r.tokens.map((t) => t.which)).toEqual(['anchor', 'evidence']);
    expect(r.tokens[0]!.chain.length).toBeGreaterThanOrEqual(2);
  });

  it('without a document it still verifies the receipt, and says no document was compared', async () => {
    const r = await buildReport(f.receipt, readGenesis(f.genesisJson));
    expect(r.ok).toBe(true);
    expect(r.documentChecked).toBe(false);
    expect(r.checks.find((c) => c.name === 'file')?.status).toBe('skip');
  });

  it('each tampered field fails at the check that covers it', async () => {
    const failedAt: Record<string, string | undefined> = {};
    const want: Record<string, string> = {};
    for (const t of tamperings(f.receipt, f.genesisJson)) {
      const r = await buildReport(
        JSON.parse(t.receipt),
        readGenesis(t.genesis),
        sha256(t.document ?? f.document),
      );
      failedAt[t.name] = r.ok ? 'passed' : r.checks.find((c) => c.status === 'fail')?.name;
      want[t.name] = t.check;
    }
    expect(failedAt).toEqual(want);
  });

  it('a case receipt verifies against its genesis', async () => {
    const [doc] = readReceipts(f.caseReceiptJson);
    const r = await buildReport(doc, readGenesis(f.caseGenesisJson));
    expect(r.kind).toBe('case');
    expect(r.ok, JSON.stringify(r.checks)).toBe(true);
    expect(r.checks.map((c) => c.name)).toEqual(['format', 'genesis', 'events', 'timeline', 'summary']);
  });

  it('names the input it cannot use', () => {
    const problem = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err instanceof InputProblem ? `${err.field}/${err.key}` : String(err);
      }
      return 'none';
    };
    expect(problem(() => readGenesis('{'))).toBe('genesis/notJson');
    expect(problem(() => readGenesis('{"chainId": 1}'))).toBe('genesis/badGenesis');
    expect(problem(() => readReceipts('not json'))).toBe('receipt/notJson');
    expect(problem(() => readReceipts('{"receipts": []}'))).toBe('receipt/noReceipts');
    // The node's own answers are taken as they come.
    expect(readReceipts(JSON.stringify({ receipts: [f.receipt, f.receipt] }))).toHaveLength(2);
    expect(
      readGenesis(JSON.stringify({ genesisHash: 'x', genesis: JSON.parse(f.genesisJson) })).chainId,
    ).toBe(JSON.parse(f.genesisJson).chainId);
    expect(claimedHashAlg({ summary: { evidence: { hashAlg: 'sha512' } } })).toBe('sha512');
    expect(claimedHashAlg(null)).toBe('sha256');
  });
});

describe('the receipt fingerprint', () => {
  it('is SHA-256 of the RFC 8785 canonical JSON: whitespace and member order do not change it', () => {
    expect(canonicalJson({ b: [1, 'x', null, true], a: { d: '\u00e9"', c: 0 } })).toBe(
      '{"a":{"c":0,"d":"é\\""},"b":[1,"x",null,true]}',
    );
    const reordered = Object.fromEntries(Object.entries(f.receipt).reverse());
    const pretty = JSON.parse(JSON.stringify(f.receipt, null, 4));
    expect(receiptFingerprint(pretty)).toBe(receiptFingerprint(f.receipt));
    expect(receiptFingerprint({ ...f.receipt })).toBe(receiptFingerprint(f.receipt));
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(f.receipt));
    expect(receiptFingerprint(reordered)).toBe(receiptFingerprint(f.receipt));
    expect(receiptFingerprint(f.receipt)).toBe(
      createHash('sha256').update(canonicalJson(f.receipt)).digest('hex'),
    );
    expect(receiptFingerprint({ ...f.receipt, txHash: '00' })).not.toBe(receiptFingerprint(f.receipt));
  });
});
