import { describe, expect, it } from 'vitest';
import { type PrePrepare, withSignature } from '../../../../src/consensus/messages.ts';
import { type Batch, batchDigest } from '../../../../src/core/batch.ts';
import { toHex } from '../../../../src/core/bytes.ts';
import type { TxEnvelope } from '../../../../src/core/tx.ts';
import {
  decodeCompactPrePrepare,
  encodeCompactPrePrepare,
} from '../../../../src/node/net/compact-pre-prepare.ts';
import { SyncError, SyncErrorCode } from '../../../../src/node/net/errors.ts';
import {
  decodeSyncRequest,
  encodeSyncRequest,
  encodeTxsResponse,
  type SyncRequest,
} from '../../../../src/node/net/sync-messages.ts';
import { SyncServer } from '../../../../src/node/net/sync-server.ts';
import { TxResolver } from '../../../../src/node/net/tx-resolver.ts';
import type { Verdict } from '../../../../src/p2p/index.ts';
import { evidenceTx, testGenesis, validatorSigners } from '../../../helpers/fixtures.ts';

const g = testGenesis();
const signer = validatorSigners()[1]!;
const txs = [1, 2, 3, 4].map((nonce) => evidenceTx({ nonce }));
const batch: Batch = { proposer: 1, view: 0, time: 1_800_000_000_000, txs };
const full = withSignature<PrePrepare>(
  { type: 'prePrepare', chainId: g.chainId, from: 1, view: 0, seq: 3, batch, digest: batchDigest(batch) },
  (d, b) => signer.sign(d, b),
);
const compact = decodeCompactPrePrepare(encodeCompactPrePrepare(full));

/** The primary's side: a sync server over its one batch, behind a host that records what it was asked. */
function primary(answer?: (req: SyncRequest) => Uint8Array | Promise<Uint8Array>) {
  const asked: SyncRequest[] = [];
  const reports: Verdict[] = [];
  const server = new SyncServer({
    store: { head: () => undefined, block: async () => undefined, blockTxBytes: async () => undefined },
    stable: () => ({ seq: 0, headerHash: new Uint8Array(32), signatures: [] }),
    batchFor: (d) => (toHex(d) === toHex(full.digest) ? batch : undefined),
    maxResponseBytes: 1 << 20,
  });
  const host = {
    request: async (_peer: string, _protocol: string, frame: Uint8Array) => {
      const req = decodeSyncRequest(frame);
      asked.push(req);
      if (answer !== undefined) return answer(req);
      const r = await server.handle(frame, new AbortController().signal);
      if (!(r instanceof Uint8Array)) throw new Error('refused');
      return r;
    },
    report: (_peer: string, _protocol: string, v: Verdict) => {
      reports.push(v);
    },
  };
  return { host, asked, reports };
}

function resolverHolding(held: readonly TxEnvelope[], p: ReturnType<typeof primary>): TxResolver {
  const byHex = new Map(held.map((t) => [t.hashHex, t]));
  return new TxResolver({ host: p.host, lookup: (h) => byHex.get(h), requestTimeoutMs: 1000 });
}

async function failure(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'resolved';
  } catch (err) {
    return err instanceof SyncError ? err.code : String(err);
  }
}

describe('TxResolver', () => {
  it('fills a compact PRE-PREPARE from held txs without asking anyone, the very same envelopes', async () => {
    const p = primary();
    const r = resolverHolding(txs, p);
    const m = await r.resolve('primary', compact);
    expect(m).toEqual(full);
    m.batch.txs.forEach((t, i) => {
      expect(t).toBe(txs[i]);
    });
    expect(p.asked).toEqual([]);
    expect(r.stats()).toEqual({ resolved: 1, fetches: 0, fetchedTxs: 0 });
  });

  it('fetches only the missing txs, by index, from the primary in one request', async () => {
    const p = primary();
    const r = resolverHolding([txs[0]!, txs[2]!], p);
    const m = await r.resolve('primary', compact);
    expect(m).toEqual(full);
    expect(p.asked).toEqual([{ kind: 'txs', digest: full.digest, indexes: [1, 3] }]);
    expect(r.stats()).toEqual({ resolved: 1, fetches: 1, fetchedTxs: 2 });
  });

  it('refuses, as the peer fault, txs other than those named', async () => {
    const p = primary(() => encodeTxsResponse([txs[0]!]));
    const r = resolverHolding([txs[0]!, txs[2]!, txs[3]!], p);
    expect(await failure(r.resolve('primary', compact))).toBe(SyncErrorCode.badResponse);
    expect(p.reports.map((v) => v.action)).toEqual(['reject']);
    const garbage = primary(() => new Uint8Array([1, 4, 7]));
    expect(await failure(resolverHolding([], garbage).resolve('primary', compact))).toBe(
      SyncErrorCode.badResponse,
    );
  });

  it('gives up, without blaming the peer, when the primary holds no such batch or does not answer', async () => {
    const unknown = primary(() => encodeTxsResponse(undefined));
    expect(await failure(resolverHolding([], unknown).resolve('primary', compact))).toBe(
      SyncErrorCode.txsUnavailable,
    );
    expect(unknown.reports).toEqual([]);
    const silent = primary(() => Promise.reject(new Error('timeout')));
    expect(await failure(resolverHolding([], silent).resolve('primary', compact))).toBe(
      SyncErrorCode.txsUnavailable,
    );
  });
});

describe('the txs sync request', () => {
  it('round-trips, and decodes strictly (indexes strictly increasing, at least one)', () => {
    const req: SyncRequest = { kind: 'txs', digest: new Uint8Array(32).fill(5), indexes: [0, 4, 9] };
    expect(decodeSyncRequest(encodeSyncRequest(req))).toEqual(req);
    for (const indexes of [[], [3, 3], [4, 2]]) {
      const bad = encodeSyncRequest({ kind: 'txs', digest: new Uint8Array(32), indexes });
      expect(() => decodeSyncRequest(bad)).toThrow();
    }
  });

  it('is answered not found for an unknown batch or an index past its end', async () => {
    const p = primary();
    const r = new TxResolver({ host: p.host, lookup: () => undefined, requestTimeoutMs: 1000 });
    const past = {
      ...compact,
      hashes: [...compact.hashes, compact.hashes[0]!],
      hashHex: [...compact.hashHex, 'not held'],
    };
    expect(await failure(r.resolve('primary', past))).toBe(SyncErrorCode.txsUnavailable);
    const other = { ...compact, digest: new Uint8Array(32) };
    expect(await failure(r.resolve('primary', other))).toBe(SyncErrorCode.txsUnavailable);
  });
});
