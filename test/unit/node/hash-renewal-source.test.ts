/**
 * The stamping job's view of the ledger (ledgerHashRenewalSource, ADR 018): the unstamped requests, read
 * incrementally from the request list (0x14): after the first call it reads only the blocks committed since,
 * and drops the requests stamped since.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import type { LedgerQueries } from '../../../src/ledger/queries.ts';
import { ledgerHashRenewalSource } from '../../../src/receipt/hash-renewals.ts';
import { evidenceTx, hashRenewalTx, TEST_GENESIS_TIME as T, testGenesis } from '../../helpers/fixtures.ts';
import { ledgerRenewed } from '../../helpers/ledger-renewal.ts';
import { DAY, makePki } from '../../helpers/tsa.ts';

const sha512 = (b: Uint8Array) => new Uint8Array(createHash('sha512').update(b).digest());

describe('the stamping job’s source of requests', () => {
  it('reads only requests committed since its last look, and forgets the stamped ones', async () => {
    const pki = await makePki({ tsaValidity: [T - DAY, T + 100 * DAY] });
    const fx = await ledgerRenewed(pki, testGenesis({ tsa: { trustAnchors: [pki.rootPem] } }));
    await fx.service.stop();
    const q = fx.queries;
    const scans: number[] = [];
    const spy = {
      head: () => q.head(),
      hashRenewalStampOf: (r: Uint8Array) => q.hashRenewalStampOf(r),
      hashRenewalRequestsFrom: (h: number) => {
        scans.push(h);
        return q.hashRenewalRequestsFrom(h);
      },
    } as unknown as LedgerQueries;
    const source = ledgerHashRenewalSource(spy);
    const ids = async () => (await source.unstamped()).map((r) => r.env.hashHex);

    // The three requests of the fixture are stamped: none waits.
    expect(await ids()).toEqual([]);
    const head = q.head().height;
    expect(scans).toEqual([1]);
    expect(await ids()).toEqual([]);
    expect(scans).toEqual([1, head + 1]);

    const doc = utf8.encode('settlement');
    const e = evidenceTx({ nonce: 30, createdAt: fx.time.now(), evidence: { hash: sha256(doc) } });
    await fx.consensus.commit([e]);
    const r = hashRenewalTx(e, { nonce: 31, createdAt: fx.time.now(), request: { hash: sha512(doc) } });
    await fx.consensus.commit([r]);
    expect(await ids()).toEqual([r.hashHex]);
    expect(scans.at(-1)).toBe(head + 1);
    // It stays waiting without being read again from the list.
    expect(await ids()).toEqual([r.hashHex]);
    expect(scans.at(-1)).toBe(q.head().height + 1);
    expect(await q.unstampedHashRenewals()).toEqual(await source.unstamped());

    const service = fx.serviceWith({ stamp: (...args) => fx.tsa2.stamp(...args) });
    await service.start();
    // One anchor archives its evidence, the next stamps it (a request waits for its evidence's archive).
    await fx.anchorWaits('the anchor archiving the new evidence');
    await fx.consensus.commit();
    expect(await ids()).toEqual([r.hashHex]);
    await fx.anchorWaits('the anchor stamping the new request');
    await fx.consensus.commit();
    await service.stop();
    expect(await q.unstampedHashRenewals()).toEqual([]);
    expect(await ids()).toEqual([]);
    await fx.stop();
  });
});
