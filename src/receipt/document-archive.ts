/**
 * What one document's evidence record is built from on the ledger (ADR 012, ADR 016): the archive timestamp of
 * the anchor covering its block, that archive's leaves, and the renewals covering it, read through the archive
 * index. Exports and the hash-renewal stamping job both start here, so what the primary stamps is what the
 * nodes later export.
 */
import { decodeAnchor } from '../core/anchor.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { sha256 } from '../core/crypto.ts';
import { invariant } from '../core/errors.ts';
import { decodeEvidence } from '../core/evidence.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import { type Archive, archiveRoot } from '../timestamp/ers.ts';
import { type CoveringRenewal, type IndexedRenewal, ledgerArchives, renewalsOf } from './archives.ts';
import { ReceiptError, ReceiptErrorCode } from './errors.ts';

export interface DocumentArchive {
  /** The document's SHA-256 hash (the evidence hash). */
  hash: Uint8Array;
  leaves: Uint8Array[];
  token: Uint8Array;
  /** The renewals covering the archive, in chain order, with their trees; their tokens are read on demand. */
  covering: CoveringRenewal[];
}

/** A place on the ledger: a tx's block height and index in the block. */
export interface Position {
  height: number;
  index: number;
}

const isBefore = (a: Position, b: Position) =>
  a.height < b.height || (a.height === b.height && a.index < b.index);

/**
 * The archive of the evidence tx `env` committed at `height`. Throws RECEIPT_NOT_ARCHIVED while no archive
 * timestamp covers it (not yet anchored, anchored before archive timestamps, or the hash is not SHA-256).
 */
export async function documentArchive(
  queries: LedgerQueries,
  env: TxEnvelope,
  height: number,
): Promise<DocumentArchive> {
  const evidence = decodeEvidence(env.tx.payload);
  const notArchived = (why: string) =>
    new ReceiptError(ReceiptErrorCode.notArchived, `no evidence record for tx ${env.hashHex} yet: ${why}`);
  if (evidence.hashAlg !== 'sha256')
    throw notArchived(`its evidence hash is ${evidence.hashAlg}, not sha256`);
  const cover = await queries.anchorCovering(height);
  if (cover === undefined) throw notArchived(`no anchor covers block ${height} yet`);
  const { archive } = cover.record;
  if (archive === undefined || archive.from > height) {
    throw notArchived(
      `the anchor of block ${cover.record.height} carries no archive timestamp for block ${height}`,
    );
  }
  const leaves = await queries.archiveLeaves(archive.from, cover.record.height);
  if (!equalBytes(archiveRoot(leaves), archive.root)) {
    throw notArchived(
      `the archive root of block ${cover.record.height} is not ${toHex(archiveRoot(leaves))}, the root of its evidence`,
    );
  }
  // The archive index gives the renewals and their trees (built once); only the covering renewals' txs are read.
  const { history, trees } = await ledgerArchives(queries);
  const covering = renewalsOf(history, cover.record.height, trees);
  return { hash: evidence.hash, leaves, token: archive.token, covering };
}

/**
 * The archive with the renewals recorded before the tx at `before` (all of them without it): the first chain
 * as it was exported then. Reads each renewal's token from its anchor tx.
 */
export async function archiveAt(
  queries: LedgerQueries,
  doc: DocumentArchive,
  before?: Position,
): Promise<Archive> {
  const covering =
    before === undefined ? doc.covering : doc.covering.filter((c) => isBefore(c.renewal, before));
  const renewals = await Promise.all(
    covering.map(async ({ renewal, tree }) => ({ tree, token: await renewalToken(queries, renewal) })),
  );
  return { leaves: doc.leaves, token: doc.token, renewals };
}

/** The token of an indexed renewal, from the anchor tx the index points at. */
async function renewalToken(queries: LedgerQueries, r: IndexedRenewal): Promise<Uint8Array> {
  const block = await queries.block(r.height);
  const hash = block?.txHashes[r.index];
  const found = hash === undefined ? undefined : await queries.tx(hash);
  const token =
    found?.env.tx.type === 'anchor' ? decodeAnchor(found.env.tx.payload).renewal?.token : undefined;
  invariant(
    token !== undefined && equalBytes(sha256(token), r.tokenHash),
    `the archive index names no renewal token at ${r.height}/${r.index}`,
  );
  return token;
}
