/**
 * The archive and renewal history of a ledger (ADR 012), as the archive index (ledger/archive-index.ts, ADR
 * 016) holds it: which archive timestamps exist, which renewals cover each, and the leaves of every renewal's
 * tree. A renewal with `upTo` R covers every archive anchored at or below R; its leaf for an archive covers
 * that archive's token and every earlier renewal that covered it, through the SHA-256 of each token, which is
 * all the index keeps. Evidence records and the renewal job both derive from this one module, so what the
 * node stamps is what it later exports.
 */
import type { AnchorRecord } from '../core/anchor.ts';
import { equalBytes } from '../core/bytes.ts';
import { type ArchiveIndexEntry, archiveIndexEntry, type IndexedStamp } from '../ledger/archive-index.ts';
import { chainLeaf } from '../timestamp/ers.ts';
import { type IndexedTree, indexedTree, rootOf } from '../timestamp/ers-tree.ts';

export interface IndexedRenewal extends IndexedStamp {
  /** Where the anchor tx that carries the renewal is (its token is read from there). */
  readonly height: number;
  readonly index: number;
}

export interface ArchiveHistory {
  /** Anchored height and stamp of every archive, in chain order. */
  archives: { height: number; archive: IndexedStamp }[];
  /** Every renewal, in chain order (`at` is its `upTo`). */
  renewals: IndexedRenewal[];
}

/** The history the archive index entries describe (in chain order). */
export function historyOf(entries: readonly ArchiveIndexEntry[]): ArchiveHistory {
  const out: ArchiveHistory = { archives: [], renewals: [] };
  for (const e of entries) {
    if (e.archive !== undefined) out.archives.push({ height: e.anchored, archive: e.archive });
    if (e.renewal !== undefined) out.renewals.push({ ...e.renewal, height: e.height, index: e.index });
  }
  return out;
}

/** The history of a list of anchor records in chain order (their places unknown: height and index 0). */
export function archiveHistory(anchors: readonly AnchorRecord[]): ArchiveHistory {
  return historyOf(anchors.flatMap((a) => archiveIndexEntry(a, 0, 0) ?? []));
}

/** The token hashes of the chain of the archive anchored at `height`: its own, then the renewals before `before`. */
function chainHashes(h: ArchiveHistory, height: number, tokenHash: Uint8Array, before: number): Uint8Array[] {
  const covering = h.renewals.slice(0, before).filter((r) => r.at >= height);
  return [tokenHash, ...covering.map((r) => r.tokenHash)];
}

/** The leaves of a renewal after the first `count` renewals, covering the archives anchored up to `upTo`. */
export function renewalLeaves(h: ArchiveHistory, upTo: number, count = h.renewals.length): Uint8Array[] {
  return h.archives
    .filter((a) => a.height <= upTo)
    .map((a) => chainLeaf(chainHashes(h, a.height, a.archive.tokenHash, count)));
}

/** A renewal covering an archive, with its tree, built once. */
export interface CoveringRenewal {
  renewal: IndexedRenewal;
  tree: IndexedTree;
}

/**
 * The renewals that cover the archive anchored at `height`, with their trees, in order, up to the first whose
 * recorded root is not the root of its leaves (a faulty primary's): the chain cannot pass it. `trees` caches
 * each renewal's tree by its position in `h.renewals` (null: its root does not match); a renewal's tree never
 * changes once it is on the ledger.
 */
export function renewalsOf(
  h: ArchiveHistory,
  height: number,
  trees: (IndexedTree | null)[] = [],
): CoveringRenewal[] {
  const out: CoveringRenewal[] = [];
  for (const [i, r] of h.renewals.entries()) {
    if (r.at < height) continue;
    if (trees[i] === undefined) {
      const tree = indexedTree('sha256', renewalLeaves(h, r.at, i));
      trees[i] = equalBytes(rootOf(tree.levels), r.root) ? tree : null;
    }
    const tree = trees[i];
    if (tree === null || tree === undefined) break;
    out.push({ renewal: r, tree });
  }
  return out;
}

/** Where the archive index is read from (LedgerQueries). */
export interface ArchiveIndexSource {
  archiveIndex(from?: number): Promise<ArchiveIndexEntry[]>;
}

interface Cached {
  history: ArchiveHistory;
  trees: (IndexedTree | null)[];
  /** The next anchored height to read the index from. */
  next: number;
  /** The read in progress: reads are chained, so each entry is appended once. */
  reading: Promise<void>;
}

const cache = new WeakMap<ArchiveIndexSource, Cached>();

/**
 * The ledger's archive history and its renewal trees, kept per source and brought up to date by reading only
 * the index entries added since the last call (the index only grows: committed blocks are final). An export
 * then costs index lookups and one path per renewal, not a rebuild of every renewal tree.
 */
export async function ledgerArchives(
  src: ArchiveIndexSource,
): Promise<{ history: ArchiveHistory; trees: (IndexedTree | null)[] }> {
  let c = cache.get(src);
  if (c === undefined) {
    c = { history: { archives: [], renewals: [] }, trees: [], next: 1, reading: Promise.resolve() };
    cache.set(src, c);
  }
  const cached = c;
  cached.reading = cached.reading.then(async () => {
    const fresh = await src.archiveIndex(cached.next);
    const more = historyOf(fresh);
    cached.history.archives.push(...more.archives);
    cached.history.renewals.push(...more.renewals);
    const last = fresh.at(-1);
    if (last !== undefined) cached.next = last.anchored + 1;
  });
  await cached.reading;
  return { history: cached.history, trees: cached.trees };
}
