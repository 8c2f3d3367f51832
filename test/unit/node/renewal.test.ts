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

describe('timestamp renewal', () => {
  it('renews archives before their certificate expires; the exported record then outlives it', async () => {
    const time = new ManualTime(T + 1000);
    const first = await startTsa(pki, T, { clock: () => time.now() });
    let current: TimestampAuthority = first;
    const verifier = createGenesisTokenVerifier(genesis.tsa);
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis, {
      tokenVerifier: verifier,
      anchorVerifier: verifier,
    });
    const queries = new LedgerQueries(chain.store, genesis);
    const consensus = new FakeConsensus(chain, () => time.now());
    const service = new AnchoringService(
      {
        tsa: { stamp: (...args) => current.stamp(...args) },
        chainId: genesis.chainId,
        institution: TEST_INSTITUTIONS[0]!,
        signer: validatorSigners()[0]!,
        ledger: queries,
        onHead: consensus.onHead,
        isPrimary: () => true,
        submit: consensus.submit,
      },
      { intervalMs: 5000, clock: time, timers: time, random: () => 0.5, renewal: POLICY },
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
    // Far from expiry, the daily look finds nothing due.
    await days(50);
    expect(consensus.anchorsWaiting()).toEqual([]);

    // 30 days before expiry a renewal is due; the TSA now signs with a certificate that lasts.
    const second = await renewingTsa(pki, T + 70 * DAY, () => time.now());
    current = { stamp: (d, alg, o) => second.stamp(d, alg, o) };
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
    const renewal = decodeAnchor(consensus.anchorsWaiting()[0]!.tx.payload).renewal;
    expect(renewal).toMatchObject({ upTo: 1 });
    await consensus.commit();
    expect(consensus.rejected).toEqual([]);

    const r = (await evidenceRecordFor(queries, genesis, e.hash))!;
    expect(decodeEvidenceRecord(r.ers).chains[0]).toHaveLength(2);
    const late = {
      document: { sha256: decodeEvidence(e.tx.payload).hash },
      trustAnchors: [pki.root],
      at: new Date(EXPIRY + 10 * DAY),
    };
    const v = verifyEvidenceRecord(r.ers, late);
    expect(v.ok, v.ok ? '' : v.reason).toBe(true);
    if (v.ok) expect(v.provenAt.getTime()).toBe(T + 1000);
    await service.stop();
    await first.stop();
    await second.stop();
  });
});
