/**
 * The primary's hash-tree renewal job (ADR 018) on a fake source and TSA: which requests it stamps, under
 * which hash, how many per anchor, which it defers, and that it offers none twice while an anchor awaits commit.
 */
import { describe, expect, it } from 'vitest';
import { MAX_HASH_RENEWALS } from '../../../src/core/anchor.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { digest } from '../../../src/core/crypto.ts';
import type { LedgerTx } from '../../../src/ledger/store.ts';
import { HashRenewalJob } from '../../../src/node/hash-renewal-job.ts';
import type { TimestampAuthority } from '../../../src/timestamp/authority.ts';
import { indexedTree, rootOf } from '../../../src/timestamp/ers-tree.ts';
import { evidenceTx, hashRenewalTx } from '../../helpers/fixtures.ts';

const request = (i: number, hashAlg: 'sha384' | 'sha512' = 'sha512'): LedgerTx => {
  const env = hashRenewalTx(evidenceTx({ nonce: i }), {
    nonce: 1000 + i,
    request: { hashAlg, hash: new Uint8Array(hashAlg === 'sha512' ? 64 : 48).fill(i % 256) },
  });
  return { env, height: 2, index: i, blockTime: 0 };
};

/** A source whose leaves are H'(tx hash), except for the requests listed as not archived. */
function fakeSource(requests: LedgerTx[], notArchived = new Set<string>()) {
  const calls: string[] = [];
  return {
    calls,
    unstamped: async () => requests,
    leafOf: async (tx: LedgerTx) => {
      calls.push(tx.env.hashHex);
      return notArchived.has(tx.env.hashHex) ? undefined : digest('sha512', tx.env.hash);
    },
  };
}

function fakeTsa() {
  const asked: { digest: string; alg: string }[] = [];
  const tsa: TimestampAuthority = {
    stamp: async (d, alg) => {
      asked.push({ digest: toHex(d), alg });
      return { token: Uint8Array.of(0x30, asked.length), genTime: new Date(0) } as never;
    },
  };
  return { tsa, asked };
}

describe('HashRenewalJob', () => {
  it('stamps the archived requests under the first one’s hash, with one token over their tree root', async () => {
    const reqs = [request(1), request(2, 'sha384'), request(3), request(4)];
    const src = fakeSource(reqs, new Set([reqs[3]!.env.hashHex]));
    const job = new HashRenewalJob(src);
    const { tsa, asked } = fakeTsa();
    const stamp = (await job.stamp(tsa, 5, 1000, {}))!;
    expect(stamp.hashAlg).toBe('sha512');
    // Request 2 waits for a sha384 stamp, request 4 for an archive.
    expect(stamp.requests.map(toHex)).toEqual([reqs[0]!.env.hashHex, reqs[2]!.env.hashHex]);
    const leaves = [reqs[0]!, reqs[2]!].map((r) => digest('sha512', r.env.hash));
    expect(stamp.root).toEqual(rootOf(indexedTree('sha512', leaves).levels));
    expect(asked).toEqual([{ digest: toHex(stamp.root), alg: 'sha512' }]);
    expect(stamp.token).toEqual(Uint8Array.of(0x30, 1));
  });

  it('offers nothing without archived requests, and asks the TSA nothing', async () => {
    const reqs = [request(1)];
    const job = new HashRenewalJob(fakeSource(reqs, new Set([reqs[0]!.env.hashHex])));
    const { tsa, asked } = fakeTsa();
    expect(await job.ready(5, 1000)).toEqual([]);
    expect(await job.stamp(tsa, 5, 1000, {})).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('does not offer a submitted request again until its anchor tx expires', async () => {
    const reqs = [request(1), request(2)];
    const job = new HashRenewalJob(fakeSource(reqs));
    const { tsa } = fakeTsa();
    const first = (await job.stamp(tsa, 5, 1000, {}))!;
    job.submitted(first, 61_000);
    expect(await job.ready(5, 60_999)).toEqual([]);
    expect(await job.stamp(tsa, 5, 60_999, {})).toBeUndefined();
    // Never committed (the tx expired): both are offered again.
    expect((await job.ready(5, 61_000)).map((r) => toHex(r.request))).toEqual(reqs.map((r) => r.env.hashHex));
  });

  it(`stamps at most ${MAX_HASH_RENEWALS} requests per anchor; the rest go in the next`, async () => {
    const reqs = Array.from({ length: MAX_HASH_RENEWALS + 2 }, (_, i) => request(i + 1));
    const job = new HashRenewalJob(fakeSource(reqs));
    const { tsa } = fakeTsa();
    const first = (await job.stamp(tsa, 5, 1000, {}))!;
    expect(first.requests).toHaveLength(MAX_HASH_RENEWALS);
    job.submitted(first, 61_000);
    const second = (await job.stamp(tsa, 5, 1000, {}))!;
    expect(second.requests.map(toHex)).toEqual(reqs.slice(MAX_HASH_RENEWALS).map((r) => r.env.hashHex));
  });

  it('computes a leaf once per anchored height: a new anchor may change the first chain', async () => {
    const reqs = [request(1)];
    const src = fakeSource(reqs);
    const job = new HashRenewalJob(src);
    await job.ready(5, 1000);
    await job.ready(5, 2000);
    expect(src.calls).toHaveLength(1);
    await job.ready(6, 3000);
    expect(src.calls).toHaveLength(2);
  });

  it('offers nothing while paused after a failed stamp, and says until when', async () => {
    const job = new HashRenewalJob(fakeSource([request(1)]));
    job.pause(5000);
    expect(await job.ready(5, 4999)).toEqual([]);
    expect(job.pausedUntil(4999)).toBe(5000);
    expect(job.pausedUntil(5000)).toBeUndefined();
    expect(await job.ready(5, 5000)).toHaveLength(1);
  });
});
