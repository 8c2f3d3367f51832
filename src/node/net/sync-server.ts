/**
 * Serves `/jrchain/sync/1.0.0` from the ledger and the consensus core: this node's status (head with its
 * certificate, stable checkpoint with its proof), ranges of certified blocks with their txs, batch bodies
 * for peers that missed them after a view change, and the txs of a batch that a compact PRE-PREPARE named and a
 * backup did not hold. Read-only. A request that does not decode is rejected (the
 * host penalises the requester); a range beyond the head gets the blocks that exist (possibly none).
 */

import type { CheckpointProof } from '../../consensus/messages.ts';
import type { Batch } from '../../core/batch.ts';
import type { TxEnvelope } from '../../core/tx.ts';
import type { LedgerStore } from '../../ledger/store.ts';
import { type Verdict, Verdicts } from '../../p2p/index.ts';
import {
  BLOCKS_RESPONSE_OVERHEAD,
  decodeSyncRequest,
  encodeBatchResponse,
  encodeBlocksResponse,
  encodeSigsResponse,
  encodeStatusResponse,
  encodeSyncBlock,
  encodeTxsResponse,
  type SyncRequest,
  signatureOf,
  signaturesDigest,
} from './sync-messages.ts';

export interface SyncServerDeps {
  readonly store: Pick<LedgerStore, 'head' | 'block' | 'blockTxBytes'>;
  /** The consensus core's stable checkpoint and its proof. */
  readonly stable: () => CheckpointProof;
  /** The body of a batch the consensus core holds. */
  readonly batchFor: (digest: Uint8Array) => Batch | undefined;
  /** The sync protocol's response limit: a blocks response stops before it. */
  readonly maxResponseBytes: number;
}

export class SyncServer {
  readonly #d: SyncServerDeps;

  constructor(deps: SyncServerDeps) {
    this.#d = deps;
  }

  async handle(request: Uint8Array, signal: AbortSignal): Promise<Uint8Array | Verdict> {
    let req: SyncRequest;
    try {
      req = decodeSyncRequest(request);
    } catch {
      return Verdicts.reject('malformed sync request');
    }
    switch (req.kind) {
      case 'status':
        return this.#status();
      case 'blocks':
        return this.#blocks(req.from, req.count, signal);
      case 'sigs':
        return encodeSigsResponse(await this.#sigs(req.from, req.count, signal));
      case 'batch':
        return encodeBatchResponse(this.#d.batchFor(req.digest));
      case 'txs':
        return encodeTxsResponse(this.#txsOf(req.digest, req.indexes));
    }
  }

  /** The txs at `indexes` of a batch the core holds (the indexes are strictly increasing: checked on decode). */
  #txsOf(digest: Uint8Array, indexes: readonly number[]): TxEnvelope[] | undefined {
    const txs = this.#d.batchFor(digest)?.txs;
    if (txs === undefined || indexes[indexes.length - 1]! >= txs.length) return undefined;
    return indexes.map((i) => txs[i]!);
  }

  async #status(): Promise<Uint8Array> {
    const stable = this.#d.stable();
    const height = this.#d.store.head()?.height ?? 0;
    if (height === 0) return encodeStatusResponse({ height, head: undefined, stable });
    const block = await this.#d.store.block(height);
    if (block === undefined) throw new Error(`head block ${height} is missing`);
    return encodeStatusResponse({ height, head: { header: block.header, cert: block.cert }, stable });
  }

  /**
   * The digest of the client signatures of blocks from..from+count-1; undefined unless all are held, or when
   * their txs exceed the response limit: a range one blocks response holds is all a client asks about, and a
   * request for more must not make this node read more than a blocks request would.
   */
  async #sigs(from: number, count: number, signal: AbortSignal): Promise<Uint8Array | undefined> {
    const last = from + count - 1;
    if (last > (this.#d.store.head()?.height ?? 0)) return undefined;
    const blocks: Uint8Array[][] = [];
    let bytes = 0;
    for (let h = from; h <= last && !signal.aborted; h++) {
      const txs = await this.#d.store.blockTxBytes(h);
      if (txs === undefined) return undefined;
      for (const t of txs) bytes += t.length;
      if (bytes > this.#d.maxResponseBytes) return undefined;
      blocks.push(txs.map(signatureOf));
    }
    return signal.aborted ? undefined : signaturesDigest(blocks);
  }

  /** Blocks from `from` on, as many as exist and fit the response limit; the first one always goes. */
  async #blocks(from: number, count: number, signal: AbortSignal): Promise<Uint8Array | Verdict> {
    const head = this.#d.store.head()?.height ?? 0;
    const last = Math.min(head, from + count - 1);
    const encoded: Uint8Array[] = [];
    let bytes = BLOCKS_RESPONSE_OVERHEAD;
    for (let h = from; h <= last && !signal.aborted; h++) {
      const [block, txs] = await Promise.all([this.#d.store.block(h), this.#d.store.blockTxBytes(h)]);
      if (block === undefined || txs === undefined) break;
      const b = encodeSyncBlock(
        block.header,
        block.cert,
        txs.map((bytes) => ({ bytes })),
      );
      if (bytes + b.length > this.#d.maxResponseBytes) {
        // A single block over the limit cannot be served at all: the limit is set below the block size.
        if (encoded.length === 0) return Verdicts.ignore(`block ${h} exceeds the sync response limit`);
        break;
      }
      encoded.push(b);
      bytes += b.length;
    }
    return encodeBlocksResponse(encoded);
  }
}
