/**
 * Builds an evidence receipt from the ledger: the tx, its block, certificate and inclusion proof, every
 * governance tx before the block (with its block's header, certificate and its inclusion proof), and, once an
 * anchor covers the block, the anchor's token with the header chain from the block up to the anchored one.
 * The node serves these; `verifyReceipt` checks them offline.
 */
import { equalBytes } from '../core/bytes.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { invariant } from '../core/errors.ts';
import { type Genesis, genesisSuite } from '../core/genesis.ts';
import { inclusionProof } from '../core/merkle.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import { describeTimestamp } from '../timestamp/inspect.ts';
import { buildReceipt } from './build.ts';
import { ReceiptError, ReceiptErrorCode } from './errors.ts';
import { archiveRecordOf, type Revocation } from './ers-export.ts';
import type { GovernanceBlockParts, ReceiptJson } from './format.ts';

export { ReceiptError, ReceiptErrorCode };

/**
 * The receipt of the committed evidence tx `txHash`, or undefined when no such tx is committed. `anchor` is
 * null until an anchor covers the tx's block. Throws RECEIPT_NOT_EVIDENCE for a tx of another type.
 */
export async function receiptFor(
  queries: LedgerQueries,
  genesis: Genesis,
  txHash: Uint8Array,
  revocation: Revocation = {},
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
  const governance = await governanceBefore(queries, height, genesisSuite(genesis));
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
    governance,
    archive: await archiveOf(queries, genesis, env, height, revocation),
  });
}

/** The evidence record a v4 receipt carries, or undefined while no archive timestamp covers the evidence. */
async function archiveOf(...args: Parameters<typeof archiveRecordOf>): Promise<Uint8Array | undefined> {
  try {
    return await archiveRecordOf(...args);
  } catch (err) {
    if (err instanceof ReceiptError && err.code === ReceiptErrorCode.notArchived) return undefined;
    throw err;
  }
}

/**
 * Every committed governance tx below block `height`, grouped by block in chain order. Governance txs take
 * effect from the block after theirs (governance-state.ts), so those in the evidence's own block are left out.
 */
export async function governanceBefore(
  queries: LedgerQueries,
  height: number,
  suite: CryptoSuite = ED25519_SHA256,
): Promise<GovernanceBlockParts[]> {
  const out: GovernanceBlockParts[] = [];
  let current: { parts: GovernanceBlockParts; hashes: readonly Uint8Array[] } | undefined;
  for (const t of await queries.governanceTxs(height)) {
    if (current?.parts.header.height !== t.height) {
      const block = await queries.block(t.height);
      invariant(block !== undefined, `governance tx points at missing block ${t.height}`);
      current = { parts: { header: block.header, certificate: block.cert, txs: [] }, hashes: block.txHashes };
      out.push(current.parts);
    }
    invariant(
      equalBytes(current.hashes[t.index] ?? new Uint8Array(0), t.env.hash),
      `block ${t.height} does not list governance tx ${t.index} where the index says`,
    );
    current.parts.txs.push({ tx: t.env, proof: inclusionProof(current.hashes, t.index, suite) });
  }
  return out;
}

/** The executor verified the token before committing it, so reading its genTime needs no second check. */
function genTimeOf(token: Uint8Array): Date {
  const genTime = describeTimestamp(token).token?.genTime;
  invariant(genTime !== undefined, 'a committed anchor token has no genTime');
  return new Date(genTime);
}
