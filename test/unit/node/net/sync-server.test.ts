import { beforeAll, describe, expect, it } from 'vitest';
import { type Batch, batchDigest } from '../../../../src/core/batch.ts';
import { toHex } from '../../../../src/core/bytes.ts';
import { CodecError } from '../../../../src/core/codec.ts';
import { genesisHash } from '../../../../src/core/genesis.ts';
import {
  decodeBatchResponse,
  decodeBlocksResponse,
  decodeBlockTxs,
  decodeRawBlocksResponse,
  decodeSigsResponse,
  decodeStatusResponse,
  decodeSyncRequest,
  encodeSyncRequest,
  SYNC_MAX_BLOCKS,
  type SyncRequest,
  signaturesDigest,
} from '../../../../src/node/net/sync-messages.ts';
import { SyncServer } from '../../../../src/node/net/sync-server.ts';
import { genesis } from '../../../helpers/ledger.ts';
import { batchesOf, type SyncSource, syncSource } from '../../../helpers/sync-source.ts';

const signal = new AbortController().signal;
let source: SyncSource;
beforeAll(async () => {
  source = await syncSource(batchesOf(6));
});

function serverOver(
  maxResponseBytes: number,
  batchFor: (digest: Uint8Array) => Batch | undefined = () => undefined,
) {
  const stable = () => ({ seq: 0, headerHash: genesisHash(genesis()), signatures: [] });
  return new SyncServer({ store: source.store, stable, batchFor, maxResponseBytes });
}

async function ask(server: SyncServer, req: SyncRequest): Promise<Uint8Array> {
  const answer = await server.handle(encodeSyncRequest(req), signal);
  if (!(answer instanceof Uint8Array)) throw new Error(`refused: ${JSON.stringify(answer)}`);
  return answer;
}

describe('sync requests', () => {
  it('round-trip, and decode strictly', () => {
    const reqs: SyncRequest[] = [
      { kind: 'status' },
      { kind: 'blocks', from: 7, count: 300 },
      { kind: 'batch', digest: new Uint8Array(32).fill(3) },
      { kind: 'sigs', from: 3, count: SYNC_MAX_BLOCKS },
    ];
    for (const r of reqs) expect(decodeSyncRequest(encodeSyncRequest(r))).toEqual(r);
    const blocks = encodeSyncRequest({ kind: 'blocks', from: 1, count: 1 });
    for (const bad of [
      new Uint8Array([...blocks, 0]),
      new Uint8Array([2, ...blocks.subarray(1)]),
      new Uint8Array([1, 9]),
      new Uint8Array([1, 2, 0, 1]), // from 0
      encodeSyncRequest({ kind: 'blocks', from: 1, count: SYNC_MAX_BLOCKS + 1 }),
    ]) {
      expect(() => decodeSyncRequest(bad)).toThrow(CodecError);
    }
  });
});

describe('signaturesDigest', () => {
  it('matches the vector of docs/p2p.md', () => {
    const sig = (b: number) => new Uint8Array(64).fill(b);
    expect(toHex(signaturesDigest([[sig(1), sig(2)], []]))).toBe(
      'e44344eb604e3cee00c4466b73396b20d25eb78e0f0b4a2e55c308f9da1fc7fc',
    );
    // A range may hold far more signatures than a call may take arguments.
    expect(signaturesDigest([Array.from({ length: 200_000 }, () => sig(3))])).toHaveLength(32);
  });
});

