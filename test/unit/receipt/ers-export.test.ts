/**
 * Evidence records exported from a real ledger: the executor checks the archive timestamp an anchor carries,
 * and the record leads from the document's hash to that token's imprint, for our verifier (and, in
 * test/interop/ers-bouncycastle.test.ts, for BouncyCastle's).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import type { Genesis } from '../../../src/core/genesis.ts';
import { ReceiptErrorCode } from '../../../src/receipt/errors.ts';
import { evidenceRecordFor } from '../../../src/receipt/ers-export.ts';
import { issueCrl } from '../../../src/timestamp/certs.ts';
import { crlsOfRevocationValues } from '../../../src/timestamp/crl.ts';
import { decodeEvidenceRecord } from '../../../src/timestamp/ers-asn1.ts';
import { verifyEvidenceRecord } from '../../../src/timestamp/ers-verify.ts';
import { batchOf, outcomes, runBlock } from '../../helpers/chain.ts';
import { archiveAnchor, archiveChain, documents } from '../../helpers/ers.ts';
import { anchorTx, TEST_GENESIS_TIME, testGenesis } from '../../helpers/fixtures.ts';
import { makePki, type Pki, startTsa } from '../../helpers/tsa.ts';

const T = TEST_GENESIS_TIME;
let pki: Pki;
let genesis: Genesis;

beforeAll(async () => {
  pki = await makePki();
  genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
});

describe('archive leaves', () => {
  it('are the SHA-256 evidence hashes of the blocks in chain order, anchors left out', async () => {
    const { chain, queries } = await archiveChain(genesis);
    const hashes = documents.map((d) => sha256(d));
    expect(await queries.archiveLeaves(1, 2)).toEqual(hashes);
    expect(await queries.archiveLeaves(2, 2)).toEqual(hashes.slice(2));
    const anchor = await archiveAnchor(pki, queries, chain.head(), T + 2500);
    await runBlock(chain, batchOf([anchor], T + 3000));
    expect(await queries.archiveLeaves(1, 3)).toEqual(hashes);
    await expect(queries.archiveLeaves(1, 4)).rejects.toThrow(/block 4 at or below 4 is missing/);
  });
});

describe('evidenceRecordFor', () => {
  it('exports, once anchored with an archive timestamp, a record each document proves itself with', async () => {
    const { chain, queries, records } = await archiveChain(genesis);
    await expect(evidenceRecordFor(queries, genesis, records[0]!.hash)).rejects.toMatchObject({
      code: ReceiptErrorCode.notArchived,
    });
    const anchor = await archiveAnchor(pki, queries, chain.head(), T + 2500);
    expect(outcomes(await runBlock(chain, batchOf([anchor], T + 3000)), [anchor])).toEqual(['ok']);
    for (const [i, doc] of documents.entries()) {
      const r = (await evidenceRecordFor(queries, genesis, records[i]!.hash))!;
      expect(r.height).toBe(i < 2 ? 1 : 2);
      // The genesis root, then the TSA certificate the archive token embeds.
      expect(decodeEvidenceRecord(r.ers).certificates).toEqual([pki.root.der, pki.tsa.der]);
      expect(decodeEvidenceRecord(r.ers).revocationValues).toBeUndefined();
      const v = verifyEvidenceRecord(r.ers, {
        document: { data: doc },
        trustAnchors: [pki.root],
        at: new Date(T + 5000),
      });
      expect(v.ok, v.ok ? '' : v.reason).toBe(true);
      if (v.ok) expect(v.provenAt).toEqual(new Date(T + 2500));
      expect(
        verifyEvidenceRecord(r.ers, {
          document: { data: utf8.encode(`not ${i}`) },
          trustAnchors: [pki.root],
          at: new Date(T + 5000),
        }).ok,
      ).toBe(false);
    }
    // With the TSA root's CRL configured, the record carries it as revocation data, beside the certificates.
    const crl = issueCrl({
      issuer: pki.root,
      signingKey: pki.rootKey,
      thisUpdate: new Date(T),
      nextUpdate: new Date(T + 30 * 86_400_000),
      number: 1n,
    });
    const withCrl = (await evidenceRecordFor(queries, genesis, records[0]!.hash, { crls: [crl] }))!;
    const decoded = decodeEvidenceRecord(withCrl.ers);
    expect(crlsOfRevocationValues(decoded.revocationValues!)).toEqual([crl]);
    expect(decoded.certificates).toEqual([pki.root.der, pki.tsa.der]);
    const at = new Date(T + 5000);
    const ok = verifyEvidenceRecord(withCrl.ers, {
      document: { data: documents[0]! },
      trustAnchors: [pki.root],
      at,
    });
    expect(ok.ok).toBe(true);
    expect(await evidenceRecordFor(queries, genesis, sha256(utf8.encode('nothing')))).toBeUndefined();
    await expect(evidenceRecordFor(queries, genesis, anchor.hash)).rejects.toMatchObject({
      code: ReceiptErrorCode.notEvidence,
    });
  });

  it('the executor refuses an archive token from an untrusted TSA; an anchor without one exports nothing', async () => {
    const { chain, queries, records } = await archiveChain(genesis);
    const stranger = await makePki({ rootName: 'Stranger Root' });
    const head = chain.head();
    const bad = await archiveAnchor(pki, queries, head, T + 2500, { tsaPki: stranger });
    const refused = await runBlock(chain, batchOf([bad], T + 3000));
    expect(outcomes(refused, [bad])[0]).toMatch(/TX_BAD_ANCHOR_TOKEN/);
    const tsa = await startTsa(pki, T + 3500);
    const plain = anchorTx(
      { height: head.height, headerHash: head.hash, token: (await tsa.stamp(head.hash, 'sha256')).token },
      { validator: 1, createdAt: T + 3500 },
    );
    await tsa.stop();
    expect(outcomes(await runBlock(chain, batchOf([plain], T + 4000)), [plain])).toEqual(['ok']);
    await expect(evidenceRecordFor(queries, genesis, records[0]!.hash)).rejects.toMatchObject({
      code: ReceiptErrorCode.notArchived,
      message: expect.stringMatching(/carries no archive timestamp/),
    });
  });

  it('refuses to export from an archive whose root is not that of the evidence it claims to cover', async () => {
    const { chain, queries, records } = await archiveChain(genesis);
    const anchor = await archiveAnchor(pki, queries, chain.head(), T + 2500, {
      root: sha256(utf8.encode('another tree')),
    });
    expect(outcomes(await runBlock(chain, batchOf([anchor], T + 3000)), [anchor])).toEqual(['ok']);
    await expect(evidenceRecordFor(queries, genesis, records[2]!.hash)).rejects.toMatchObject({
      code: ReceiptErrorCode.notArchived,
      message: expect.stringMatching(/is not .* the root of its evidence/),
    });
  });

  it('the executor refuses a renewal whose token an untrusted TSA made', async () => {
    const { chain, queries } = await archiveChain(genesis);
    const anchor = await archiveAnchor(pki, queries, chain.head(), T + 2500);
    expect(outcomes(await runBlock(chain, batchOf([anchor], T + 3000)), [anchor])).toEqual(['ok']);
    const head = chain.head();
    const stranger = await startTsa(await makePki({ rootName: 'Stranger Root' }), T + 3500);
    const trusted = await startTsa(pki, T + 3500);
    const root = sha256(utf8.encode('renewal root'));
    const renewal = anchorTx(
      {
        height: head.height,
        headerHash: head.hash,
        token: (await trusted.stamp(head.hash, 'sha256')).token,
        renewal: { upTo: 2, root, token: (await stranger.stamp(root, 'sha256')).token },
      },
      { validator: 1, createdAt: T + 3500 },
    );
    await Promise.all([stranger.stop(), trusted.stop()]);
    const built = await runBlock(chain, batchOf([renewal], T + 4000));
    expect(outcomes(built, [renewal])).toEqual(['TX_BAD_ANCHOR_TOKEN']);
    expect(built.rejected[0]!.message).toMatch(/^renewal: TSA_/);
    // Only the first anchor is on the ledger.
    expect((await queries.anchorsFrom(1)).map((a) => a.height)).toEqual([2]);
  });
});
