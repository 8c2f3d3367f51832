/**
 * The `governance` check: replays a receipt's governance blocks on the genesis registry, the way the executor
 * (ledger-chain.ts) applied them, to learn the validator set and client keys in force at the receipt's block
 * (ADR 006, docs/receipts.md "The governance replay").
 */
import { type BlockHeader, decodeCertificate, decodeHeader, verifyCommitCertificate } from '../core/block.ts';
import { equalBytes } from '../core/bytes.ts';
import type { CryptoSuite } from '../core/crypto-suite.ts';
import { JrError } from '../core/errors.ts';
import { type Genesis, genesisSuite } from '../core/genesis.ts';
import { type InclusionProof, verifyInclusion } from '../core/merkle.ts';
import { parseTx, type TxEnvelope } from '../core/tx.ts';
import { validatorSetHash } from '../core/validators.ts';
import { type EpochInfo, GovernanceState } from '../ledger/governance-state.ts';
import { checkStateless, checkTime, validatorKeysOf } from '../ledger/rules.ts';
import { VerifiedSignatures } from '../ledger/sig-cache.ts';
import { type CheckResult, evaluate, passed, reject } from './check.ts';
import { ReceiptFailureCode as Failure } from './errors.ts';
import {
  countField,
  decodedField,
  hexField,
  listField,
  objectField,
  RECEIPT_OBJECT_FIELDS,
  shown,
} from './format.ts';

export interface ReplayedGovernance {
  /** The registry as of the block below `beforeHeight`: in force at `beforeHeight`. */
  state: GovernanceState;
  blocks: number;
  txs: number;
}

/**
 * Replays `blocks` (the receipt's `governance` field; absent means none) below `beforeHeight`: block by block
 * in chain order, each block's certificate checked against the validator set in force at its height, each
 * tx's inclusion against the header's txRoot, then judged by the executor's rules (checkStateless, checkTime)
 * and applied by `GovernanceState.apply` at the block's height and time, on a copy of the registry as of the
 * previous block. The detail says what was replayed and the epoch in force at `beforeHeight`.
 */
export function checkGovernance(
  g: Genesis,
  blocks: unknown,
  beforeHeight: number,
  binding: Uint8Array | null,
): CheckResult<ReplayedGovernance> {
  return evaluate(() => {
    const list = listField(blocks ?? [], 'governance');
    let state = GovernanceState.fromGenesis(g);
    let last = 0;
    let txs = 0;
    for (const [i, raw] of list.entries()) {
      const block = replayBlock(g, state, raw, `governance[${i}]`, { last, beforeHeight, binding });
      state = block.state;
      last = block.height;
      txs += block.txs;
    }
    const epoch = state.epochAt(beforeHeight).epoch;
    const s = (n: number) => (n === 1 ? '' : 's');
    return passed(
      { state, blocks: list.length, txs },
      txs === 0
        ? `no governance txs before block ${beforeHeight}; validator set and client keys of the genesis`
        : `${txs} governance tx${s(txs)} in ${list.length} block${s(list.length)} replayed; validator set of epoch ${epoch}`,
    );
  });
}

/** One governance block: its header and certificate against the registry so far, then its txs applied. */
function replayBlock(
  g: Genesis,
  state: GovernanceState,
  raw: unknown,
  at: string,
  bounds: { last: number; beforeHeight: number; binding: Uint8Array | null },
): { state: GovernanceState; height: number; txs: number } {
  const b = objectField(raw, at, RECEIPT_OBJECT_FIELDS.governanceBlock);
  const header = decodedField(b.header, `${at}.header`, decodeHeader);
  if (header.chainId !== g.chainId) reject(Failure.wrongChain, `${at}: header is for another chain`);
  if (header.height !== b.height) reject(Failure.heightMismatch, `${at}.height does not match its header`);
  if (header.height <= bounds.last) {
    reject(
      Failure.outOfOrder,
      `${at}: block ${header.height} does not come after block ${bounds.last} (governance blocks must be listed once each, in chain order)`,
    );
  }
  if (header.height >= bounds.beforeHeight) {
    reject(
      Failure.outOfOrder,
      `${at}: block ${header.height} is not below the evidence's block ${bounds.beforeHeight}`,
    );
  }
  const epoch = state.epochAt(header.height);
  const suite = genesisSuite(g);
  certifiedByEpoch(header, b.certificate, epoch, bounds.binding, at, suite);
  const txs = listField(b.txs, `${at}.txs`);
  if (txs.length === 0) reject(Failure.malformed, `${at} lists no governance txs`);
  // Every tx's place first (so a reordered list is named as such), then the rules and effects in order.
  const envs = provenTxs(txs, header, at, suite);
  return { state: applyBlock(g, state, epoch, header, envs, at), height: header.height, txs: envs.length };
}

