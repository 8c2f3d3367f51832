/**
 * Turns a compact PRE-PREPARE (compact-pre-prepare.ts) back into the whole one: each named tx is taken from
 * what this node already holds (its mempool, where the forwarded copy was decoded and its signature verified
 * once), and only the missing ones are fetched, in one `txs` request to the primary that sent the PRE-PREPARE
 * (sync protocol kind 4). The primary holds the batch until its checkpoint is stable, so an honest one can
 * always answer. A fetched tx must hash to the hash named at its place; anything else is the responder's fault.
 *
 * Bounded: one request per PRE-PREPARE, at most the batch's tx count, within the sync protocol's request and
 * response limits, timeout and the host's per-peer request rate limit; the consensus frames of that peer wait
 * meanwhile (back-pressure). A PRE-PREPARE whose txs cannot all be had is dropped: this backup does not prepare
 * it, and if the primary keeps doing so, the txs pending here time out into a view change.
 */

import type { PrePrepare } from '../../consensus/messages.ts';
import { equalBytes } from '../../core/bytes.ts';
import type { CryptoSuite } from '../../core/crypto-suite.ts';
import type { TxEnvelope } from '../../core/tx.ts';
import { type P2PHost, ProtocolId, Verdicts } from '../../p2p/index.ts';
import { type CompactPrePrepare, expandCompact } from './compact-pre-prepare.ts';
import { SyncError, SyncErrorCode } from './errors.ts';
import { decodeTxsResponse, encodeSyncRequest } from './sync-messages.ts';

export interface TxResolverDeps {
  readonly host: Pick<P2PHost, 'request' | 'report'>;
  /** A tx this node holds, by hash hex (the mempool, including txs still being admitted). */
  readonly lookup: (hashHex: string) => TxEnvelope | undefined;
  readonly requestTimeoutMs: number;
  /** The chain's suite (ADR 014), which hashes fetched txs. Default: Ed25519/SHA-256. */
  readonly suite?: CryptoSuite | undefined;
}

/** Counts since start: how often a compact PRE-PREPARE needed a fetch, and how many txs it fetched. */
export interface ResolverStats {
  readonly resolved: number;
  readonly fetches: number;
  readonly fetchedTxs: number;
}

export class TxResolver {
  readonly #d: TxResolverDeps;
  #resolved = 0;
  #fetches = 0;
  #fetchedTxs = 0;

  constructor(deps: TxResolverDeps) {
    this.#d = deps;
  }

  stats(): ResolverStats {
    return { resolved: this.#resolved, fetches: this.#fetches, fetchedTxs: this.#fetchedTxs };
  }

  /**
   * The whole PRE-PREPARE that `m` names, from held txs and, for the rest, from `peerId`. Throws SyncError:
   * `SYNC_TXS_UNAVAILABLE` when the peer did not answer or holds no such batch, `SYNC_BAD_RESPONSE` (the peer is
   * penalised) when it answered with other txs.
   */
  async resolve(peerId: string, m: CompactPrePrepare): Promise<PrePrepare> {
    const txs: TxEnvelope[] = new Array(m.hashes.length);
    const missing: number[] = [];
    m.hashHex.forEach((hex, i) => {
      const held = this.#d.lookup(hex);
      if (held === undefined) missing.push(i);
      else txs[i] = held;
    });
    if (missing.length > 0) {
      const fetched = await this.#fetch(peerId, m, missing);
      missing.forEach((i, k) => {
        txs[i] = fetched[k]!;
      });
    }
    this.#resolved++;
    return expandCompact(m, txs);
  }

  async #fetch(peerId: string, m: CompactPrePrepare, indexes: number[]): Promise<TxEnvelope[]> {
    this.#fetches++;
    const request = encodeSyncRequest({ kind: 'txs', digest: m.digest, indexes });
    let bytes: Uint8Array;
    try {
      bytes = await this.#d.host.request(peerId, ProtocolId.sync, request, {
        timeoutMs: this.#d.requestTimeoutMs,
      });
    } catch (err) {
      throw unavailable(`no answer for ${indexes.length} txs of seq ${m.seq}: ${String(err)}`);
    }
    let txs: TxEnvelope[] | undefined;
    try {
      txs = decodeTxsResponse(bytes, this.#d.suite);
      if (txs !== undefined && !sameTxs(txs, indexes, m.hashes)) throw new Error('other txs than asked for');
    } catch (err) {
      this.#d.host.report(peerId, ProtocolId.sync, Verdicts.reject(SyncErrorCode.badResponse));
      throw new SyncError(
        SyncErrorCode.badResponse,
        `txs response for seq ${m.seq}: ${(err as Error).message}`,
      );
    }
    if (txs === undefined) throw unavailable(`the primary holds no batch for seq ${m.seq}`);
    this.#fetchedTxs += txs.length;
    return txs;
  }
}

function sameTxs(
  txs: readonly TxEnvelope[],
  indexes: readonly number[],
  hashes: readonly Uint8Array[],
): boolean {
  return txs.length === indexes.length && txs.every((t, k) => equalBytes(t.hash, hashes[indexes[k]!]!));
}

function unavailable(message: string): SyncError {
  return new SyncError(SyncErrorCode.txsUnavailable, message);
}
