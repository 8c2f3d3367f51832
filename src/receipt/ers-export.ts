/**
 * Builds the RFC 4998 evidence record of a committed evidence tx from the ledger (ADR 012): the reduced hash
 * tree from the document's SHA-256 hash to the root of the archive timestamp that the anchor covering its block
 * carries, that archive token, and the genesis TSA trust anchors in cryptoInfos. Independent ERS verifiers
 * (BouncyCastle's, `jrchain receipt verify-ers`) check it with the document alone; no node, genesis or receipt.
 */
import type { Genesis } from '../core/genesis.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import { evidenceRecord } from '../timestamp/ers.ts';
import { parsePemCertificates } from '../timestamp/x509.ts';
import { archiveAt, documentArchive } from './document-archive.ts';
import { ReceiptError, ReceiptErrorCode } from './errors.ts';
import { ledgerHashRenewal } from './hash-renewals.ts';

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
 * The DER evidence record of the evidence tx `env` committed at `height`: the archive's chain, and once an
 * anchor has stamped the document's hash-tree renewal, that chain frozen as it was before the stamping anchor
 * followed by the new chain under the stronger hash (ADR 018). Throws RECEIPT_NOT_ARCHIVED while no archive
 * timestamp covers it (see `evidenceRecordFor`). Receipts (v4) carry the same bytes.
 */
export async function archiveRecordOf(
  queries: LedgerQueries,
  genesis: Genesis,
  env: TxEnvelope,
  height: number,
  revocation: Revocation = {},
): Promise<Uint8Array> {
  const doc = await documentArchive(queries, env, height);
  const renewed = await ledgerHashRenewal(queries, env.hash, doc);
  const archive = renewed?.archive ?? (await archiveAt(queries, doc));
  const anchors =
    genesis.tsa.trustAnchors.length === 0
      ? []
      : parsePemCertificates(genesis.tsa.trustAnchors.join('\n'), 'genesis TSA trust anchors');
  return evidenceRecord(
    doc.hash,
    archive,
    anchors.map((c) => c.der),
    revocation.crls ?? [],
    renewed === undefined ? [] : [renewed.chain],
  );
}
