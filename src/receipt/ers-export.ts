/**
 * Builds the RFC 4998 evidence record of a committed evidence tx from the ledger (ADR 012): the reduced hash
 * tree from the document's SHA-256 hash to the root of the archive timestamp that the anchor covering its block
 * carries, that archive token, and the genesis TSA trust anchors in cryptoInfos. Independent ERS verifiers
 * (BouncyCastle's, `jrchain receipt verify-ers`) check it with the document alone; no node, genesis or receipt.
 */
import { decodeAnchor } from '../core/anchor.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { sha256 } from '../core/crypto.ts';
import { invariant } from '../core/errors.ts';
import { decodeEvidence } from '../core/evidence.ts';
import type { Genesis } from '../core/genesis.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import { archiveRoot, evidenceRecord } from '../timestamp/ers.ts';
import { parsePemCertificates } from '../timestamp/x509.ts';
import { type IndexedRenewal, ledgerArchives, renewalsOf } from './archives.ts';
import { ReceiptError, ReceiptErrorCode } from './errors.ts';

/** Revocation data the node carries in evidence records: CRLs (DER) from `tsa.crlFiles` in its config. */
export interface Revocation {
  crls?: readonly Uint8Array[];
}

export interface ExportedRecord {
  txHash: string;
  height: number;
  /** The DER EvidenceRecord. */
  ers: Uint8Array;
}

/**
 * The evidence record of the committed evidence tx `txHash`; undefined when no such tx is committed. Throws
 * RECEIPT_NOT_EVIDENCE for another tx type, RECEIPT_NOT_ARCHIVED while no archive timestamp covers the block
 * (not yet anchored, anchored before archive timestamps, or the evidence hash is not SHA-256).
 */
export async function evidenceRecordFor(
  queries: LedgerQueries,
  genesis: Genesis,
  txHash: Uint8Array,
  revocation: Revocation = {},
): Promise<ExportedRecord | undefined> {
  const found = await queries.tx(txHash);
  if (found === undefined) return undefined;
  const { env, height } = found;
  if (env.tx.type !== 'evidence') {
    throw new ReceiptError(
      ReceiptErrorCode.notEvidence,
      `tx ${env.hashHex} is an ${env.tx.type} tx, not evidence`,
    );
  }
  const ers = await archiveRecordOf(queries, genesis, env, height, revocation);
  return { txHash: env.hashHex, height, ers };
}

/**
 * The DER evidence record of the evidence tx `env` committed at `height`. Throws RECEIPT_NOT_ARCHIVED while no
 * archive timestamp covers it (see `evidenceRecordFor`). Receipts (v4) carry the same bytes.
 */
export async function archiveRecordOf(
  queries: LedgerQueries,
  genesis: Genesis,
  env: TxEnvelope,
  height: number,
  revocation: Revocation = {},
): Promise<Uint8Array> {
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
  const renewals = await Promise.all(
    covering.map(async ({ renewal, tree }) => ({ tree, token: await renewalToken(queries, renewal) })),
  );
  const anchors =
    genesis.tsa.trustAnchors.length === 0
      ? []
      : parsePemCertificates(genesis.tsa.trustAnchors.join('\n'), 'genesis TSA trust anchors');
  const ers = evidenceRecord(
    evidence.hash,
    { leaves, token: archive.token, renewals },
    anchors.map((c) => c.der),
    revocation.crls ?? [],
  );
  return ers;
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
