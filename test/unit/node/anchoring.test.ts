/**
 * The anchoring service against an in-process embedded TSA and a memory ledger driven by a fake consensus,
 * on a stopped clock whose timers fire only when the test moves time: every wait is a condition, and every
 * figure (interval, backoff) is checked exactly.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAnchor } from '../../../src/core/anchor.ts';
import type { Genesis } from '../../../src/core/genesis.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import {
  type AnchoringDeps,
  type AnchoringOptions,
  AnchoringService,
  anchoringBackoff,
} from '../../../src/node/anchoring.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import { verifyReceipt } from '../../../src/receipt/receipt.ts';
import { TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { createGenesisTokenVerifier } from '../../../src/timestamp/genesis-verifier.ts';
import { FakeConsensus } from '../../helpers/fake-consensus.ts';
import {
  evidenceTx,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  testGenesis,
  validatorSigners,
} from '../../helpers/fixtures.ts';
import { ManualTime } from '../../helpers/manual-time.ts';
import { makePki, type Pki, startTsa } from '../../helpers/tsa.ts';
import { waitFor } from '../../helpers/wait.ts';

const T = TEST_GENESIS_TIME;
const INTERVAL = 5000;
const OPTIONS: AnchoringOptions = { intervalMs: INTERVAL, backoffBaseMs: 1000, backoffMaxMs: 8000 };
let pki: Pki;
let genesis: Genesis;

beforeAll(async () => {
  pki = await makePki();
  genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
});

async function setup(validator = 0) {
  const time = new ManualTime(T + 1000);
  const tsa = await startTsa(pki, T, { clock: () => time.now() });
  const verifier = createGenesisTokenVerifier(genesis.tsa);
  const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis, {
    tokenVerifier: verifier,
    anchorVerifier: verifier,
  });
  const queries = new LedgerQueries(chain.store, genesis);
  const consensus = new FakeConsensus(chain, () => time.now());
  const flags = { primary: true };
  let nonce = 0;
  const evidence = (): TxEnvelope => evidenceTx({ nonce: ++nonce, createdAt: time.now() });
  const serviceFor = (v: number, options: AnchoringOptions = {}, deps: Partial<AnchoringDeps> = {}) =>
    new AnchoringService(
      {
        tsa,
        chainId: genesis.chainId,
        institution: TEST_INSTITUTIONS[v]!,
        signer: validatorSigners()[v]!,
        ledger: queries,
        onHead: consensus.onHead,
        isPrimary: () => flags.primary,
        submit: consensus.submit,
        ...deps,
      },
      { ...OPTIONS, clock: time, timers: time, random: () => 0.5, ...options },
    );
  const service = serviceFor(validator);
  return { time, tsa, chain, queries, consensus, flags, evidence, service, serviceFor };
}

const anchoredHeights = (txs: TxEnvelope[]) => txs.map((t) => decodeAnchor(t.tx.payload).height);

describe('AnchoringService', () => {
  it('anchors a block with evidence at once, then at most once per interval, and idles when all is anchored', async () => {
    const { time, consensus, queries, evidence, service, tsa } = await setup();
    await service.start();
    const e1 = evidence();
    await consensus.commit([e1]);
    await waitFor(() => consensus.anchorsWaiting().length === 1, 'the first anchor');
    expect(anchoredHeights(consensus.anchorsWaiting())).toEqual([1]);

    // Block 2 records the anchor and new evidence; the next request may start an interval after the first.
    time.advance(1000);
    await consensus.commit([evidence()]);
    expect(queries.anchorState()).toEqual({ anchoredHeight: 1, evidenceHeight: 2 });
    const waiting = await service.status();
    expect(waiting).toMatchObject({ anchoredHeight: 1, headHeight: 2, lagBlocks: 1, inFlight: false });
    expect(waiting.nextAttemptAt).toBe(T + 1000 + INTERVAL);
    time.advance(INTERVAL - 1000 - 1);
    expect(consensus.anchorsWaiting()).toEqual([]);
    time.advance(1);
    await waitFor(() => consensus.anchorsWaiting().length === 1, 'the second anchor');
    expect(anchoredHeights(consensus.anchorsWaiting())).toEqual([2]);

    // Block 3 holds only the anchor: nothing awaits another one, however long we wait.
    await consensus.commit();
    const idle = await service.status();
    expect(idle).toMatchObject({ anchoredHeight: 2, headHeight: 3, lagBlocks: 0, lagMs: 0 });
    expect(idle.nextAttemptAt).toBeUndefined();
    expect(time.timers).toEqual([]);
    time.advance(10 * INTERVAL);
    expect(consensus.anchorsWaiting()).toEqual([]);
    expect(consensus.rejected).toEqual([]);

    const receipt = await receiptFor(queries, genesis, e1.hash);
    const v = await verifyReceipt(receipt, { genesis, requireAnchor: true });
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    await service.stop();
    await tsa.stop();
  });

  it('keeps blocks committing while the TSA is down, backs off up to the cap, then one anchor catches up', async () => {
    const { time, consensus, queries, evidence, service, tsa } = await setup();
    await tsa.stop();
    await service.start();
    const first = evidence();
    await consensus.commit([first]);
    // A failure is settled once its retry is scheduled.
    const failed = (n: number) =>
      waitFor(async () => {
        const s = await service.status();
        return s.consecutiveFailures === n && s.nextAttemptAt !== undefined;
      }, `failure ${n}`);
    await failed(1);

    const delays: number[] = [];
    for (let failures = 2; failures <= 6; failures++) {
      const before = await service.status();
      expect(before.lastError?.code).toBe(TimestampErrorCode.notStarted);
      delays.push(before.nextAttemptAt! - before.lastError!.at);
      time.advance(100);
      await consensus.commit([evidence()]); // consensus does not wait for the TSA
      time.advance(before.nextAttemptAt! - time.now());
      await failed(failures);
    }
    // Doubling from 1 s with equal jitter at 0.5 (3/4 of the ceiling), capped at 8 s.
    expect(delays).toEqual([750, 1500, 3000, 6000, 6000]);
    const down = await service.status();
    expect(down).toMatchObject({ anchoredHeight: 0, headHeight: 6, lagBlocks: 6 });
    // The oldest unanchored evidence (block 1) has waited through every backoff.
    expect(down.lagMs).toBe(time.now() - (T + 1000));
    expect(down.lagMs).toBe(delays.reduce((a, b) => a + b));
    expect(consensus.anchorsWaiting()).toEqual([]);

    await tsa.start();
    time.advance(down.nextAttemptAt! - time.now());
    await waitFor(() => consensus.anchorsWaiting().length === 1, 'the catch-up anchor');
    expect(anchoredHeights(consensus.anchorsWaiting())).toEqual([6]);
    await consensus.commit();
    const caughtUp = await service.status();
    expect(caughtUp).toMatchObject({ anchoredHeight: 6, lagBlocks: 0, consecutiveFailures: 0 });
    expect(caughtUp.lastError).toBeUndefined();

    // The earliest block's receipt now carries the anchor, through the five headers after it.
    const receipt = await receiptFor(queries, genesis, first.hash);
    expect(receipt!.anchor!.headers).toHaveLength(5);
    expect((await verifyReceipt(receipt, { genesis, requireAnchor: true })).ok).toBe(true);
    await service.stop();
    await tsa.stop();
  });

  it('anchors only as the primary, and looks again each interval for a view change', async () => {
    const { time, consensus, flags, evidence, service, tsa } = await setup();
    flags.primary = false;
    await service.start();
    await consensus.commit([evidence()]);
    expect((await service.status()).nextAttemptAt).toBe(time.now() + INTERVAL);
    time.advance(INTERVAL);
    expect(consensus.anchorsWaiting()).toEqual([]);
    flags.primary = true;
    time.advance(INTERVAL);
    await waitFor(() => consensus.anchorsWaiting().length === 1, 'an anchor from the new primary');
    await service.stop();
    await tsa.stop();
  });

  it('two validators racing at a view change: the second anchor is stale and refused', async () => {
    const { consensus, evidence, service, serviceFor, queries, tsa } = await setup();
    const other = serviceFor(1);
    await consensus.commit([evidence()]);
    await service.start();
    await other.start();
    await waitFor(() => consensus.anchorsWaiting().length === 2, 'an anchor from each');
    await consensus.commit();
    expect(queries.anchorState().anchoredHeight).toBe(1);
    expect(consensus.rejected.map((r) => r.code)).toEqual([TxErrorCode.anchorStale]);
    await Promise.all([service.stop(), other.stop()]);
    await tsa.stop();
  });

  it('counts a submission the mempool refuses as a failure, with its TX code', async () => {
    const { time, consensus, evidence, serviceFor, tsa } = await setup();
    // Institution bank-b with validator 0's key: admission refuses the signature.
    const wrong = serviceFor(0, {}, { institution: 'bank-b' });
    await wrong.start();
    await consensus.commit([evidence()]);
    await waitFor(async () => (await wrong.status()).consecutiveFailures === 1, 'the refusal');
    const s = await wrong.status();
    expect(s.lastError).toMatchObject({ code: TxErrorCode.badSignature, at: time.now() });
    expect(s.nextAttemptAt).toBe(time.now() + 750);
    expect(consensus.mempool).toEqual([]);
    await wrong.stop();
    await tsa.stop();
  });

  it('stops: a request in flight is abandoned, no timers remain, and new blocks are ignored', async () => {
    const { time, consensus, evidence, serviceFor, tsa } = await setup();
    // A TSA that answers only by failing when its caller aborts, as the HTTP client does.
    const hanging = {
      stamp: (_d: Uint8Array, _a: unknown, o?: { signal?: AbortSignal }) =>
        new Promise<never>((_, reject) =>
          o?.signal?.addEventListener('abort', () => reject(o.signal!.reason)),
        ),
    };
    const service = serviceFor(0, {}, { tsa: hanging });
    await service.start();
    await consensus.commit([evidence()]);
    await waitFor(async () => (await service.status()).inFlight, 'the request in flight');
    await service.stop();
    const stopped = await service.status();
    expect(stopped).toMatchObject({ running: false, inFlight: false, consecutiveFailures: 0 });
    expect(stopped.lastError).toBeUndefined();
    await consensus.commit([evidence()]);
    expect(time.timers).toEqual([]);
    time.advance(10 * INTERVAL);
    expect(consensus.anchorsWaiting()).toEqual([]);
    await tsa.stop();
  });
});

describe('anchoringBackoff and options', () => {
  it('doubles from the base, caps, and jitters between half and all of the ceiling', () => {
    expect([1, 2, 3, 4, 5, 40].map((f) => anchoringBackoff(f, 1000, 8000, () => 0))).toEqual([
      500, 1000, 2000, 4000, 4000, 4000,
    ]);
    expect([1, 2, 5].map((f) => anchoringBackoff(f, 1000, 8000, () => 0.999_999))).toEqual([
      1000, 2000, 8000,
    ]);
  });

  it('refuses unusable options', async () => {
    const { serviceFor, tsa } = await setup();
    for (const bad of [{ intervalMs: 0 }, { backoffBaseMs: 1.5 }, { txTtlMs: -1 }, { backoffBaseMs: 9000 }]) {
      expect(() => serviceFor(0, bad)).toThrow(
        expect.objectContaining({ code: TimestampErrorCode.badInput }),
      );
    }
    await tsa.stop();
  });
});
