/**
 * Fetches batch bodies that a NEW-VIEW re-issued by digest only (docs/protocol.md, "Batch bodies"). It asks the
 * connected validators one at a time, in random order, until one has the body; the body must hash to the
 * digest asked for, so any peer may answer and a wrong answer is the peer's fault. The core re-requests a
 * missing body every retryMs, so a fetch that finds nothing simply ends.
 */

import type { BatchFetcher } from '../../consensus/interfaces.ts';
import type { Batch } from '../../core/batch.ts';
import { batchDigest } from '../../core/batch.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import type { Random } from '../../core/clock.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../../core/crypto-suite.ts';
import { type Logger, type P2PHost, ProtocolId, Verdicts } from '../../p2p/index.ts';
import { SyncErrorCode } from './errors.ts';
import { decodeBatchResponse, encodeSyncRequest } from './sync-messages.ts';
import type { ValidatorPeers } from './validator-peers.ts';

export interface BatchFetcherDeps {
  readonly host: P2PHost;
  readonly peers: ValidatorPeers;
  /** Hands a body with the right digest to the core (ConsensusDriver.batchFetched). */
  readonly deliver: (batch: Batch) => void;
  readonly onFault: (code: SyncErrorCode) => void;
  readonly requestTimeoutMs: number;
  readonly random: Random;
  readonly logger: Logger;
  /** The chain's suite (ADR 014): tx hashes and the batch digest. Default: Ed25519/SHA-256. */
  readonly suite?: CryptoSuite | undefined;
}

export class P2PBatchFetcher implements BatchFetcher {
  readonly #d: BatchFetcherDeps;
  readonly #inFlight = new Set<string>();
  readonly #abort = new AbortController();

  constructor(deps: BatchFetcherDeps) {
    this.#d = deps;
  }

  fetch(_seq: number, digest: Uint8Array): void {
    const key = toHex(digest);
    if (this.#inFlight.has(key) || this.#abort.signal.aborted) return;
    this.#inFlight.add(key);
    void this.#ask(digest)
      .catch((err: unknown) => this.#d.logger.warn({ err: String(err) }, 'batch fetch failed'))
      .finally(() => this.#inFlight.delete(key));
  }

  stop(): void {
    this.#abort.abort();
  }

  async #ask(digest: Uint8Array): Promise<void> {
    const request = encodeSyncRequest({ kind: 'batch', digest });
    const peers = this.#d.host.connectedPeers().filter((p) => this.#d.peers.isValidator(p));
    for (const peer of shuffle(peers, this.#d.random)) {
      if (this.#abort.signal.aborted) return;
      let bytes: Uint8Array;
      try {
        bytes = await this.#d.host.request(peer, ProtocolId.sync, request, {
          timeoutMs: this.#d.requestTimeoutMs,
          signal: this.#abort.signal,
        });
      } catch (err) {
        this.#d.logger.debug({ peer, err: String(err) }, 'batch fetch: no answer');
        continue;
      }
      let batch: Batch | undefined;
      try {
        const suite = this.#d.suite ?? ED25519_SHA256;
        batch = decodeBatchResponse(bytes, suite);
        if (batch !== undefined && !equalBytes(batchDigest(batch, suite), digest))
          throw new Error('wrong digest');
      } catch {
        this.#d.host.report(peer, ProtocolId.sync, Verdicts.reject(SyncErrorCode.badResponse));
        this.#d.onFault(SyncErrorCode.badResponse);
        continue;
      }
      if (batch === undefined) continue;
      this.#d.deliver(batch);
      return;
    }
  }
}

function shuffle<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
