/**
 * Hash-tree renewal on the ledger (RFC 4998 5.2, ADR 016 and 018). A `hash-renewal` tx gives H'(document) for
 * an evidence tx; an anchor stamps such requests with one token under H' over a tree of H' whose leaf for each
 * request is H'(H'(document) || H'(DER of the document's first chain as exported just before that anchor)).
 * The stamping job computes the leaves with `requestLeaf` at the head; an export recomputes every leaf of the
 * stamp as of the stamping anchor's place, checks the recorded root, and appends the new chain: the reduced
 * H' tree from the document's leaf to the root, the token, then one timestamp per stamp renewal since
 * (stamp-history.ts).
 */
import { decodeAnchor, type HashRenewalStamp } from '../core/anchor.ts';
import { equalBytes } from '../core/bytes.ts';
import { decodeHashRenewal } from '../core/hash-renewal.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import type { LedgerTx } from '../ledger/store.ts';
import { type Archive, archiveChain, extendChain, hashRenewalLeaf } from '../timestamp/ers.ts';
import type { ArchiveTimeStamp } from '../timestamp/ers-asn1.ts';
import { type IndexedTree, indexedTree, reduce, rootOf } from '../timestamp/ers-tree.ts';
import { archiveAt, type DocumentArchive, documentArchive, type Position } from './document-archive.ts';
import { ReceiptError, ReceiptErrorCode } from './errors.ts';
import { stampHistory, stampRenewalsOf } from './stamp-history.ts';

/** The archive of a committed evidence tx, or undefined while none covers it (or it is no evidence tx). */
async function archiveOfEvidence(queries: LedgerQueries, evidenceTx: Uint8Array) {
  const found = await queries.tx(evidenceTx);
  if (found?.env.tx.type !== 'evidence') return undefined;
  try {
    return await documentArchive(queries, found.env, found.height);
  } catch (err) {
    if (err instanceof ReceiptError && err.code === ReceiptErrorCode.notArchived) return undefined;
    throw err;
  }
}

/**
 * The leaf of hash-renewal request `request` (a committed `hash-renewal` tx) over the first chain as exported
 * before the tx at `before` (without it: as exported now). Undefined while no archive covers its evidence:
 * the stamping job defers such requests.
 */
export async function requestLeaf(
  queries: LedgerQueries,
  request: LedgerTx,
  before?: Position,
): Promise<Uint8Array | undefined> {
  if (request.env.tx.type !== 'hash-renewal') return undefined;
  const r = decodeHashRenewal(request.env.tx.payload);
  const doc = await archiveOfEvidence(queries, r.evidenceTx);
  if (doc === undefined) return undefined;
  const archive = await archiveAt(queries, doc, before);
  return hashRenewalLeaf(r.hashAlg, r.hash, [archiveChain(doc.hash, archive)]);
}

/** Stamp trees by anchor tx, per ledger: a stamp never changes once committed. null: its root does not match. */
const trees = new WeakMap<LedgerQueries, Map<string, IndexedTree | null>>();

/** The tree of a committed stamp, rebuilt from its requests' leaves; null when they do not give its root. */
async function stampTree(
  queries: LedgerQueries,
  anchor: LedgerTx,
  stamp: HashRenewalStamp,
): Promise<IndexedTree | null> {
  const cache = trees.get(queries) ?? new Map<string, IndexedTree | null>();
  trees.set(queries, cache);
  const cached = cache.get(anchor.env.hashHex);
  if (cached !== undefined) return cached;
  const leaves: Uint8Array[] = [];
  for (const q of stamp.requests) {
    const request = await queries.tx(q);
    const leaf = request === undefined ? undefined : await requestLeaf(queries, request, anchor);
    if (leaf === undefined) break;
    leaves.push(leaf);
  }
  const tree = leaves.length === stamp.requests.length ? indexedTree(stamp.hashAlg, leaves) : undefined;
  const out = tree !== undefined && equalBytes(rootOf(tree.levels), stamp.root) ? tree : null;
  cache.set(anchor.env.hashHex, out);
  return out;
}

/** A document's record after a hash-tree renewal on the ledger: its frozen first chain, then the new one. */
export interface LedgerHashRenewal {
  /** The archive with the renewals made before the stamping anchor: the first chain, frozen. */
  archive: Archive;
  /** The new chain: the H' timestamp over the leaf of the first chain. */
  chain: ArchiveTimeStamp[];
}

/**
 * The hash-tree renewal of the evidence tx `evidenceTx` (archive `doc`), once an anchor has stamped its
 * request; undefined before, or when the stamp's root is not the root of its requests' leaves (a faulty
 * primary's stamp: the record goes on with the first chain alone).
 */
export async function ledgerHashRenewal(
  queries: LedgerQueries,
  evidenceTx: Uint8Array,
  doc: DocumentArchive,
): Promise<LedgerHashRenewal | undefined> {
  const request = await queries.hashRenewalOf(evidenceTx);
  const anchor = request && (await queries.hashRenewalStampOf(request.env.hash));
  if (request === undefined || anchor?.env.tx.type !== 'anchor') return undefined;
  const record = decodeAnchor(anchor.env.tx.payload);
  const stamp = record.hashRenewal;
  if (stamp === undefined || !stamp.requests.some((q) => equalBytes(q, request.env.hash))) return undefined;
  const tree = await stampTree(queries, anchor, stamp);
  if (tree === null) return undefined;
  const r = decodeHashRenewal(request.env.tx.payload);
  const archive = await archiveAt(queries, doc, anchor);
  const leaf = hashRenewalLeaf(r.hashAlg, r.hash, [archiveChain(doc.hash, archive)]);
  const path = reduce(tree.levels, leaf, tree.position);
  if (path === undefined) return undefined;
  const first = { digestAlg: stamp.hashAlg, reducedHashtree: path, timeStamp: stamp.token };
  // Timestamp renewals of the new chain (RFC 4998 5.2: renewals apply to the last chain), under its hash.
  const renewals = stampRenewalsOf(stampHistory(await queries.stampAnchors()), stamp.hashAlg, record.height);
  return { archive, chain: extendChain(stamp.hashAlg, [first], renewals) };
}

/**
 * What the primary's stamping job reads (node/hash-renewal-job.ts): unstamped requests and their leaves now.
 * The requests are read incrementally: those committed since the last call (index 0x14), added to the ones
 * still waiting, less those stamped since (one index read each). A step costs reads in proportion to the
 * requests waiting, not to every request ever made.
 */
export function ledgerHashRenewalSource(queries: LedgerQueries) {
  const waiting = new Map<string, LedgerTx>();
  let nextHeight = 1;
  return {
    unstamped: async (): Promise<LedgerTx[]> => {
      // Blocks commit whole: every request up to the head read first is in the scan that follows.
      const head = queries.head().height;
      for (const tx of await queries.hashRenewalRequestsFrom(nextHeight)) waiting.set(tx.env.hashHex, tx);
      nextHeight = Math.max(nextHeight, head + 1);
      for (const [id, tx] of waiting) {
        if ((await queries.hashRenewalStampOf(tx.env.hash)) !== undefined) waiting.delete(id);
      }
      return [...waiting.values()];
    },
    leafOf: (request: LedgerTx) => requestLeaf(queries, request),
  };
}
