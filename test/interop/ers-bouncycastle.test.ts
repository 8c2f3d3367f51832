/**
 * Our evidence records validate with BouncyCastle's independent RFC 4998 implementation: the reduced hash
 * tree, the timestamp renewal chain, and the time at which a renewed record is checked. Skips only outside CI
 * when Java or libbcpkix-java is absent; in CI (.ci/run installs them) their absence fails.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceRecordFor } from '../../src/receipt/ers-export.ts';
import { issueCrl } from '../../src/timestamp/certs.ts';
import { type Archive, evidenceRecord } from '../../src/timestamp/ers.ts';
import { decodeEvidenceRecord, encodeEvidenceRecord } from '../../src/timestamp/ers-asn1.ts';
import { bcCheckErs, bouncyCastleMissing } from '../helpers/bouncycastle.ts';
import { batchOf, outcomes, runBlock } from '../helpers/chain.ts';
import {
  type ArchiveFixture,
  archiveAnchor,
  archiveChain,
  archiveFixture,
  docs,
  documents,
  FIRST_EXPIRY,
  hashTreeRenewed,
  sha256Of,
  unrenewed,
} from '../helpers/ers.ts';
import { TEST_GENESIS_TIME, testGenesis } from '../helpers/fixtures.ts';
import { ledgerRenewed, renewedDocs, stampsRenewed } from '../helpers/ledger-renewal.ts';
import { DAY, makePki, T0, tempDir } from '../helpers/tsa.ts';

const missing = bouncyCastleMissing();
if (missing !== undefined && process.env.CI === 'true') {
  throw new Error(`BouncyCastle ERS interop cannot run in CI: ${missing}`);
}
if (missing !== undefined) console.warn(`skipping the BouncyCastle ERS interop tests: ${missing}`);

describe.skipIf(missing !== undefined)(
  'evidence records validate with BouncyCastle (org.bouncycastle.tsp.ers)',
  () => {
    let tmp: { path: string; cleanup: () => Promise<void> };
    let fx: ArchiveFixture;
    const file = (name: string) => join(tmp.path, name);

    beforeAll(async () => {
      tmp = await tempDir('jrchain-ers-bc-');
      fx = await archiveFixture();
      await writeFile(file('root.pem'), fx.pki.rootPem);
      for (const [i, doc] of docs.entries()) await writeFile(file(`doc${i}`), doc);
      await writeFile(file('stranger'), 'a document no archive covers\n');
    });
    afterAll(() => tmp?.cleanup());

    async function write(name: string, archive: Archive, doc: number): Promise<string> {
      await writeFile(file(name), evidenceRecord(sha256Of(docs[doc]!), archive, [fx.pki.root.der]));
      return file(name);
    }

    it('a record from the archive tree proves its document; BouncyCastle refuses a document not archived', async () => {
      const rec = await write('first.ers', unrenewed(fx), 1);
      const ok = await bcCheckErs(tmp.path, rec, file('doc1'), file('root.pem'), new Date(T0 + DAY));
      expect(ok.out).toBe(`OK ${new Date(T0).toISOString().replace('.000', '')}`);
      const other = await bcCheckErs(tmp.path, rec, file('stranger'), file('root.pem'), new Date(T0 + DAY));
      expect(other.ok, other.out).toBe(false);
    }, 240_000);

    it('records exported from a ledger, one per document, validate; a document not archived fails', async () => {
      const pki = await makePki();
      const genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
      const { chain, queries, records } = await archiveChain(genesis);
      const anchor = await archiveAnchor(pki, queries, chain.head(), TEST_GENESIS_TIME + 2500);
      expect(outcomes(await runBlock(chain, batchOf([anchor], TEST_GENESIS_TIME + 3000)), [anchor])).toEqual([
        'ok',
      ]);
      await writeFile(file('ledger-root.pem'), pki.rootPem);
      const at = new Date(TEST_GENESIS_TIME + 5000);
      // The records carry the root's CRL as revocation data (cryptoInfos): BouncyCastle still validates them.
      const crl = issueCrl({
        issuer: pki.root,
        signingKey: pki.rootKey,
        thisUpdate: new Date(TEST_GENESIS_TIME),
        nextUpdate: new Date(TEST_GENESIS_TIME + 30 * DAY),
        number: 1n,
      });
      for (const [i, doc] of documents.entries()) {
        const r = (await evidenceRecordFor(queries, genesis, records[i]!.hash, { crls: [crl] }))!;
        expect(decodeEvidenceRecord(r.ers).revocationValues).toBeDefined();
        await writeFile(file(`ledger${i}.ers`), r.ers);
        await writeFile(file(`ledger-doc${i}`), doc);
        const run = await bcCheckErs(
          tmp.path,
          file(`ledger${i}.ers`),
          file(`ledger-doc${i}`),
          file('ledger-root.pem'),
          at,
        );
        expect(run.ok, run.out).toBe(true);
      }
      const stranger = await bcCheckErs(
        tmp.path,
        file('ledger0.ers'),
        file('stranger'),
        file('ledger-root.pem'),
        at,
      );
      expect(stranger.ok, stranger.out).toBe(false);
    }, 240_000);

    it('after the first TSA certificate expired, only the renewed record validates', async () => {
      const at = new Date(FIRST_EXPIRY + 100 * DAY);
      const plain = await write('plain.ers', unrenewed(fx), 4);
      const old = await bcCheckErs(tmp.path, plain, file('doc4'), file('root.pem'), at);
      expect(old.ok, old.out).toBe(false);
      expect(old.out).toMatch(/not valid at/);
      const renewed = await write('renewed.ers', fx, 4);
      const now = await bcCheckErs(tmp.path, renewed, file('doc4'), file('root.pem'), at);
      expect(now.ok, now.out).toBe(true);
    }, 240_000);

    it('a hash-tree renewal (a SHA-512 chain) validates for its document only', async () => {
      await writeFile(file('hash-renewed.ers'), await hashTreeRenewed(fx, docs[1]!, T0 + 310 * DAY));
      const at = new Date(FIRST_EXPIRY + 200 * DAY);
      const ok = await bcCheckErs(tmp.path, file('hash-renewed.ers'), file('doc1'), file('root.pem'), at);
      expect(ok.ok, ok.out).toBe(true);
      const other = await bcCheckErs(tmp.path, file('hash-renewed.ers'), file('doc2'), file('root.pem'), at);
      expect(other.ok, other.out).toBe(false);
    }, 240_000);

    it('a record renewed on the ledger (the stamping job, ADR 018) validates past the first certificate', async () => {
      const expiry = TEST_GENESIS_TIME + 100 * DAY;
      const pki = await makePki({ tsaValidity: [TEST_GENESIS_TIME - DAY, expiry] });
      const genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
      const ledger = await ledgerRenewed(pki, genesis);
      try {
        await writeFile(file('renewed-root.pem'), pki.rootPem);
        const ers = (await evidenceRecordFor(ledger.queries, genesis, ledger.e0.hash))!.ers;
        expect(decodeEvidenceRecord(ers).chains.map((c) => c[0]!.digestAlg)).toEqual(['sha256', 'sha512']);
        await writeFile(file('ledger-renewed.ers'), ers);
        await writeFile(file('renewed-doc0'), renewedDocs[0]!);
        await writeFile(file('renewed-doc1'), renewedDocs[1]!);
        const check = (doc: string, at: number) =>
          bcCheckErs(tmp.path, file('ledger-renewed.ers'), file(doc), file('renewed-root.pem'), new Date(at));
        const late = await check('renewed-doc0', expiry + 100 * DAY);
        expect(late.ok, late.out).toBe(true);
        expect(late.out).toBe(`OK ${new Date(TEST_GENESIS_TIME + 6000).toISOString().replace('.000', '')}`);
        const early = await check('renewed-doc0', TEST_GENESIS_TIME + 80 * DAY);
        expect(early.ok, early.out).toBe(true);
        const other = await check('renewed-doc1', expiry + 100 * DAY);
        expect(other.ok, other.out).toBe(false);
        // Document 2 shares the stamp with document 0: its reduced SHA-512 tree has a sibling.
        await writeFile(file('renewed-doc2'), renewedDocs[2]!);
        const ers2 = (await evidenceRecordFor(ledger.queries, genesis, ledger.e2.hash))!.ers;
        await writeFile(file('ledger-renewed2.ers'), ers2);
        const shared = await bcCheckErs(
          tmp.path,
          file('ledger-renewed2.ers'),
          file('renewed-doc2'),
          file('renewed-root.pem'),
          new Date(expiry + 100 * DAY),
        );
        expect(shared.ok, shared.out).toBe(true);
        // The frozen first chain alone (the record before the stamp) does not outlive the first certificate.
        await writeFile(file('ledger-unrenewed.ers'), ledger.beforeStamp);
        const old = await bcCheckErs(
          tmp.path,
          file('ledger-unrenewed.ers'),
          file('renewed-doc0'),
          file('renewed-root.pem'),
          new Date(expiry + 100 * DAY),
        );
        expect(old.ok, old.out).toBe(false);
      } finally {
        await ledger.stop();
      }
    }, 240_000);

    it('a ledger-renewed record whose new chain was renewed in turn validates past the stamp’s certificate', async () => {
      const pki = await makePki({ tsaValidity: [TEST_GENESIS_TIME - DAY, TEST_GENESIS_TIME + 100 * DAY] });
      const genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
      const ledger = await ledgerRenewed(pki, genesis);
      const renewed = await stampsRenewed(ledger, pki);
      try {
        expect(renewed.second?.stampRenewals).toHaveLength(1);
        await writeFile(file('stamp-renewed-root.pem'), pki.rootPem);
        await writeFile(file('stamp-renewed-doc1'), renewedDocs[1]!);
        const ers = (await evidenceRecordFor(ledger.queries, genesis, ledger.e1.hash))!.ers;
        expect(decodeEvidenceRecord(ers).chains.map((c) => c.length)).toEqual([1, 2]);
        await writeFile(file('stamp-renewed.ers'), ers);
        // Past the second TSA certificate (day 3070), within the third's (day 3071).
        const run = await bcCheckErs(
          tmp.path,
          file('stamp-renewed.ers'),
          file('stamp-renewed-doc1'),
          file('stamp-renewed-root.pem'),
          new Date(TEST_GENESIS_TIME + 3070.5 * DAY),
        );
        expect(run.ok, run.out).toBe(true);
        // Without its renewal, the new chain does not reach that date.
        const cut = decodeEvidenceRecord(ers);
        cut.chains[1]!.pop();
        await writeFile(file('stamp-unrenewed.ers'), encodeEvidenceRecord(cut));
        const old = await bcCheckErs(
          tmp.path,
          file('stamp-unrenewed.ers'),
          file('stamp-renewed-doc1'),
          file('stamp-renewed-root.pem'),
          new Date(TEST_GENESIS_TIME + 3070.5 * DAY),
        );
        expect(old.ok, old.out).toBe(false);
      } finally {
        await renewed.stop();
        await ledger.stop();
      }
    }, 240_000);
  },
);
