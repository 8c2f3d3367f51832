import { describe, expect, it } from 'vitest';
import { DEFAULT_REPLICA_OPTIONS } from '../../../src/consensus/types.ts';
import { DEFAULT_CONSENSUS_PARAMS } from '../../../src/core/params.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import type { TxRejection } from '../../../src/ledger/chain.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import {
  ADMISSION_ROUND_TXS,
  DEFAULT_MEMPOOL_LIMITS,
  isForwarderFault,
  LOCAL_SHARE,
  Mempool,
  type MempoolLimits,
  MempoolRejection,
} from '../../../src/node/mempool.ts';
import { evidenceTx, TEST_GENESIS_TIME } from '../../helpers/fixtures.ts';

const T = TEST_GENESIS_TIME + 10_000;

function txs(n: number, from = 1, ttlMs = 60_000): TxEnvelope[] {
  return Array.from({ length: n }, (_, k) => evidenceTx({ nonce: from + k, createdAt: T, ttlMs }));
}

class Harness {
  now = T;
  readonly verdicts = new Map<string, string>();
  readonly committed = new Set<string>();
  readonly admitted: [string, boolean][] = [];
  /** Txs checked, in all. */
  checks = 0;
  /** Size of each Chain.checkTxs call (one per admission round). */
  readonly rounds: number[] = [];
  /** Size of each onAdmitted call. */
  readonly admittedCalls: number[] = [];
  release: (() => void) | undefined;
  readonly pool: Mempool;

