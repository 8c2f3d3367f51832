/**
 * The archive and renewal history of a ledger (ADR 012), read from its anchor records: which archive
 * timestamps exist, which renewals cover each, and the leaves of every renewal's tree. A renewal with `upTo` R
 * covers every archive anchored at or below R; its leaf for an archive covers that archive's token and every
 * earlier renewal that covered it. Evidence records and the renewal job both derive from this one function, so
 * what the node stamps is what it later exports.
 */
import type { AnchorRecord, ArchiveStamp, RenewalStamp } from '../core/anchor.ts';
import { equalBytes } from '../core/bytes.ts';
import { archiveRoot, type Renewal, renewalLeaf } from '../timestamp/ers.ts';

export interface ArchiveHistory {
  /** Anchored height and stamp of every archive, in chain order. */
  archives: { height: number; archive: ArchiveStamp }[];
  /** Every renewal, in chain order. */
  renewals: RenewalStamp[];
}

export function archiveHistory(anchors: readonly AnchorRecord[]): ArchiveHistory {
  const out: ArchiveHistory = { archives: [], renewals: [] };
  for (const a of anchors) {
    if (a.archive !== undefined) out.archives.push({ height: a.height, archive: a.archive });
    if (a.renewal !== undefined) out.renewals.push(a.renewal);
  }
  return out;
}

/** The tokens of the chain of the archive anchored at `height`: its own, then the renewals before `before`. */
function chainTokens(h: ArchiveHistory, height: number, token: Uint8Array, before: number): Uint8Array[] {
  const covering = h.renewals.slice(0, before).filter((r) => r.upTo >= height);
  return [token, ...covering.map((r) => r.token)];
}

/** The leaves of a renewal after the first `count` renewals, covering the archives anchored up to `upTo`. */
export function renewalLeaves(h: ArchiveHistory, upTo: number, count = h.renewals.length): Uint8Array[] {
  return h.archives
    .filter((a) => a.height <= upTo)
    .map((a) => renewalLeaf(chainTokens(h, a.height, a.archive.token, count)));
}

/**
 * The renewals that cover the archive anchored at `height`, with their trees' leaves, in order, up to the
 * first whose recorded root is not the root of those leaves (a faulty primary's): the chain cannot pass it.
 */
export function renewalsOf(h: ArchiveHistory, height: number): Renewal[] {
  const out: Renewal[] = [];
  for (const [i, r] of h.renewals.entries()) {
    if (r.upTo < height) continue;
    const leaves = renewalLeaves(h, r.upTo, i);
    if (!equalBytes(archiveRoot(leaves), r.root)) break;
    out.push({ leaves, token: r.token });
  }
  return out;
}
