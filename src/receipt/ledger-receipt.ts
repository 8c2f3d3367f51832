/**
 * Builds an evidence receipt from the ledger: the tx, its block, certificate and inclusion proof, and, once
 * an anchor covers the block, the anchor's token with the header chain from the block up to the anchored
 * one. The node serves these; `verifyReceipt` checks them offline.
 */
import { invariant, JrError } from '../core/errors.ts';
import type { Genesis } from '../core/genesis.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import { describeTimestamp } from '../timestamp/index.ts';
import { buildReceipt, type ReceiptJson } from './receipt.ts';

export const ReceiptErrorCode = {
  /** Receipts prove evidence; the tx asked for is of another type (an anchor). */
  notEvidence: 'RECEIPT_NOT_EVIDENCE',
} as const;
export type ReceiptErrorCode = (typeof ReceiptErrorCode)[keyof typeof ReceiptErrorCode];

export class ReceiptError extends JrError {
  declare readonly code: ReceiptErrorCode;
  constructor(code: ReceiptErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

/**
 * The receipt of the committed evidence tx `txHash`, or undefined when no such tx is committed. `anchor` is
 * null until an anchor covers the tx's block. Throws RECEIPT_NOT_EVIDENCE for a tx of another type.
 */
export async function receiptFor(
  queries: LedgerQueries,
  genesis: Genesis,
  txHash: Uint8Array,
): Promise<ReceiptJson | undefined> {
  const inclusion = await queries.inclusionProof(txHash);
  if (inclusion === undefined) return undefined;
  const { env, height } = inclusion.tx;
  if (env.tx.type !== 'evidence') {
    throw new ReceiptError(
      ReceiptErrorCode.notEvidence,
      `tx ${env.hashHex} is an ${env.tx.type} tx, not evidence`,
    );
  }
  const cover = await queries.anchorCovering(height);
  return buildReceipt({
    genesis,
    tx: env,
    header: inclusion.header,
    certificate: inclusion.cert,
    // The set that certified the block (ADR 006); the genesis set until governance changes it.
    validatorSet: queries.governance().epochAt(height).set,
    proof: inclusion.proof,
    anchor:
      cover === undefined
        ? undefined
        : {
            header: cover.header,
            headers: cover.headers,
            token: cover.record.token,
            genTime: genTimeOf(cover.record.token),
          },
  });
}

/** The executor verified the token before committing it, so reading its genTime needs no second check. */
function genTimeOf(token: Uint8Array): Date {
  const genTime = describeTimestamp(token).token?.genTime;
  invariant(genTime !== undefined, 'a committed anchor token has no genTime');
  return new Date(genTime);
}
