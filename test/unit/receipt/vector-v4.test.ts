/**
 * The committed v4 receipt test vector (test/vectors/receipt-v4, docs/receipts.md "Test vector"): a verifier in
 * another language can check its results against these. Its tokens are by a TSA certificate valid until
 * 2027-06-01; the archive timestamp was renewed once (by the same certificate, so the renewal does not
 * extend its life).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromBase64 } from '../../../src/core/bytes.ts';
import { parseGenesis } from '../../../src/core/genesis.ts';
import { verifyReceipt } from '../../../src/receipt/verify.ts';
import { decodeEvidenceRecord } from '../../../src/timestamp/ers-asn1.ts';
import { verifyEvidenceRecord } from '../../../src/timestamp/ers-verify.ts';
import { parsePemCertificates } from '../../../src/timestamp/x509.ts';

const dir = join(import.meta.dirname, '../../vectors/receipt-v4');
const read = (name: string) => readFileSync(join(dir, name));
const genesis = parseGenesis(JSON.parse(read('genesis.json').toString('utf8')));
const receipt = JSON.parse(read('receipt.json').toString('utf8'));
const document = new Uint8Array(read('document.txt'));

describe('the v4 receipt test vector', () => {
  it('verifies without a time, with its document, and its archive holds the archive timestamp and one renewal', async () => {
    const v = await verifyReceipt(receipt, { genesis, file: document });
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(v.checks.every((c) => c.status === 'pass')).toBe(true);
    expect(v.facts?.archive?.steps).toHaveLength(2);
    expect(v.facts?.archive?.renewBefore.toISOString()).toBe('2027-06-01T00:00:00.000Z');
    const record = decodeEvidenceRecord(fromBase64(receipt.archive.record));
    expect(record.chains.map((c) => c.length)).toEqual([2]);
  });

  it('verifies at 2027-05-31, and fails at 2027-06-02: at the archive check, or at the anchor without it', async () => {
    expect((await verifyReceipt(receipt, { genesis, at: new Date('2027-05-31T00:00:00Z') })).ok).toBe(true);
    const late = new Date('2027-06-02T00:00:00Z');
    const v = await verifyReceipt(receipt, { genesis, at: late });
    expect(v.checks.at(-1)).toMatchObject({ name: 'archive', code: 'RECEIPT_BAD_TIMESTAMP' });
    const { archive: _, ...v3 } = { ...receipt, format: 'jrchain-receipt/v3' };
    expect((await verifyReceipt(v3, { genesis })).ok).toBe(true);
    expect((await verifyReceipt(v3, { genesis, at: late })).checks.at(-1)).toMatchObject({
      name: 'anchor',
      code: 'RECEIPT_BAD_TIMESTAMP',
    });
  });

  it('its archive record is an RFC 4998 evidence record of the document on its own', () => {
    const v = verifyEvidenceRecord(fromBase64(receipt.archive.record), {
      document: { data: document },
      trustAnchors: parsePemCertificates(genesis.tsa.trustAnchors.join('\n'), 'roots'),
      at: new Date('2027-01-01T00:00:00Z'),
    });
    expect(v.ok, v.ok ? '' : v.reason).toBe(true);
  });
});
