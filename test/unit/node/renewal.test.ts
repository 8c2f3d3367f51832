/**
 * Timestamp renewal by the anchoring service (RFC 4998 5.2, ADR 012): before the certificate of an archive's
 * newest token expires, the primary renews every archive with one token from a TSA whose certificate lasts
 * longer; the renewal is on the ledger, and the evidence record exported afterwards proves the document after
 * the first certificate expired, with the verification time moved past it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAnchor } from '../../../src/core/anchor.ts';
import { decodeEvidence } from '../../../src/core/evidence.ts';
import type { Genesis } from '../../../src/core/genesis.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { AnchoringService, type RenewalPolicy } from '../../../src/node/anchoring.ts';
import { evidenceRecordFor } from '../../../src/receipt/ers-export.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import { type ReceiptVerification, verifyReceipt } from '../../../src/receipt/verify.ts';
import type { TimestampAuthority } from '../../../src/timestamp/authority.ts';
import { decodeEvidenceRecord } from '../../../src/timestamp/ers-asn1.ts';
import { verifyEvidenceRecord } from '../../../src/timestamp/ers-verify.ts';
import { createGenesisTokenVerifier } from '../../../src/timestamp/genesis-verifier.ts';
import { renewingTsa } from '../../helpers/ers.ts';
import { FakeConsensus } from '../../helpers/fake-consensus.ts';
import {
  evidenceTx,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  testGenesis,
  validatorSigners,
} from '../../helpers/fixtures.ts';
import { ManualTime } from '../../helpers/manual-time.ts';
import { DAY, makePki, type Pki, startTsa } from '../../helpers/tsa.ts';
import { waitFor } from '../../helpers/wait.ts';

const T = TEST_GENESIS_TIME;
/** The first TSA certificate is valid for 100 days; renewals are due 30 days before expiry. */
const EXPIRY = T + 100 * DAY;
const POLICY: RenewalPolicy = { beforeExpiryMs: 30 * DAY, checkIntervalMs: DAY };
let pki: Pki;
let genesis: Genesis;

beforeAll(async () => {
  pki = await makePki({ tsaValidity: [T - DAY, EXPIRY] });
  genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
});

/** A ledger, fake consensus and anchoring service with `policy`; one document archived at T + 1 s. */
async function setup(policy: RenewalPolicy) {
  const time = new ManualTime(T + 1000);
  const first = await startTsa(pki, T, { clock: () => time.now() });
  const tsa: { current: TimestampAuthority } = { current: first };
  const verifier = createGenesisTokenVerifier(genesis.tsa);
  const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis, {
    tokenVerifier: verifier,
    anchorVerifier: verifier,
  });
  const queries = new LedgerQueries(chain.store, genesis);
  const consensus = new FakeConsensus(chain, () => time.now());
  const service = new AnchoringService(
    {
      tsa: { stamp: (...args) => tsa.current.stamp(...args) },
      chainId: genesis.chainId,
      institution: TEST_INSTITUTIONS[0]!,
      signer: validatorSigners()[0]!,
      ledger: queries,
      onHead: consensus.onHead,
      isPrimary: () => true,
      submit: consensus.submit,
    },
    { intervalMs: 5000, clock: time, timers: time, random: () => 0.5, renewal: policy },
  );
  await service.start();
  const e = evidenceTx({ nonce: 1, createdAt: time.now() });
  await consensus.commit([e]);
  await waitFor(() => consensus.anchorsWaiting().length === 1, 'the archive anchor');
  await consensus.commit();
  expect((await queries.anchorsFrom(1))[0]!.archive).toBeDefined();

  // A day at a time: each daily look has run once the service waits for the next one, or has submitted.
  const days = async (n: number) => {
    for (let i = 0; i < n && consensus.anchorsWaiting().length === 0; i++) {
      time.advance(DAY);
      await waitFor(
        async () => {
          const next = (await service.status()).nextAttemptAt;
          return consensus.anchorsWaiting().length > 0 || (next !== undefined && next > time.now());
        },
        `the look on day ${i + 1}`,
      );
    }
  };
  const stop = async () => {
    await service.stop();
    await first.stop();
  };
  return { time, tsa, queries, consensus, service, e, days, stop };
}

const lastCheck = (v: ReceiptVerification) => v.checks.at(-1);

