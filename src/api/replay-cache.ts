/**
 * The replay cache of signed requests (docs/api.md#authentication): which (key id, nonce) pairs were used
 * while their `created` can still pass the window. Entries are grouped by their `created` second: a replay
 * carries the same signed `created`, so it is looked up in that one bucket (a nonce is thus unique per key
 * and `created`, not per key across the window), and a bucket whose second has
 * left the window is dropped whole (no scan per entry). Each entry is a 16-byte digest of the key id and
 * nonce, so an entry costs the same whatever their length (both may be 200 characters). At most `maxEntries`
 * at once and at most one bucket per second of the window: memory is bounded under any flood.
 */
import { createHash } from 'node:crypto';

export type ReplayVerdict = 'fresh' | 'replayed' | 'full';

export class ReplayCache {
  readonly #maxAge: number;
  readonly #maxEntries: number;
  /** `created` second → digests of the (key id, nonce) pairs used with it. */
  readonly #buckets = new Map<number, Set<string>>();
  #size = 0;
  #sweptAt = Number.NEGATIVE_INFINITY;

  /** `maxAgeSec`: a `created` older than now − maxAgeSec is stale (refused before the cache is asked). */
  constructor(maxAgeSec: number, maxEntries: number) {
    this.#maxAge = maxAgeSec;
    this.#maxEntries = maxEntries;
  }

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** Buckets held (one per `created` second still in the window). */
  get buckets(): number {
    return this.#buckets.size;
  }

  /**
   * Records (keyid, nonce) under `created` unless already there ('replayed') or the cache is full of live
   * entries ('full'). `created` must already be inside the window at `nowSec`.
   */
  use(keyid: string, nonce: string, created: number, nowSec: number): ReplayVerdict {
    this.#sweep(nowSec);
    // Length-prefixed: no (key id, nonce) pair can spell another's.
    const id = createHash('sha256')
      .update(`${keyid.length}:${keyid}${nonce}`)
      .digest()
      .toString('latin1', 0, 16);
    const bucket = this.#buckets.get(created);
    if (bucket?.has(id)) return 'replayed';
    if (this.#size >= this.#maxEntries) return 'full';
    if (bucket === undefined) this.#buckets.set(created, new Set([id]));
    else bucket.add(id);
    this.#size++;
    return 'fresh';
  }

  /** Drops the buckets whose `created` is now stale; at most once per second. */
  #sweep(nowSec: number): void {
    if (nowSec === this.#sweptAt) return;
    this.#sweptAt = nowSec;
    for (const [created, bucket] of this.#buckets) {
      if (created >= nowSec - this.#maxAge) continue;
      this.#size -= bucket.size;
      this.#buckets.delete(created);
    }
  }
}
