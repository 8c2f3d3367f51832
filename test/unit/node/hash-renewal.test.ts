/**
 * Hash-tree renewal on the ledger (RFC 4998 5.2, ADR 016 and 018), through a real ledger: the primary's
 * anchoring service stamps committed `hash-renewal` requests (deferring one whose evidence no archive covers
 * yet), validators accept the stamp, and the evidence record exported afterwards is the first chain frozen as
 * it was before the stamping anchor, then a SHA-512 chain, which proves the document after the first TSA
 * certificate expired. Tampering any part fails.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import type { Genesis } from '../../../src/core/genesis.ts';
import { evidenceRecordFor } from '../../../src/receipt/ers-export.ts';
import { decodeEvidenceRecord, encodeChain } from '../../../src/timestamp/ers-asn1.ts';
import { verifyEvidenceRecord } from '../../../src/timestamp/ers-verify.ts';
import { TEST_GENESIS_TIME, testGenesis } from '../../helpers/fixtures.ts';
import { ledgerRenewed, renewedDocs } from '../../helpers/ledger-renewal.ts';
import { DAY, makePki, type Pki } from '../../helpers/tsa.ts';

const T = TEST_GENESIS_TIME;
/** The first TSA certificate is valid for 100 days. */
const EXPIRY = T + 100 * DAY;
let pki: Pki;
let genesis: Genesis;

beforeAll(async () => {
  pki = await makePki({ tsaValidity: [T - DAY, EXPIRY] });
  genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
});

describe('hash-tree renewal on the ledger', () => {
  it('stamps requests once their evidence is archived; the export then carries a SHA-512 chain', async () => {
    const fx = await ledgerRenewed(pki, genesis);
    const { queries, consensus, e0, e1, r0, r1, stamping, second2 } = fx;
    // The first stamping anchor archives document 1 and stamps request 0 only (document 1 was not archived).
    expect(stamping.archive).toBeDefined();
    expect(stamping.hashRenewal?.hashAlg).toBe('sha512');
    expect(stamping.hashRenewal?.requests).toEqual([r0.hash]);
    expect(second2.archive).toBeUndefined();
    expect(second2.hashRenewal?.requests).toEqual([r1.hash]);
    expect(consensus.rejected).toEqual([]);
    expect(await queries.unstampedHashRenewals()).toEqual([]);

    for (const [i, e] of [e0, e1].entries()) {
      const ers = (await evidenceRecordFor(queries, genesis, e.hash))!.ers;
      const record = decodeEvidenceRecord(ers);
      expect(record.digestAlgs).toEqual(['sha256', 'sha512']);
      expect(record.chains.map((c) => c.map((a) => a.digestAlg))).toEqual([['sha256'], ['sha512']]);
      const late = new Date(EXPIRY + 10 * DAY);
      const v = verifyEvidenceRecord(ers, {
        document: { data: renewedDocs[i]! },
        trustAnchors: [pki.root],
        at: late,
      });
      expect(v.ok, v.ok ? '' : v.reason).toBe(true);
      if (v.ok) expect(v.steps.map((s) => s.hashAlg)).toEqual(['sha256', 'sha512']);
      // Another document fails, and so does the SHA-256 hash alone: the SHA-512 chain needs the document.
      const other = { data: utf8.encode('another document') };
      expect(verifyEvidenceRecord(ers, { document: other, trustAnchors: [pki.root] }).ok).toBe(false);
      const byHash = verifyEvidenceRecord(ers, {
        document: { sha256: sha256(renewedDocs[i]!) },
        trustAnchors: [pki.root],
      });
      expect(byHash.ok ? '' : byHash.reason).toMatch(/needs the document itself/);
    }
    // Document 0's first chain is frozen: the chain exported before the stamp.
    const after = decodeEvidenceRecord((await evidenceRecordFor(queries, genesis, e0.hash))!.ers);
    const before = decodeEvidenceRecord(fx.beforeStamp);
    expect(encodeChain(after.chains[0]!)).toEqual(encodeChain(before.chains[0]!));
    await fx.stop();
  });
});