describe('timestamp renewal', () => {
  it('renews archives before their certificate expires; the exported record then outlives it', async () => {
    const { time, tsa, queries, consensus, service, e, days, stop } = await setup(POLICY);
    // Far from expiry, the daily look finds nothing due.
    await days(50);
    expect(consensus.anchorsWaiting()).toEqual([]);

    // 30 days before expiry a renewal is due; the TSA now signs with a certificate that lasts.
    const second = await renewingTsa(pki, T + 70 * DAY, () => time.now());
    tsa.current = second;
    await days(25);
    expect(time.now()).toBeGreaterThanOrEqual(EXPIRY - POLICY.beforeExpiryMs);
    expect(time.now()).toBeLessThan(EXPIRY - POLICY.beforeExpiryMs + DAY);
    expect(consensus.anchorsWaiting()).toHaveLength(1);
    // Until the renewal commits, the record would not outlive the first certificate.
    const lateAt = new Date(EXPIRY + 10 * DAY);
    const doc = { sha256: decodeEvidence(e.tx.payload).hash };
    const before = (await evidenceRecordFor(queries, genesis, e.hash))!;
    const unrenewed = verifyEvidenceRecord(before.ers, {
      document: doc,
      trustAnchors: [pki.root],
      at: lateAt,
    });
    expect(unrenewed.ok).toBe(false);
    if (!unrenewed.ok) expect(unrenewed.reason).toMatch(/not renewed in time/);
    // So would the receipt (v4): its anchor token expired, and its archive record is not renewed yet.
    const early = await receiptFor(queries, genesis, e.hash);
    expect(early!.archive).not.toBeNull();
    expect(lastCheck(await verifyReceipt(early, { genesis, at: lateAt }))).toMatchObject({
      name: 'archive',
      code: 'RECEIPT_BAD_TIMESTAMP',
      detail: expect.stringMatching(/not renewed in time/),
    });
    const renewal = decodeAnchor(consensus.anchorsWaiting()[0]!.tx.payload).renewal;
    expect(renewal).toMatchObject({ upTo: 1 });
    expect((await service.status()).lastRenewal).toEqual({
      upTo: 1,
      txHash: consensus.anchorsWaiting()[0]!.hashHex,
      at: time.now(),
    });
    await consensus.commit();
    expect(consensus.rejected).toEqual([]);

    const r = (await evidenceRecordFor(queries, genesis, e.hash))!;
    expect(decodeEvidenceRecord(r.ers).chains[0]).toHaveLength(2);
    const late = { document: doc, trustAnchors: [pki.root], at: lateAt };
    const v = verifyEvidenceRecord(r.ers, late);
    expect(v.ok, v.ok ? '' : v.reason).toBe(true);
    if (v.ok) expect(v.provenAt.getTime()).toBe(T + 1000);

    // The receipt now carries the renewal and proves its time past the first certificate's expiry.
    const receipt = await receiptFor(queries, genesis, e.hash);
    // It carries exactly the record `receipt export --format ers` writes.
    expect(receipt!.archive).toEqual({ record: Buffer.from(r.ers).toString('base64') });
    const renewed = await verifyReceipt(receipt, { genesis, at: lateAt });
    expect(renewed.ok, JSON.stringify(renewed.checks)).toBe(true);
    expect(renewed.checks.find((c) => c.name === 'anchor')?.detail).toMatch(
      /certificates expired at .* the archive check must prove the time/,
    );
    expect(renewed.facts?.archive?.provenAt.getTime()).toBe(T + 1000);
    expect(renewed.facts?.archive?.steps).toHaveLength(2);
    // The same receipt without its archive (as v3) verifies as of when its tokens were made, not at lateAt.
    const { archive: _, ...v3 } = { ...receipt!, format: 'jrchain-receipt/v3' };
    expect((await verifyReceipt(v3, { genesis })).ok).toBe(true);
    expect(lastCheck(await verifyReceipt(v3, { genesis, at: lateAt }))).toMatchObject({
      name: 'anchor',
      detail: expect.stringMatching(/carries no renewed archive timestamp/),
    });
    await stop();
    await second.stop();
  });

  it('renews archives whose token relies on a deprecated algorithm, once the TSA no longer uses it', async () => {
    const policy: RenewalPolicy = { ...POLICY, deprecatedAlgorithms: ['ecdsa-with-SHA256'] };
    const { time, tsa, queries, consensus, e, days, stop } = await setup(policy);
    // Due at the first look, but the TSA still signs with ECDSA-SHA256: nothing is submitted.
    await days(3);
    expect(consensus.anchorsWaiting()).toEqual([]);
    const p384 = await renewingTsa(pki, T + 3 * DAY, () => time.now(), 'P-384');
    tsa.current = p384;
    await days(2);
    expect(consensus.anchorsWaiting()).toHaveLength(1);
    expect(decodeAnchor(consensus.anchorsWaiting()[0]!.tx.payload).renewal).toMatchObject({ upTo: 1 });
    await consensus.commit();
    expect(consensus.rejected).toEqual([]);
    const r = (await evidenceRecordFor(queries, genesis, e.hash))!;
    expect(decodeEvidenceRecord(r.ers).chains[0]).toHaveLength(2);
    // Once renewed, the archive's newest token uses ECDSA-SHA384: no further renewal is due.
    await days(3);
    expect(consensus.anchorsWaiting()).toEqual([]);
    await stop();
    await p384.stop();
  });
});
