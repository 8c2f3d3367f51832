/**
 * The primary's hash-tree renewal job (RFC 4998 5.2, ADR 016 and 018), a step of the anchoring service. It
 * collects the committed `hash-renewal` requests no anchor has stamped, computes each one's leaf from the
 * document's record as exported now (deferring requests whose evidence no archive covers yet: an anchor
 * soon will), and asks the TSA for one token under H' over the root of their H' tree; the anchoring service
 * puts the stamp in its next anchor. Validators check the stamp (TX_ANCHOR_BAD_HASH_RENEWAL); exports check
 * the leaves against its root.
 */
import { type HashRenewalStamp, MAX_HASH_RENEWALS } from '../core/anchor.ts';
import { toHex } from '../core/bytes.ts';
import { decodeHashRenewal, type RenewalHashAlg } from '../core/hash-renewal.ts';
import type { LedgerTx } from '../ledger/store.ts';
import type { StampOptions, TimestampAuthority } from '../timestamp/authority.ts';
import { indexedTree, rootOf } from '../timestamp/ers-tree.ts';

/** Where the job reads requests and leaves: the ledger (`ledgerHashRenewals` in node wiring), or a fake. */
export interface HashRenewalSource {
  /** The committed requests no anchor has stamped, in chain order. */
  unstamped(): Promise<LedgerTx[]>;
  /** A request's leaf over the document's record as exported now; undefined while no archive covers it. */
  leafOf(request: LedgerTx): Promise<Uint8Array | undefined>;
}

interface Ready {
  request: Uint8Array;
  hashAlg: RenewalHashAlg;
  leaf: Uint8Array;
}

export class HashRenewalJob {
  readonly #source: HashRenewalSource;
  /** Leaves by request, as of an anchored height: a new anchor may add a renewal to the first chain. */
  #leaves = new Map<string, { anchored: number; leaf: Uint8Array | undefined }>();
  /** Requests in our submitted anchors, until they commit (they leave `unstamped`) or the tx expires. */
  readonly #submitted = new Map<string, number>();
  /** Until when nothing is offered, after the TSA failed a stamp. */
  #pausedUntil = 0;

  constructor(source: HashRenewalSource) {
    this.#source = source;
  }

  /** The requests ready to stamp now: unstamped, archived, and not in an anchor of ours awaiting commit. */
  async ready(anchoredHeight: number, now: number): Promise<Ready[]> {
    if (now < this.#pausedUntil) return [];
    for (const [id, expiresAt] of this.#submitted) if (now >= expiresAt) this.#submitted.delete(id);
    const out: Ready[] = [];
    const seen = new Map<string, { anchored: number; leaf: Uint8Array | undefined }>();
    for (const tx of await this.#source.unstamped()) {
      const id = tx.env.hashHex;
      if (this.#submitted.has(id)) continue;
      let known = this.#leaves.get(id);
      if (known?.anchored !== anchoredHeight) {
        known = { anchored: anchoredHeight, leaf: await this.#source.leafOf(tx) };
      }
      seen.set(id, known);
      if (known.leaf === undefined) continue;
      const { hashAlg } = decodeHashRenewal(tx.env.tx.payload);
      out.push({ request: tx.env.hash, hashAlg, leaf: known.leaf });
    }
    this.#leaves = seen;
    return out;
  }

  /**
   * The stamp of the ready requests under the first one's hash (at most MAX_HASH_RENEWALS; the rest wait for
   * the next anchor), or undefined when none is ready.
   */
  async stamp(
    tsa: TimestampAuthority,
    anchoredHeight: number,
    now: number,
    opts: StampOptions,
  ): Promise<HashRenewalStamp | undefined> {
    const ready = await this.ready(anchoredHeight, now);
    const hashAlg = ready[0]?.hashAlg;
    if (hashAlg === undefined) return undefined;
    const batch = ready.filter((r) => r.hashAlg === hashAlg).slice(0, MAX_HASH_RENEWALS);
    const root = rootOf(
      indexedTree(
        hashAlg,
        batch.map((r) => r.leaf),
      ).levels,
    );
    const { token } = await tsa.stamp(root, hashAlg, opts);
    return { hashAlg, requests: batch.map((r) => r.request), root, token };
  }

  /** The TSA failed or refused a stamp: offer nothing until `until`, so that anchors go on without one. */
  pause(until: number): void {
    this.#pausedUntil = until;
  }

  /** When a pause in stamping ends, while one lasts at `now`. */
  pausedUntil(now: number): number | undefined {
    return now < this.#pausedUntil ? this.#pausedUntil : undefined;
  }

  /** Our anchor carrying `stamp` was taken: its requests are not offered again until `expiresAt`. */
  submitted(stamp: HashRenewalStamp, expiresAt: number): void {
    for (const q of stamp.requests) this.#submitted.set(toHex(q), expiresAt);
  }
}