describe('SyncServer', () => {
  it('answers sigs with the digest of a range it holds whole, and not found beyond its head', async () => {
    const digest = decodeSigsResponse(await ask(source.server, { kind: 'sigs', from: 2, count: 5 }));
    const sigs = source.blocks.slice(1, 6).map((b) => b.txs.map((t) => t.tx.signature));
    expect(toHex(digest!)).toBe(toHex(signaturesDigest(sigs)));
    expect(decodeSigsResponse(await ask(source.server, { kind: 'sigs', from: 2, count: 6 }))).toBeUndefined();
    // No more reading for a digest than a blocks response may hold.
    const one = (await ask(source.server, { kind: 'blocks', from: 1, count: 1 })).length;
    const tight = serverOver(one);
    expect(decodeSigsResponse(await ask(tight, { kind: 'sigs', from: 1, count: 1 }))).toBeDefined();
    expect(decodeSigsResponse(await ask(tight, { kind: 'sigs', from: 1, count: 6 }))).toBeUndefined();
  });

  it('answers status with its head, the head certificate and its stable checkpoint', async () => {
    const s = decodeStatusResponse(await ask(source.server, { kind: 'status' }));
    const last = source.blocks[5]!;
    expect(s.height).toBe(6);
    expect(toHex(s.head!.cert.headerHash)).toBe(toHex(last.hash));
    expect(s.head!.header).toEqual(last.header);
    expect(s.stable).toEqual({ seq: 0, headerHash: genesisHash(genesis()), signatures: [] });
    const empty = await syncSource([]);
    expect(decodeStatusResponse(await ask(empty.server, { kind: 'status' }))).toMatchObject({
      height: 0,
      head: undefined,
    });
  });

  it('serves a range of certified blocks with their txs, cut at its head', async () => {
    const blocks = decodeBlocksResponse(await ask(source.server, { kind: 'blocks', from: 2, count: 100 }));
    expect(blocks.map((b) => b.header.height)).toEqual([2, 3, 4, 5, 6]);
    blocks.forEach((b, i) => {
      const want = source.blocks[i + 1]!;
      expect(b.header).toEqual(want.header);
      expect(toHex(b.cert.headerHash)).toBe(toHex(want.hash));
      expect(b.txs.map((t) => t.hashHex)).toEqual(want.txs.map((t) => t.hashHex));
    });
    expect(decodeBlocksResponse(await ask(source.server, { kind: 'blocks', from: 7, count: 3 }))).toEqual([]);
  });

  it("parses a block's txs lazily into one copy per block, detached from the response", async () => {
    const response = await ask(source.server, { kind: 'blocks', from: 2, count: 100 });
    const raw = decodeRawBlocksResponse(response);
    const txs = raw.map((b) => decodeBlockTxs(b));
    const eager = decodeBlocksResponse(response);
    expect(txs.map((t) => t.map((e) => e.hashHex))).toEqual(eager.map((b) => b.txs.map((e) => e.hashHex)));
    expect(txs.flat().every((e) => e.bytes.buffer !== response.buffer)).toBe(true);
    const before = txs.map((t) => t.map((e) => toHex(e.bytes)));
    response.fill(0); // the txs keep their bytes when the response buffer is reused
    expect(txs.map((t) => t.map((e) => toHex(e.bytes)))).toEqual(before);
    // Views of two buffers are not a response's: refused, not parsed from the wrong bytes.
    const [a, b] = raw[0]!.txBytes.length > 1 ? [raw[0]!.txBytes[0]!, raw[0]!.txBytes[1]!] : [];
    if (a === undefined || b === undefined) throw new Error('the fixture needs two txs in a block');
    expect(() => decodeBlockTxs({ ...raw[0]!, txBytes: [a, b.slice()] })).toThrow(
      /not views of one response/,
    );
  });

  it('stops a range at its response limit, and refuses a block that alone exceeds it', async () => {
    const one = (await ask(source.server, { kind: 'blocks', from: 1, count: 1 })).length;
    const tight = serverOver(2 * one + 20);
    expect(decodeBlocksResponse(await ask(tight, { kind: 'blocks', from: 1, count: 6 }))).toHaveLength(2);
    const tiny = serverOver(100);
    const answer = await tiny.handle(encodeSyncRequest({ kind: 'blocks', from: 1, count: 6 }), signal);
    expect(answer).toMatchObject({ action: 'ignore' });
  });

  it('serves batch bodies the consensus core holds, and rejects undecodable requests', async () => {
    const batch = batchesOf(1)[0]!;
    const server = serverOver(1 << 20, (d) => (toHex(d) === toHex(batchDigest(batch)) ? batch : undefined));
    const found = decodeBatchResponse(await ask(server, { kind: 'batch', digest: batchDigest(batch) }));
    expect(found && toHex(batchDigest(found))).toBe(toHex(batchDigest(batch)));
    expect(
      decodeBatchResponse(await ask(server, { kind: 'batch', digest: new Uint8Array(32) })),
    ).toBeUndefined();
    expect(await server.handle(new Uint8Array([1, 2, 3]), signal)).toMatchObject({ action: 'reject' });
  });
});
