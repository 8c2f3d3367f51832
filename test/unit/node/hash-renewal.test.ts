/**
 * Hash-tree renewal on the ledger (RFC 4998 5.2, ADR 016 and 018), through a real ledger: the primary's
 * anchoring service stamps committed `hash-renewal` requests (deferring one whose evidence no archive covers
 * yet), validators accept the stamp, and the evidence record exported afterwards is the first chain frozen as
 * it was before the stamping anchor, then a SHA-512 chain, which proves the document after the first TSA
 * certificate expired. Tampering any part fails.
 */

import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAnchor } from '../../../src/core/anchor.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import type { Genesis } from '../../../src/core/genesis.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { AnchoringService } from '../../../src/node/anchoring.ts';
import { archiveHistory, renewalLeaves } from '../../../src/receipt/archives.ts';
import { evidenceRecordFor } from '../../../src/receipt/ers-export.ts';
import { ledgerHashRenewalSource } from '../../../src/receipt/hash-renewals.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import { verifyReceipt } from '../../../src/receipt/verify.ts';
import { TimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { archiveRoot } from '../../../src/timestamp/ers.ts';
import { decodeEvidenceRecord, encodeChain, encodeEvidenceRecord } from '../../../src/timestamp/ers-asn1.ts';
import { verifyEvidenceRecord } from '../../../src/timestamp/ers-verify.ts';
import { createGenesisTokenVerifier } from '../../../src/timestamp/genesis-verifier.ts';
import { renewingTsa } from '../../helpers/ers.ts';
import { FakeConsensus } from '../../helpers/fake-consensus.ts';
import {
  anchorTx,
  evidenceTx,
  hashRenewalTx,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  testGenesis,
  validatorSigners,
} from '../../helpers/fixtures.ts';
import { removeDir, tempDir } from '../../helpers/ledger.ts';
import { ledgerRenewed, renewedDocs, stampsRenewed } from '../../helpers/ledger-renewal.ts';
import { ManualTime } from '../../helpers/manual-time.ts';
import { DAY, makePki, type Pki, startTsa } from '../../helpers/tsa.ts';
import { waitFor } from '../../helpers/wait.ts';

const T = TEST_GENESIS_TIME;
/** The first TSA certificate is valid for 100 days. */
const EXPIRY = T + 100 * DAY;
const sha512 = (b: Uint8Array) => new Uint8Array(createHash('sha512').update(b).digest());
const otherDoc = utf8.encode('settlement agreement');
let pki: Pki;
let genesis: Genesis;

beforeAll(async () => {
  pki = await makePki({ tsaValidity: [T - DAY, EXPIRY] });
  genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
});

describe('hash-tree renewal on the ledger', () => {
  it('stamps requests once their evidence is archived; the export then carries a SHA-512 chain', async () => {
    const fx = await ledgerRenewed(pki, genesis);
    const { queries, consensus, e0, e1, e2, r0, r1, r2, stamping, second2 } = fx;
    // The first stamping anchor archives document 1 and stamps requests 0 and 2 (document 1 was not archived).
    expect(stamping.archive).toBeDefined();
    expect(stamping.hashRenewal?.hashAlg).toBe('sha512');
    const hexes = (qs: Uint8Array[] | undefined) =>
      (qs ?? []).map((q) => Buffer.from(q).toString('hex')).sort();
    expect(hexes(stamping.hashRenewal?.requests)).toEqual(hexes([r0.hash, r2.hash]));
    expect(second2.archive).toBeUndefined();
    expect(second2.hashRenewal?.requests).toEqual([r1.hash]);
    expect(consensus.rejected).toEqual([]);
    expect(await queries.unstampedHashRenewals()).toEqual([]);
    expect((await fx.service.status()).lastHashRenewal).toMatchObject({ stamped: 1, hashAlg: 'sha512' });

    for (const [i, e] of [e0, e1, e2].entries()) {
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
      // Requests 0 and 2 share a stamp: their leaf's sibling is in the first list; request 1 is alone.
      expect(record.chains[1]![0]!.reducedHashtree).toHaveLength(1);
      expect(record.chains[1]![0]!.reducedHashtree![0]).toHaveLength(i === 1 ? 1 : 2);
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

  it('keeps the first chain frozen through a later timestamp renewal; a stamp whose root is wrong is ignored', async () => {
    const fx = await ledgerRenewed(pki, genesis);
    const { queries, consensus, time, tsa2, e0 } = fx;
    const renewedBefore = (await evidenceRecordFor(queries, genesis, e0.hash))!.ers;
    // A document recorded and archived after the stamps; then a faulty stamp of its request (wrong root).
    const e3 = evidenceTx({ nonce: 4, createdAt: time.now(), evidence: { hash: sha256(otherDoc) } });
    await consensus.commit([e3]);
    time.advance(5000);
    await waitFor(() => {
      time.advance(0);
      return consensus.anchorsWaiting().length === 1;
    }, 'the archive of document 3');
    await consensus.commit();
    await fx.service.stop();
    const r3 = hashRenewalTx(e3, { nonce: 20, createdAt: time.now(), request: { hash: sha512(otherDoc) } });
    await consensus.commit([r3]);
    const before3 = (await evidenceRecordFor(queries, genesis, e3.hash))!.ers;
    const wrongRoot = new Uint8Array(64).fill(7);
    const head = consensus.chain.head();
    const anchored = queries.anchorState().anchoredHeight;
    const root = archiveRoot(renewalLeaves(archiveHistory(await queries.anchorsFrom(1)), anchored));
    const stamp = async (d: Uint8Array, alg: 'sha256' | 'sha512') => (await tsa2.stamp(d, alg)).token;
    const anchor = anchorTx(
      {
        height: head.height,
        headerHash: head.hash,
        token: await stamp(head.hash, 'sha256'),
        // A timestamp renewal of every archive, in the same anchor as the faulty stamp.
        renewal: { upTo: anchored, root, token: await stamp(root, 'sha256') },
        // A renewal of the stamps whose root is not theirs (a faulty primary's): exports must ignore it.
        stampRenewals: [
          { hashAlg: 'sha512', upTo: anchored, root: wrongRoot, token: await stamp(wrongRoot, 'sha512') },
        ],
        hashRenewal: {
          hashAlg: 'sha512',
          requests: [r3.hash],
          root: wrongRoot,
          token: await stamp(wrongRoot, 'sha512'),
        },
      },
      { createdAt: time.now() },
    );
    await consensus.commit([anchor]);
    expect(consensus.rejected).toEqual([]);
    expect(await queries.unstampedHashRenewals()).toEqual([]);
    // The renewed document's record does not change: the renewal applies to its first chain no more, and the
    // stamp renewal does not lead to its root.
    expect((await evidenceRecordFor(queries, genesis, e0.hash))!.ers).toEqual(renewedBefore);
    // Document 3's stamp does not lead to its root: its record goes on with the first chain, now renewed.
    const after3 = decodeEvidenceRecord((await evidenceRecordFor(queries, genesis, e3.hash))!.ers);
    expect(after3.chains).toHaveLength(1);
    expect(after3.chains[0]).toHaveLength(decodeEvidenceRecord(before3).chains[0]!.length + 1);
    await fx.stop();
  });

  it('fails verification when any part of the record is tampered with', async () => {
    const fx = await ledgerRenewed(pki, genesis);
    const ers = (await evidenceRecordFor(fx.queries, genesis, fx.e0.hash))!.ers;
    const check = (der: Uint8Array) => {
      const v = verifyEvidenceRecord(der, { document: { data: renewedDocs[0]! }, trustAnchors: [pki.root] });
      return v.ok ? 'ok' : v.reason;
    };
    expect(check(ers)).toBe('ok');
    const edit = (f: (r: ReturnType<typeof decodeEvidenceRecord>) => void) => {
      const r = decodeEvidenceRecord(ers);
      f(r);
      return check(encodeEvidenceRecord(r));
    };
    const flip = (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x));
    // The new chain's leaf, its token (the first chain's in its place), the first chain's tree, its token.
    expect(
      edit(
        (r) => (r.chains[1]![0]!.reducedHashtree![0]![0] = flip(r.chains[1]![0]!.reducedHashtree![0]![0]!)),
      ),
    ).toMatch(/^chain 1, archive timestamp 0: the hash .* is not in the first list/);
    expect(edit((r) => (r.chains[1]![0]!.timeStamp = r.chains[0]![0]!.timeStamp))).toMatch(
      /^chain 1, archive timestamp 0: the time-stamp token fails/,
    );
    const tree0 = (r: ReturnType<typeof decodeEvidenceRecord>) => r.chains[0]![0]!.reducedHashtree!;
    expect(edit((r) => tree0(r).push([new Uint8Array(32)]))).toMatch(
      /^chain 0, archive timestamp 0: the time-stamp token fails/,
    );
    // Dropping the first chain: the new chain's leaf covers it.
    expect(edit((r) => r.chains.splice(0, 1))).toMatch(/^chain 0, archive timestamp 0/);
    await fx.stop();
  });

  it('goes into v4 receipts; verified with the document, the receipt proves its time past the first certificate', async () => {
    const fx = await ledgerRenewed(pki, genesis);
    const ers = (await evidenceRecordFor(fx.queries, genesis, fx.e0.hash))!.ers;
    const receipt = (await receiptFor(fx.queries, genesis, fx.e0.hash))!;
    expect(receipt.archive).toEqual({ record: Buffer.from(ers).toString('base64') });
    const late = new Date(EXPIRY + 10 * DAY);
    const v = await verifyReceipt(receipt, { genesis, file: renewedDocs[0], at: late });
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(v.facts?.archive?.steps.map((s) => s.hashAlg)).toEqual(['sha256', 'sha512']);
    // Without the document, only the SHA-256 chain can be checked: enough as of when its tokens were made,
    // not after the first certificate expired.
    const byHash = await verifyReceipt(receipt, { genesis });
    expect(byHash.ok, JSON.stringify(byHash.checks)).toBe(true);
    expect(byHash.checks.find((c) => c.name === 'archive')?.detail).toMatch(
      /1 later chain \(sha512\) not checked: it needs the document/,
    );
    expect((await verifyReceipt(receipt, { genesis, at: late })).checks.at(-1)).toMatchObject({
      name: 'archive',
      code: 'RECEIPT_BAD_TIMESTAMP',
    });
    // With the document's hashes instead of its bytes (the page, `evidence verify`): every chain is checked,
    // provided the SHA-512 hash given is the document's.
    const fileDigest = { hashAlg: 'sha256' as const, hash: sha256(renewedDocs[0]!) };
    const hashes = await verifyReceipt(receipt, {
      genesis,
      fileDigest,
      chainDigests: { sha512: sha512(renewedDocs[0]!) },
      at: late,
    });
    expect(hashes.ok, JSON.stringify(hashes.checks)).toBe(true);
    expect(hashes.facts?.archive?.steps.map((s) => s.hashAlg)).toEqual(['sha256', 'sha512']);
    const wrong = await verifyReceipt(receipt, {
      genesis,
      fileDigest,
      chainDigests: { sha512: sha512(renewedDocs[1]!) },
    });
    expect(wrong.checks.at(-1)).toMatchObject({ name: 'archive', code: 'RECEIPT_BAD_TIMESTAMP' });
    // A tampered new chain fails the archive check, with the document.
    const r = decodeEvidenceRecord(ers);
    r.chains[1]![0]!.timeStamp = r.chains[0]![0]!.timeStamp;
    const tampered = {
      ...receipt,
      archive: { record: Buffer.from(encodeEvidenceRecord(r)).toString('base64') },
    };
    expect((await verifyReceipt(tampered, { genesis, file: renewedDocs[0] })).checks.at(-1)).toMatchObject({
      name: 'archive',
      detail: expect.stringMatching(/chain 1, archive timestamp 0/),
    });
    await fx.stop();
  });

  it('renews the new chain under its own hash with the archives; the record then outlives the stamp’s certificate', async () => {
    const fx = await ledgerRenewed(pki, genesis);
    const { queries, consensus } = fx;
    const { first, second, stop } = await stampsRenewed(fx, pki);
    // At once, the archives (made on day 0) are due; the stamps (made on day 70) are not yet.
    expect(first.renewal).toBeDefined();
    expect(first.stampRenewals).toBeUndefined();
    // Days later, the stamps are due, and the archives again.
    expect(second?.stampRenewals?.map((x) => [x.hashAlg, x.upTo])).toEqual([
      ['sha512', second!.renewal!.upTo],
    ]);
    expect(consensus.rejected).toEqual([]);
    // Past the second TSA certificate's expiry (day 3070), within the third's (day 3071).
    const late = new Date(T + 3070.5 * DAY);
    for (const [i, e] of [fx.e0, fx.e1, fx.e2].entries()) {
      const ers = (await evidenceRecordFor(queries, genesis, e.hash))!.ers;
      const chains = decodeEvidenceRecord(ers).chains;
      expect(chains.map((c) => c.length)).toEqual([1, 2]);
      // Both stamps are leaves of the renewal's tree: each chain's group has a sibling.
      expect(chains[1]![1]!.reducedHashtree).toHaveLength(2);
      const doc = { data: renewedDocs[i]! };
      const v = verifyEvidenceRecord(ers, { document: doc, trustAnchors: [pki.root], at: late });
      expect(v.ok, v.ok ? '' : v.reason).toBe(true);
      if (v.ok) expect(v.steps.map((s) => s.hashAlg)).toEqual(['sha256', 'sha512', 'sha512']);
      // Without the stamp renewal, the record would not reach that date.
      const cut = decodeEvidenceRecord(ers);
      cut.chains[1]!.pop();
      const unrenewed = verifyEvidenceRecord(encodeEvidenceRecord(cut), {
        document: doc,
        trustAnchors: [pki.root],
        at: late,
      });
      expect(unrenewed.ok ? '' : unrenewed.reason).toMatch(/not renewed in time/);
    }
    await stop();
    await fx.stop();
  });

  it('renews the stamps’ chains when SHA-256 is deprecated, though no archive renewal can be made', async () => {
    const fx = await ledgerRenewed(pki, genesis);
    const { consensus, time, queries } = fx;
    await fx.service.stop();
    // Every token relying on SHA-256 is due; the new TSA signs with ECDSA-SHA384.
    const p384 = await renewingTsa(pki, time.now(), () => time.now(), 'P-384');
    const policy = { beforeExpiryMs: DAY, checkIntervalMs: DAY, deprecatedAlgorithms: ['sha256'] };
    const renewing = fx.serviceWith(p384, policy);
    await renewing.start();
    const anchor = await fx.anchorWaits('the renewal of the stamps');
    expect(anchor.renewal).toBeUndefined();
    expect(anchor.stampRenewals?.map((x) => x.hashAlg)).toEqual(['sha512']);
    await consensus.commit();
    expect(consensus.rejected).toEqual([]);
    const ers = (await evidenceRecordFor(queries, genesis, fx.e0.hash))!.ers;
    expect(decodeEvidenceRecord(ers).chains.map((c) => c.length)).toEqual([1, 2]);
    // The archives stay due (no SHA-256 renewal can be made), the stamps not: the next look anchors nothing.
    time.advance(DAY);
    await waitFor(async () => {
      time.advance(0);
      const next = (await renewing.status()).nextAttemptAt;
      return consensus.anchorsWaiting().length > 0 || (next !== undefined && next > time.now());
    }, 'the next look');
    expect(consensus.anchorsWaiting()).toEqual([]);
    await renewing.stop();
    await p384.stop();
    await fx.stop();
  });

  it('anchors on without the stamp while the TSA refuses SHA-512, and stamps once it takes it', async () => {
    const time = new ManualTime(T + 1000);
    const tsa = await startTsa(pki, T, { clock: () => time.now() });
    let refuse = true;
    const verifier = createGenesisTokenVerifier(genesis.tsa);
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis, {
      tokenVerifier: verifier,
      anchorVerifier: verifier,
    });
    const queries = new LedgerQueries(chain.store, genesis);
    const consensus = new FakeConsensus(chain, () => time.now());
    const service = new AnchoringService(
      {
        tsa: {
          stamp: async (d, alg, o) => {
            if (refuse && alg !== 'sha256')
              throw new TimestampError(TimestampErrorCode.rejected, `no ${alg} here`);
            return tsa.stamp(d, alg, o);
          },
        },
        chainId: genesis.chainId,
        institution: TEST_INSTITUTIONS[0]!,
        signer: validatorSigners()[0]!,
        ledger: queries,
        hashRenewals: ledgerHashRenewalSource(queries),
        onHead: consensus.onHead,
        isPrimary: () => true,
        submit: consensus.submit,
      },
      { intervalMs: 5000, backoffMaxMs: 60_000, clock: time, timers: time, random: () => 0.5 },
    );
    await service.start();
    const anchorAfter = async (ms: number, what: string) => {
      time.advance(ms);
      await waitFor(() => {
        time.advance(0);
        return consensus.anchorsWaiting().length === 1;
      }, what);
      const a = decodeAnchor(consensus.anchorsWaiting()[0]!.tx.payload);
      await consensus.commit();
      return a;
    };
    const doc = renewedDocs[0]!;
    const e = evidenceTx({ nonce: 1, createdAt: time.now(), evidence: { hash: sha256(doc) } });
    await consensus.commit([e]);
    await anchorAfter(5000, 'the archive anchor');
    const r = hashRenewalTx(e, { nonce: 10, createdAt: time.now(), request: { hash: sha512(doc) } });
    const later = evidenceTx({ nonce: 2, createdAt: time.now(), evidence: { hash: sha256(otherDoc) } });
    await consensus.commit([r, later]);
    // The stamp fails: the anchor archives the later evidence all the same.
    const without = await anchorAfter(5000, 'the anchor without a stamp');
    expect(without.archive).toBeDefined();
    expect(without.hashRenewal).toBeUndefined();
    expect(consensus.rejected).toEqual([]);
    // Paused for the longest backoff, then stamped once the TSA takes SHA-512.
    refuse = false;
    time.advance(30_000);
    expect(consensus.anchorsWaiting()).toEqual([]);
    const stamped = await anchorAfter(30_000, 'the stamping anchor');
    expect(stamped.hashRenewal?.requests).toEqual([r.hash]);
    expect(consensus.rejected).toEqual([]);
    await service.stop();
    await tsa.stop();
  });

  it('stamps nothing while an anchor of its own awaits commit: the leaves cover committed chains', async () => {
    const fx = await ledgerRenewed(pki, genesis);
    const { consensus, time, queries } = fx;
    const e3 = evidenceTx({ nonce: 4, createdAt: time.now(), evidence: { hash: sha256(otherDoc) } });
    await consensus.commit([e3]);
    await fx.anchorWaits('the archive anchor of document 3');
    await consensus.commit();
    // Another document: the service submits its archive anchor, held back from the next blocks.
    const e4 = evidenceTx({ nonce: 5, createdAt: time.now(), evidence: { hash: sha256(utf8.encode('x')) } });
    await consensus.commit([e4]);
    await fx.anchorWaits('the archive anchor of document 4');
    const [held] = consensus.mempool.splice(0);
    const r3 = hashRenewalTx(e3, { nonce: 30, createdAt: time.now(), request: { hash: sha512(otherDoc) } });
    await consensus.commit([r3]);
    // The request's block awaits an anchor too; the service makes one (its held one covers less), but without
    // the stamp while its held anchor may still commit.
    const next = await fx.anchorWaits('the anchor of the request’s block');
    expect(held!.hash).not.toEqual(consensus.anchorsWaiting()[0]!.hash);
    expect(next.hashRenewal).toBeUndefined();
    await consensus.commit();
    // The held anchor is stale now; the request is stamped by the next one.
    const stamping = await fx.anchorWaits('the stamping anchor');
    expect(stamping.hashRenewal?.requests).toEqual([r3.hash]);
    await consensus.commit();
    expect(consensus.rejected).toEqual([]);
    const ers = (await evidenceRecordFor(queries, genesis, e3.hash))!.ers;
    expect(decodeEvidenceRecord(ers).chains).toHaveLength(2);
    const v = verifyEvidenceRecord(ers, { document: { data: otherDoc }, trustAnchors: [pki.root] });
    expect(v.ok, v.ok ? '' : v.reason).toBe(true);
    await fx.stop();
  });

  it('stamps and exports the same on the LevelDB store', async () => {
    const dir = await tempDir('hash-renewal-level');
    const store = await LevelLedgerStore.open(dir);
    try {
      const fx = await ledgerRenewed(pki, genesis, { store });
      expect(await fx.queries.unstampedHashRenewals()).toEqual([]);
      expect(fx.consensus.rejected).toEqual([]);
      for (const [i, e] of [fx.e0, fx.e1, fx.e2].entries()) {
        const ers = (await evidenceRecordFor(fx.queries, genesis, e.hash))!.ers;
        const late = {
          document: { data: renewedDocs[i]! },
          trustAnchors: [pki.root],
          at: new Date(EXPIRY + 10 * DAY),
        };
        const v = verifyEvidenceRecord(ers, late);
        expect(v.ok, v.ok ? '' : v.reason).toBe(true);
      }
      await fx.stop();
    } finally {
      await store.close();
      await removeDir(dir);
    }
  });
});