  constructor(limits: MempoolLimits = { maxTxs: 100, maxBytes: 1_000_000 }) {
    this.pool = new Mempool(
      {
        chain: {
          checkTxs: async (envs): Promise<(TxRejection | undefined)[]> => {
            this.checks += envs.length;
            this.rounds.push(envs.length);
            if (this.release) await new Promise<void>((r) => (this.release = r));
            return envs.map((env) => {
              const code = this.verdicts.get(env.hashHex);
              return code === undefined ? undefined : { hash: env.hash, code, message: code };
            });
          },
        },
        defer: (run) => {
          setImmediate(() => {
            run();
            for (const w of this.#roundWaiters.splice(0)) w();
          });
        },
        isCommitted: async (hash) => this.committed.has(Buffer.from(hash).toString('hex')),
        now: () => this.now,
        onAdmitted: (admitted) => {
          this.admittedCalls.push(admitted.length);
          for (const a of admitted) this.admitted.push([a.env.hashHex, a.local]);
        },
      },
      limits,
    );
  }

  readonly #roundWaiters: (() => void)[] = [];

  /** Resolves once the next admission round has started (its checkTxs call is made). */
  roundStarted(): Promise<void> {
    return new Promise((r) => this.#roundWaiters.push(r));
  }
}

describe('Mempool', () => {
  it('admits once: accepted, then pending; reports who submitted it', async () => {
    const h = new Harness();
    const [a, b] = txs(2);
    expect(await h.pool.admit(a!, true)).toEqual({ status: 'accepted' });
    expect(await h.pool.admit(a!, false)).toEqual({ status: 'pending' });
    expect(await h.pool.admit(b!, false)).toEqual({ status: 'accepted' });
    expect(h.admitted).toEqual([
      [a!.hashHex, true],
      [b!.hashHex, false],
    ]);
    expect(h.checks).toBe(2);
    expect(h.pool.size).toBe(2);
    expect(h.pool.bytes).toBe(a!.bytes.length + b!.bytes.length);
  });

  it('a tx submitted twice at once is checked once', async () => {
    const h = new Harness();
    const [a] = txs(1);
    h.release = () => {};
    const first = h.pool.admit(a!, true);
    await h.roundStarted();
    const second = await h.pool.admit(a!, true);
    expect(second).toEqual({ status: 'pending' });
    h.release();
    expect(await first).toEqual({ status: 'accepted' });
    expect(h.checks).toBe(1);
  });

  it('gives the held envelope by hash, while being admitted and once pooled, not after commit', async () => {
    const h = new Harness();
    const [a, b] = txs(2);
    h.release = () => {};
    const first = h.pool.admit(a!, true);
    await h.roundStarted();
    expect(h.pool.get(a!.hashHex)).toBe(a);
    h.release();
    await first;
    expect(h.pool.get(a!.hashHex)).toBe(a);
    expect(h.pool.get(b!.hashHex)).toBeUndefined();
    h.pool.removeCommitted([a!]);
    expect(h.pool.get(a!.hashHex)).toBeUndefined();
  });

  it('says committed for a committed tx (TX_DUPLICATE from the ledger), and passes other rejections on', async () => {
    const h = new Harness();
    const [a, b] = txs(2);
    h.verdicts.set(a!.hashHex, TxErrorCode.duplicate);
    h.verdicts.set(b!.hashHex, TxErrorCode.badSignature);
    expect(await h.pool.admit(a!, true)).toEqual({ status: 'committed' });
    const r = await h.pool.admit(b!, true);
    expect(r.status === 'rejected' && r.rejection.code).toBe(TxErrorCode.badSignature);
    expect(h.pool.size).toBe(0);
  });

  it('is bounded by count and by bytes, and still recognises committed txs when full', async () => {
    const byCount = new Harness({ maxTxs: 2, maxBytes: 1_000_000 });
    const [a, b, c, d] = txs(4);
    await byCount.pool.admit(a!, true);
    await byCount.pool.admit(b!, true);
    const full = await byCount.pool.admit(c!, true);
    expect(full.status === 'rejected' && full.rejection.code).toBe(MempoolRejection.full);
    byCount.committed.add(d!.hashHex);
    expect(await byCount.pool.admit(d!, true)).toEqual({ status: 'committed' });

    const byBytes = new Harness({ maxTxs: 100, maxBytes: a!.bytes.length + 10 });
    await byBytes.pool.admit(a!, true);
    const r = await byBytes.pool.admit(b!, true);
    expect(r.status === 'rejected' && r.rejection.code).toBe(MempoolRejection.full);
  });

  it('keeps a quarter of its bounds for forwarded txs: clients get MEMPOOL_FULL first', async () => {
    const h = new Harness({ maxTxs: 4, maxBytes: 1_000_000 });
    const [a, b, c, d, e, f] = txs(6);
    for (const t of [a, b, c]) expect(await h.pool.admit(t!, true)).toEqual({ status: 'accepted' });
    const local = await h.pool.admit(d!, true);
    expect(local.status === 'rejected' && local.rejection.code).toBe(MempoolRejection.full);
    expect(await h.pool.admit(e!, false)).toEqual({ status: 'accepted' });
    const forwarded = await h.pool.admit(f!, false);
    expect(forwarded.status === 'rejected' && forwarded.rejection.code).toBe(MempoolRejection.full);
    expect(h.pool.size).toBe(4);

    const size = a!.bytes.length;
    const byBytes = new Harness({ maxTxs: 100, maxBytes: 4 * size });
    for (const t of [a, b, c]) expect(await byBytes.pool.admit(t!, true)).toEqual({ status: 'accepted' });
    const r = await byBytes.pool.admit(d!, true);
    expect(r.status === 'rejected' && r.rejection.code).toBe(MempoolRejection.full);
    expect(await byBytes.pool.admit(e!, false)).toEqual({ status: 'accepted' });
  });

  it('drops committed txs and returns when they arrived; sweeps expired ones', async () => {
    const h = new Harness();
    const [a, b] = txs(2, 1, 60_000);
    const [short] = txs(1, 10, 1000);
    await h.pool.admit(a!, true);
    h.now = T + 500;
    await h.pool.admit(b!, true);
    await h.pool.admit(short!, true);
    expect(h.pool.removeCommitted([b!, a!])).toEqual([T + 500, T]);
    expect(h.pool.removeCommitted([a!])).toEqual([]);
    expect(h.pool.sweepExpired(T + 1000)).toEqual([]);
    expect(h.pool.sweepExpired(T + 1001).map((x) => Buffer.from(x).toString('hex'))).toEqual([
      short!.hashHex,
    ]);
    expect(h.pool.size).toBe(0);
    expect(h.pool.bytes).toBe(0);
  });

  it('takes nothing once closed, not even a tx whose check was in flight', async () => {
    const h = new Harness();
    const [a, b] = txs(2);
    h.release = () => {};
    const inFlight = h.pool.admit(a!, true);
    await h.roundStarted();
    h.pool.close();
    h.release();
    for (const r of [await inFlight, await h.pool.admit(b!, true)]) {
      expect(r.status === 'rejected' && r.rejection.code).toBe(MempoolRejection.stopped);
    }
    expect(h.admitted).toEqual([]);
  });

  it('turns a failing ledger into a rejection, not a throw', async () => {
    const pool = new Mempool({
      chain: { checkTxs: async () => Promise.reject(new Error('store closed')) },
      isCommitted: async () => false,
      now: () => T,
      onAdmitted: () => {},
    });
    const r = await pool.admit(txs(1)[0]!, true);
    expect(r.status === 'rejected' && r.rejection.code).toBe('MEMPOOL_ADMISSION_FAILED');
  });

  it('checks txs that arrive together in one round, each on its own verdict, and reports them at once', async () => {
    const h = new Harness();
    const batch = txs(5);
    h.verdicts.set(batch[1]!.hashHex, TxErrorCode.badSignature);
    h.verdicts.set(batch[3]!.hashHex, TxErrorCode.duplicate);
    const [single, many] = await Promise.all([
      h.pool.admit(batch[0]!, true),
      h.pool.admitMany(batch.slice(1), false),
    ]);
    expect(single).toEqual({ status: 'accepted' });
    expect(many.map((r) => (r.status === 'rejected' ? r.rejection.code : r.status))).toEqual([
      TxErrorCode.badSignature,
      'accepted',
      'committed',
      'accepted',
    ]);
    expect(h.rounds).toEqual([5]);
    expect(h.admittedCalls).toEqual([3]);
    expect(h.admitted).toEqual([
      [batch[0]!.hashHex, true],
      [batch[2]!.hashHex, false],
      [batch[4]!.hashHex, false],
    ]);
    expect(h.pool.size).toBe(3);
  });

  it(`splits a large arrival into rounds of at most ${ADMISSION_ROUND_TXS} txs`, async () => {
    const n = ADMISSION_ROUND_TXS * 2 + 3;
    const h = new Harness({ maxTxs: n, maxBytes: 100_000_000 });
    const out = await h.pool.admitMany(txs(n), false);
    expect(out.every((r) => r.status === 'accepted')).toBe(true);
    expect(h.rounds).toEqual([ADMISSION_ROUND_TXS, ADMISSION_ROUND_TXS, 3]);
    expect(h.pool.size).toBe(n);
  });

  it('counts txs waiting for their round against the bounds', async () => {
    const h = new Harness({ maxTxs: 2, maxBytes: 1_000_000 });
    const [a, b, c] = txs(3);
    const out = await h.pool.admitMany([a!, b!, c!], true);
    expect(out.map((r) => (r.status === 'rejected' ? r.rejection.code : r.status))).toEqual([
      'accepted',
      'accepted',
      MempoolRejection.full,
    ]);
    expect(h.checks).toBe(2);
  });

  it('blames a forwarder only for what no honest validator forwards', () => {
    const fault = (code: string) => isForwarderFault({ hash: new Uint8Array(32), code, message: '' });
    expect(fault(TxErrorCode.badSignature)).toBe(true);
    expect(fault(TxErrorCode.unknownKey)).toBe(true);
    expect(fault(TxErrorCode.duplicate)).toBe(false);
    expect(fault(TxErrorCode.expired)).toBe(false);
    expect(fault(MempoolRejection.full)).toBe(false);
  });
});

describe('the default mempool bounds', () => {
  it('hold the batches a primary pipelines, and no more than a memory budget of txs', () => {
    const p = DEFAULT_CONSENSUS_PARAMS;
    const inFlight = DEFAULT_REPLICA_OPTIONS.maxBatchesInFlight;
    // Room, in the clients' share, for the full batches in flight and the next one, so the pool never
    // throttles a healthy chain.
    expect(DEFAULT_MEMPOOL_LIMITS.maxTxs * LOCAL_SHARE).toBeGreaterThanOrEqual(
      (inFlight + 1) * p.maxBatchTxs,
    );
    expect(DEFAULT_MEMPOOL_LIMITS.maxBytes * LOCAL_SHARE).toBeGreaterThanOrEqual(
      (inFlight + 1) * p.maxBatchBytes,
    );
    // No more than that, times a few: a pooled tx costs several times its encoding, and a validator has 300 MiB.
    expect(DEFAULT_MEMPOOL_LIMITS.maxTxs).toBeLessThanOrEqual(10_000);
    expect(DEFAULT_MEMPOOL_LIMITS.maxBytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(DEFAULT_MEMPOOL_LIMITS.maxTxs).toBeLessThanOrEqual(DEFAULT_REPLICA_OPTIONS.maxPendingTxs);
  });
});