function certifiedByEpoch(
  header: BlockHeader,
  certField: unknown,
  epoch: EpochInfo,
  binding: Uint8Array | null,
  at: string,
  suite: CryptoSuite,
): void {
  if (!equalBytes(header.validatorSetHash, validatorSetHash(epoch.set, suite))) {
    reject(
      Failure.validatorSetMismatch,
      `${at}: block ${header.height} names another validator set than that of epoch ${epoch.epoch}, which ` +
        'the governance txs listed before it put in force (a governance block is missing)',
    );
  }
  const cert = decodedField(certField, `${at}.certificate`, decodeCertificate);
  try {
    verifyCommitCertificate(cert, header, epoch.set, binding, suite);
  } catch (err) {
    if (!(err instanceof JrError)) throw err;
    reject(
      Failure.badCertificate,
      `${at}: the certificate of block ${header.height} does not verify against the validator set of ` +
        `epoch ${epoch.epoch}: ${err.message}`,
    );
  }
}

/** The block's governance txs, each a governance tx proven at its leaf, listed in increasing leaf order. */
function provenTxs(txs: unknown[], header: BlockHeader, at: string, suite: CryptoSuite): TxEnvelope[] {
  let lastIndex = -1;
  return txs.map((raw, j) => {
    const tat = `${at}.txs[${j}]`;
    const t = objectField(raw, tat, RECEIPT_OBJECT_FIELDS.governanceTx);
    const env = decodedField(t.tx, `${tat}.tx`, (bytes) => parseTx(bytes, suite));
    if (env.tx.type !== 'governance')
      reject(Failure.wrongTxType, `${tat} is an ${env.tx.type} tx, not governance`);
    if (!Number.isSafeInteger(t.leafIndex) || (t.leafIndex as number) <= lastIndex) {
      reject(
        Failure.outOfOrder,
        `${tat}: leaf index ${shown(t.leafIndex)} does not come after ${lastIndex} (txs must be listed in block order)`,
      );
    }
    lastIndex = countField(t.leafIndex, `${tat}.leafIndex`);
    const proof: InclusionProof = {
      leafIndex: lastIndex,
      treeSize: header.txCount,
      path: listField(t.path, `${tat}.path`).map((p, k) => hexField(p, `${tat}.path[${k}]`)),
    };
    if (!verifyInclusion(env.hash, proof, header.txRoot, suite)) {
      reject(
        Failure.badInclusion,
        `${tat}: the Merkle proof of governance tx ${env.hashHex} does not lead to the txRoot of block ${header.height}`,
      );
    }
    return env;
  });
}

/**
 * As in the executor: the rules see the registry as of the previous block; the block's txs apply in order to
 * one copy of it, which becomes the registry from the next block on. A tx the executor would refuse fails.
 */
function applyBlock(
  g: Genesis,
  state: GovernanceState,
  epoch: EpochInfo,
  header: BlockHeader,
  envs: TxEnvelope[],
  at: string,
): GovernanceState {
  const ctx = {
    chainId: g.chainId,
    keys: state.clientKeys(),
    validatorKeys: validatorKeysOf(epoch.set),
    verified: new VerifiedSignatures(0),
    remember: false,
    countVerify: () => {},
    suite: genesisSuite(g),
  };
  const next = state.clone();
  for (const [j, env] of envs.entries()) {
    const tat = `${at}.txs[${j}]`;
    const verdict = checkStateless(env, ctx);
    if ('code' in verdict) reject(Failure.txRejected, `${tat}: ${verdict.code}: ${verdict.message}`);
    if (verdict.type !== 'governance') reject(Failure.wrongTxType, `${tat} is not a governance tx`);
    const rejection =
      checkTime(env, header.time) ?? next.apply(env, verdict.governance, header.height, header.time);
    if (rejection !== undefined) {
      reject(
        Failure.txRejected,
        `${tat}: governance tx ${env.hashHex} does not apply at block ${header.height}: ${rejection.code}: ${rejection.message}`,
      );
    }
  }
  return next;
}
