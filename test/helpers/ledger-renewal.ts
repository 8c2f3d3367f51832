/**
 * A ledger whose primary's anchoring service stamps hash-tree renewal requests (ADR 018), for the hash-renewal
 * tests and the BouncyCastle interop test.
 */
import { createHash } from 'node:crypto';
import { decodeAnchor } from '../../src/core/anchor.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/crypto.ts';
import type { Genesis } from '../../src/core/genesis.ts';
import { LedgerChain } from '../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../src/ledger/queries.ts';
import type { LedgerStore } from '../../src/ledger/store.ts';
import { AnchoringService, type RenewalPolicy } from '../../src/node/anchoring.ts';
import { evidenceRecordFor } from '../../src/receipt/ers-export.ts';
import { ledgerHashRenewalSource } from '../../src/receipt/hash-renewals.ts';
import type { TimestampAuthority } from '../../src/timestamp/authority.ts';
import { createGenesisTokenVerifier } from '../../src/timestamp/genesis-verifier.ts';
import { renewingTsa } from './ers.ts';
import { FakeConsensus } from './fake-consensus.ts';
import {
  evidenceTx,
  hashRenewalTx,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  validatorSigners,
} from './fixtures.ts';
import { ManualTime } from './manual-time.ts';
import { DAY, type Pki, startTsa } from './tsa.ts';
import { waitFor } from './wait.ts';

const T = TEST_GENESIS_TIME;
const sha512 = (b: Uint8Array) => new Uint8Array(createHash('sha512').update(b).digest());
/** The documents of `ledgerRenewed`. */
export const renewedDocs = ['loan contract', 'repayment record', 'guarantee'].map((s) => utf8.encode(s));

/**
 * A ledger whose primary stamps hash renewals: documents 0 and 2 archived, then document 1 recorded and the
 * three renewals requested before an anchor covers document 1 (so the first stamp covers requests 0 and 2, the
 * second request 1); the first TSA (certificate of `pkiIn`) stamps the
 * archive of document 0, a second one (same root, lasting 3000 days) from day 70 on stamps the rest. Returns
 * once both requests are stamped.
 */
export async function ledgerRenewed(pkiIn: Pki, genesisIn: Genesis, opts: { store?: LedgerStore } = {}) {
  const time = new ManualTime(T + 1000);
  const first = await startTsa(pkiIn, T, { clock: () => time.now() });
  const tsa: { current: TimestampAuthority } = { current: first };
  const verifier = createGenesisTokenVerifier(genesisIn.tsa);
  const chain = await LedgerChain.open(opts.store ?? new MemoryLedgerStore(), genesisIn, {
    tokenVerifier: verifier,
    anchorVerifier: verifier,
  });
  const queries = new LedgerQueries(chain.store, genesisIn);
  const consensus = new FakeConsensus(chain, () => time.now());
  const serviceWith = (stamping: TimestampAuthority, renewal?: RenewalPolicy) =>
    new AnchoringService(
      {
        tsa: stamping,
        chainId: genesisIn.chainId,
        institution: TEST_INSTITUTIONS[0]!,
        signer: validatorSigners()[0]!,
        ledger: queries,
        hashRenewals: ledgerHashRenewalSource(queries),
        onHead: consensus.onHead,
        isPrimary: () => true,
        submit: consensus.submit,
      },
      { intervalMs: 5000, clock: time, timers: time, random: () => 0.5, ...(renewal ? { renewal } : {}) },
    );
  const service = serviceWith({ stamp: (...args) => tsa.current.stamp(...args) });
  await service.start();
  const anchorWaits = async (what: string) => {
    time.advance(5000);
    // A step that began before the advance schedules its wake-up at the (new) current time: fire it.
    await waitFor(() => {
      time.advance(0);
      return consensus.anchorsWaiting().length === 1;
    }, what);
    return decodeAnchor(consensus.anchorsWaiting()[0]!.tx.payload);
  };
  const [e0, e1, e2] = renewedDocs.map((d, i) =>
    evidenceTx({ nonce: i + 1, createdAt: time.now(), evidence: { hash: sha256(d) } }),
  );
  await consensus.commit([e0!, e2!]);
  await anchorWaits('the archive anchor of document 0');
  await consensus.commit();
  const beforeStamp = (await evidenceRecordFor(queries, genesisIn, e0!.hash))!.ers;
  // Document 1 and both requests commit before the next anchor can go (5 s apart).
  const [r0, r1, r2] = [e0!, e1!, e2!].map((e, i) =>
    hashRenewalTx(e, { nonce: 10 + i, createdAt: time.now(), request: { hash: sha512(renewedDocs[i]!) } }),
  );
  await consensus.commit([e1!]);
  await consensus.commit([r0!, r1!, r2!]);
  // The TSA now signs with a certificate that outlasts the first.
  const second = await renewingTsa(pkiIn, T + 70 * DAY, () => time.now());
  tsa.current = second;
  time.advance(70 * DAY);
  const stamping = await anchorWaits('the anchor stamping requests 0 and 2');
  await consensus.commit();
  const second2 = await anchorWaits('the anchor stamping request 1');
  await consensus.commit();
  const stop = async () => {
    await service.stop();
    await first.stop();
    await second.stop();
  };
  return {
    genesis: genesisIn,
    time,
    service,
    /** Another anchoring service on the same ledger (stop `service` first). */
    serviceWith,
    anchorWaits,
    tsa2: second,
    queries,
    consensus,
    e0: e0!,
    e1: e1!,
    e2: e2!,
    r0: r0!,
    r1: r1!,
    r2: r2!,
    stamping,
    second2,
    beforeStamp,
    stop,
  };
}

/**
 * After `ledgerRenewed`: a service renewing every token older than 5 days with a third TSA certificate (valid
 * from now to day 3071, the second's ending on day 3070). It renews the archives at once, then, a day at a
 * time, the archives and the stamps' chains once those are due. Returns both anchors, committed.
 */
export async function stampsRenewed(fx: Awaited<ReturnType<typeof ledgerRenewed>>, pkiIn: Pki) {
  const { time, consensus } = fx;
  await fx.service.stop();
  const third = await renewingTsa(pkiIn, time.now() + DAY, () => time.now());
  const renewing = fx.serviceWith(third, { beforeExpiryMs: DAY, maxAgeMs: 5 * DAY, checkIntervalMs: DAY });
  await renewing.start();
  const first = await fx.anchorWaits('the renewal of the archives');
  await consensus.commit();
  for (let i = 0; i < 10 && consensus.anchorsWaiting().length === 0; i++) {
    time.advance(DAY);
    await waitFor(
      async () => {
        time.advance(0);
        const next = (await renewing.status()).nextAttemptAt;
        return consensus.anchorsWaiting().length > 0 || (next !== undefined && next > time.now());
      },
      `the look on day ${i + 1}`,
    );
  }
  const waiting = consensus.anchorsWaiting();
  const second = waiting.length === 1 ? decodeAnchor(waiting[0]!.tx.payload) : undefined;
  await consensus.commit();
  const stop = async () => {
    await renewing.stop();
    await third.stop();
  };
  return { first, second, stop };
}
