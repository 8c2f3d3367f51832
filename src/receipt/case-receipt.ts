/**
 * Case receipts (docs/cases.md#case-receipts): one document proving a dispute case's timeline, offline, from
 * the genesis alone. It carries every event's tx with its block header, commit certificate, validator set and
 * inclusion proof, and the governance txs before the last event's block (roles and keys in force). This module
 * builds it from the ledger; case-verify.ts checks it.
 */
import { encodeCertificate, encodeHeader, headerHash } from '../core/block.ts';
import { toHex } from '../core/bytes.ts';
import { ED25519_SHA256, type SuiteName } from '../core/crypto-suite.ts';
import { invariant } from '../core/errors.ts';
import { type Genesis, genesisHash, genesisSuite } from '../core/genesis.ts';
import { encodeValidatorSet } from '../core/validators.ts';
import type { CaseState } from '../ledger/case-machine.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import { governanceJson } from './build.ts';
import { ReceiptError, ReceiptErrorCode } from './errors.ts';
import {
  b64,
  type ReceiptBlockJson,
  type ReceiptGovernanceBlockJson,
  type ReceiptInclusionJson,
} from './format.ts';
import { governanceBefore } from './ledger-receipt.ts';

/** Case receipts whose certificates sign the chain id alone (before ADR 010). */
export const CASE_RECEIPT_FORMAT_V1 = 'jrchain-case-receipt/v1';
/** Case receipts whose certificates sign the genesis hash (ADR 010); the format built. */
export const CASE_RECEIPT_FORMAT = 'jrchain-case-receipt/v2';

export interface CaseReceiptEventJson {
  txHash: string;
  /** The canonical signed case tx, base64. */
  tx: string;
  block: ReceiptBlockJson;
  inclusion: ReceiptInclusionJson;
  certificate: string;
  validatorSet: string;
}

export interface CaseReceiptSummary {
  caseId: string;
  status: string;
  respondent: string;
  mediator: string | null;
  court: string | null;
  claimantCommitment: string;
  events: { event: string; institution: string; height: number; blockTime: string; txHash: string }[];
}

export interface CaseReceiptJson {
  format: typeof CASE_RECEIPT_FORMAT;
  chainId: string;
  /** The chain's crypto suite (ADR 014), only when not the default, as in evidence receipts. */
  cryptoSuite?: SuiteName;
  genesisHash: string;
  caseId: string;
  /** Governance blocks below the last event's block (as in evidence receipts); empty when there were none. */
  governance: ReceiptGovernanceBlockJson[];
  events: CaseReceiptEventJson[];
  summary: CaseReceiptSummary;
}

/** The human-readable facts of a case's state; the verifier recomputes them from the replayed events. */
export function caseSummaryOf(c: CaseState): CaseReceiptSummary {
  return {
    caseId: c.caseId,
    status: c.status,
    respondent: c.respondent,
    mediator: c.mediator ?? null,
    court: c.court ?? null,
    claimantCommitment: toHex(c.claimant),
    events: c.events.map((e) => ({
      event: e.type,
      institution: e.institution,
      height: e.height,
      blockTime: new Date(e.time).toISOString(),
      txHash: toHex(e.txHash),
    })),
  };
}

/** The receipt of case `caseId` as of the head. Throws RECEIPT_NO_CASE when no case tx opened the id. */
export async function caseReceiptFor(
  queries: LedgerQueries,
  genesis: Genesis,
  caseId: string,
): Promise<CaseReceiptJson> {
  const state = await queries.case(caseId);
  if (state === undefined) throw new ReceiptError(ReceiptErrorCode.noCase, `no case ${caseId}`);
  const suite = genesisSuite(genesis);
  const events: CaseReceiptEventJson[] = [];
  for (const e of state.events) {
    const inc = await queries.inclusionProof(e.txHash);
    invariant(inc !== undefined, `case ${caseId} names tx ${toHex(e.txHash)}, which is not committed`);
    events.push({
      txHash: inc.tx.env.hashHex,
      tx: b64(inc.tx.env.bytes),
      block: {
        height: inc.header.height,
        hash: toHex(headerHash(inc.header, suite)),
        header: b64(encodeHeader(inc.header)),
      },
      inclusion: {
        leafIndex: inc.proof.leafIndex,
        treeSize: inc.proof.treeSize,
        path: inc.proof.path.map(toHex),
      },
      certificate: b64(encodeCertificate(inc.cert)),
      validatorSet: b64(encodeValidatorSet(queries.governance().epochAt(inc.header.height).set, suite)),
    });
  }
  const last = state.events[state.events.length - 1]!.height;
  const governance = governanceJson(await governanceBefore(queries, last));
  return {
    format: CASE_RECEIPT_FORMAT,
    chainId: genesis.chainId,
    ...(suite === ED25519_SHA256 ? {} : { cryptoSuite: suite.name }),
    genesisHash: toHex(genesisHash(genesis)),
    caseId,
    governance,
    events,
    summary: caseSummaryOf(state),
  };
}
